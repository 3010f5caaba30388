# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identities the collection did not create (module_utils/iam_adoption.py), through the role and user planners."""

import datetime
import json

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import caller as caller_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_adoption
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_principal
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_role
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_user
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import KeySpec
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
NAME = "CloudWatchAgentServerRole"
SERVER = iam_policies.AGENT_POLICIES["server"]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
OWNER = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]
IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
OPERATOR = "arn:aws:iam::123456789012:role/Operator"
OPERATOR_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": OPERATOR}, "Action": "sts:AssumeRole"}]}


def existing_role(tags):
    return {
        "Path": "/", "RoleName": NAME, "RoleId": "AROAEXAMPLEEXAMPLE1", "Arn": f"arn:aws:iam::123456789012:role/{NAME}", "CreateDate": NOW,
        "AssumeRolePolicyDocument": json.dumps(OPERATOR_TRUST), "MaxSessionDuration": 3600, "Tags": tags,
    }


def spec(**kwargs):
    return iam_principal.RoleSpec(
        NAME, trust_policy=agent_identity.EC2_TRUST_POLICY, required_policies=[SERVER], instance_profile=kwargs.pop("profile", None), **kwargs
    )


def reads(stub, tags, attached=(ADMIN,), profile=None):
    stub.add_response("get_role", {"Role": existing_role(tags)})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyArn": a, "PolicyName": a.rsplit("/", 1)[1]} for a in attached]})
    if profile is not None:
        stub.add_response("get_instance_profile", {"InstanceProfile": profile})


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_unowned_role_is_refused_after_reads_only(stubs, check_mode):
    client, stub, sts, _sts_stub = stubs
    reads(stub, tags=[{"Key": "team", "Value": "ops"}])
    with pytest.raises(AnsibleIAMError) as e:
        iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(), check_mode=check_mode)
    message = e.value.message
    assert message.startswith(f"Role {NAME} already exists and was not created by this collection")
    assert "managed-by=observability.cloudwatch" in message and "Nothing was changed" in message
    assert "adopt=true" in message and "cloudwatch_iam_adopt: true" in message
    assert "replace_trust_policy=true" in message


def test_an_adopted_role_gets_its_policies_but_keeps_its_trust(stubs):
    client, stub, sts, sts_stub = stubs
    reads(stub, tags=[])
    sts_stub.add_response("get_caller_identity", IDENTITY)
    result = iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(adopt=True), check_mode=True)
    assert result["changes"] == [f"attach {SERVER} to role {NAME}", f"detach {ADMIN} from role {NAME}"]
    assert result["role"]["assume_role_policy_document"] == OPERATOR_TRUST
    kept, adopted = [w for w in result["warnings"] if "trust policy is kept" in w], [w for w in result["warnings"] if "adopt=true" in w]
    assert kept == [
        f"Role {NAME} was adopted (adopt=true) and its trust policy is kept: it trusts AWS {OPERATOR}, where the module would "
        "trust Service ec2.amazonaws.com. Set replace_trust_policy=true to replace it."
    ]
    assert adopted and "state=absent will not delete it" in adopted[0]


def test_an_adopted_role_trust_is_replaced_on_request(stubs):
    client, stub, sts, sts_stub = stubs
    reads(stub, tags=[], attached=[SERVER])
    sts_stub.add_response("get_caller_identity", IDENTITY)
    result = iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(adopt=True, replace_trust_policy=True), check_mode=True)
    assert result["changes"] == [f"update trust policy of role {NAME}"]
    assert result["role"]["assume_role_policy_document"] == agent_identity.EC2_TRUST_POLICY


def test_an_owned_role_trust_is_reconciled_without_a_warning(stubs):
    client, stub, sts, sts_stub = stubs
    reads(stub, tags=OWNER, attached=[SERVER])
    sts_stub.add_response("get_caller_identity", IDENTITY)
    result = iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(), check_mode=True)
    assert result["changes"] == [f"update trust policy of role {NAME}"]
    assert result["warnings"] == []


def test_an_unowned_instance_profile_is_refused_unless_adopted(stubs):
    client, stub, sts, sts_stub = stubs
    empty_profile = {
        "Path": "/", "InstanceProfileName": NAME, "InstanceProfileId": "AIPAEXAMPLEEXAMPLE1", "Arn": f"arn:aws:iam::123456789012:instance-profile/{NAME}",
        "CreateDate": NOW, "Roles": [], "Tags": [],
    }
    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_response("get_instance_profile", {"InstanceProfile": empty_profile})
    with pytest.raises(AnsibleIAMError, match=f"Instance profile {NAME} already exists .* the role is then added to it"):
        iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(profile=NAME), check_mode=True)

    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_response("get_instance_profile", {"InstanceProfile": empty_profile})
    sts_stub.add_response("get_caller_identity", IDENTITY)
    result = iam_role.ensure_role_present(client, caller_identity.Caller(sts), spec(profile=NAME, adopt=True), check_mode=True)
    assert f"add role {NAME} to instance profile {NAME}" in result["changes"]
    assert any(w.startswith(f"Instance profile {NAME} exists without the tag") for w in result["warnings"])


def test_an_unowned_user_is_refused_before_its_key_store_is_read(stubs):
    client, stub, sts, _sts_stub = stubs

    class Store:
        def read(self, *args):
            raise AssertionError("the store was read")

        check_writable = read

    user = {
        "Path": "/", "UserName": "hand-made", "UserId": "AIDAEXAMPLEEXAMPLE1", "Arn": "arn:aws:iam::123456789012:user/hand-made",
        "CreateDate": NOW, "Tags": [],
    }
    stub.add_response("get_user", {"User": user})
    stub.add_response("list_attached_user_policies", {"AttachedPolicies": []})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": []})
    keys = KeySpec("present", store=Store())
    with pytest.raises(AnsibleIAMError, match="User hand-made already exists and was not created by this collection"):
        iam_user.ensure_user_present(client, caller_identity.Caller(sts), iam_principal.UserSpec("hand-made", required_policies=[SERVER]), keys)


def test_foreign_policies_leave_out_the_collection_s_own():
    foreign = iam_adoption.find_foreign_policies(
        [SERVER, ADMIN], lambda arn: arn == SERVER, ["cloudwatch-exporter", "CloudWatchAgentAdminGrantExpiry", "extra"], {"cloudwatch-exporter": {}}
    )
    assert foreign == {"attached": [ADMIN], "inline": ["extra"]}


def exporter_plan(purge):
    user_spec = iam_principal.UserSpec("exporter", inline_policies={"cloudwatch-exporter": {}}, purge_policies=purge, report_foreign=True)
    plan = Plan({"user": {"tags": {}}})
    state = {"attached": [ADMIN], "inline_names": ["cloudwatch-exporter", "extra"]}
    iam_adoption.plan_foreign_policies(plan, None, user_spec, state)
    return plan


def test_foreign_policies_are_reported_with_a_warning():
    plan = exporter_plan(purge=False)
    assert not plan.changed
    assert plan.before["foreign_policies"] == plan.after["foreign_policies"] == {"attached": [ADMIN], "inline": ["extra"]}
    assert plan.warnings == [
        f"The user exporter is not CloudWatch-only: it also holds policies this collection did not put there (attached {ADMIN}, "
        "inline extra). Set purge_policies=true to remove them."
    ]


def test_foreign_inline_policies_are_deleted_with_purge():
    plan = exporter_plan(purge=True)
    assert plan.changes == ["delete inline policy extra of user exporter"]
    assert plan.after["foreign_policies"] == {"attached": [], "inline": []}
    assert plan.warnings == []


def test_trust_principals_names_each_principal():
    document = {"Statement": [{"Principal": {"AWS": ["arn:a", "arn:b"], "Federated": "arn:oidc"}}, {"Principal": {"Service": "ec2.amazonaws.com"}}]}
    assert iam_adoption.trust_principals(document) == "AWS arn:a, AWS arn:b, Federated arn:oidc, Service ec2.amazonaws.com"
    assert iam_adoption.trust_principals({}) == "nobody"
