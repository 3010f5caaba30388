# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles and their instance profile (module_utils/iam_role.py), with botocore's Stubber behind the retrying wrapper."""

import datetime
import json

import pytest
from botocore.stub import ANY

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import caller
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_principal
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_role

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
SERVER = iam_policies.AGENT_POLICIES["server"]
OWNER = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
ROOT_IDENTITY = {"UserId": "123456789012", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}


def role(name="CloudWatchAgentServerRole", tags=None, **extra):
    data = {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROAEXAMPLEEXAMPLE1",
        "Arn": f"arn:aws:iam::123456789012:role/{name}",
        "CreateDate": NOW,
        "AssumeRolePolicyDocument": json.dumps(agent_identity.EC2_TRUST_POLICY),
        "MaxSessionDuration": 3600,
        "Tags": OWNER if tags is None else tags,
    }
    data.update(extra)
    return data


def profile(name="CloudWatchAgentServerRole", roles=("CloudWatchAgentServerRole",), tags=None):
    return {
        "Path": "/",
        "InstanceProfileName": name,
        "InstanceProfileId": "AIPAEXAMPLEEXAMPLE1",
        "Arn": f"arn:aws:iam::123456789012:instance-profile/{name}",
        "CreateDate": NOW,
        "Roles": [role(r) for r in roles],
        "Tags": OWNER if tags is None else tags,
    }


def role_spec(**kwargs):
    kwargs.setdefault("name", "CloudWatchAgentServerRole")
    kwargs.setdefault("instance_profile", kwargs["name"])
    kwargs.setdefault("required_policies", [SERVER])
    return iam_principal.RoleSpec(trust_policy=agent_identity.EC2_TRUST_POLICY, **kwargs)


def test_create_role_with_profile(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_client_error("get_instance_profile", "NoSuchEntity")
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    stub.add_response(
        "create_role",
        {"Role": role()},
        {
            "RoleName": "CloudWatchAgentServerRole",
            "Path": "/",
            "AssumeRolePolicyDocument": json.dumps(agent_identity.EC2_TRUST_POLICY),
            "Tags": [{"Key": "team", "Value": "obs"}, {"Key": "managed-by", "Value": "observability.cloudwatch"}],
            "Description": "agent",
        },
    )
    stub.add_response("attach_role_policy", {}, {"RoleName": "CloudWatchAgentServerRole", "PolicyArn": SERVER})
    stub.add_response(
        "create_instance_profile",
        {"InstanceProfile": profile(roles=())},
        {"InstanceProfileName": "CloudWatchAgentServerRole", "Path": "/", "Tags": ANY},
    )
    stub.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": "CloudWatchAgentServerRole", "RoleName": "CloudWatchAgentServerRole"})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})

    result = iam_role.ensure_role_present(client, caller.Caller(sts), role_spec(tags={"team": "obs"}, default_description="agent"))
    assert result["changed"] is True
    assert result["role"]["arn"] == "arn:aws:iam::123456789012:role/CloudWatchAgentServerRole"
    assert result["role"]["role_id"] == "AROAEXAMPLEEXAMPLE1"
    assert result["role"]["attached_policies"] == [SERVER]
    assert result["role"]["tags"] == {"team": "obs", "managed-by": "observability.cloudwatch"}
    assert result["instance_profile"]["roles"] == ["CloudWatchAgentServerRole"]
    assert result["diff"]["before"] == {"role": None, "instance_profile": None}
    assert len(result["changes"]) == 4


def test_noop_reads_three_times_and_never_asks_who_calls(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "p", "PolicyArn": SERVER}]})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    result = iam_role.ensure_role_present(client, caller.Caller(sts), role_spec())
    assert result["changed"] is False and result["changes"] == [] and result["warnings"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_role_without_instance_profile_returns_no_profile_key(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "p", "PolicyArn": SERVER}]})
    result = iam_role.ensure_role_present(client, caller.Caller(sts), role_spec(instance_profile=None))
    assert result["changed"] is False
    assert "instance_profile" not in result
    assert result["diff"]["before"] == result["diff"]["after"] and list(result["diff"]["before"]) == ["role"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_root_guard_trips_before_any_write(stubs, check_mode):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", ROOT_IDENTITY)
    with pytest.raises(AnsibleIAMError) as error:
        iam_role.ensure_role_present(client, caller.Caller(sts), role_spec(), check_mode=check_mode)
    assert "root user's credentials" in error.value.message and "Create an administrator" in error.value.message


def test_root_allowed_with_allow_root(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", ROOT_IDENTITY)
    stub.add_response("attach_role_policy", {}, {"RoleName": "CloudWatchAgentServerRole", "PolicyArn": SERVER})
    result = iam_role.ensure_role_present(client, caller.Caller(sts, allow_root=True), role_spec())
    assert result["changed"] is True and result["role"]["attached_policies"] == [SERVER]


def test_update_in_check_mode_writes_nothing_and_predicts(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role(Description="old")})
    stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": SERVER}, {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
    )
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    spec = role_spec(description="new", tags={"a": "1"}, max_session_duration=7200)
    result = iam_role.ensure_role_present(client, caller.Caller(sts), spec, check_mode=True)
    assert result["changed"] is True
    assert result["role"]["description"] == "new"
    assert result["role"]["max_session_duration"] == 7200
    assert result["role"]["attached_policies"] == [SERVER]
    assert result["role"]["tags"] == {"a": "1", "managed-by": "observability.cloudwatch"}
    assert result["instance_profile"]["tags"] == {"a": "1", "managed-by": "observability.cloudwatch"}
    assert result["diff"]["before"]["role"]["description"] == "old"


def test_profile_taken_by_another_role_fails_before_writing(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_response("get_instance_profile", {"InstanceProfile": profile(roles=("Other",))})
    with pytest.raises(AnsibleIAMError, match="already holds role Other"):
        iam_role.ensure_role_present(client, caller.Caller(sts), role_spec())


def test_absent_refuses_unowned_role(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_response("get_role", {"Role": role(tags=[])})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile(tags=[])})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    with pytest.raises(AnsibleIAMError, match="Refusing to delete role CloudWatchAgentServerRole"):
        iam_role.ensure_role_absent(client, caller.Caller(sts), role_spec())


def test_absent_deletes_in_order(stubs):
    client, stub, sts, sts_stub = stubs
    name = "CloudWatchAgentServerRole"
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyArn": SERVER}]})
    # An admin grant's deny policy goes with the role; an inline policy of someone else's stays (IAM then refuses).
    grant_policies = ["CloudWatchAgentAdminGrantExpiry", "SomeoneElses"]
    stub.add_response("list_role_policies", {"PolicyNames": grant_policies, "IsTruncated": False}, {"RoleName": name})
    stub.add_response("list_instance_profiles_for_role", {"InstanceProfiles": [profile()]})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    stub.add_response("detach_role_policy", {}, {"RoleName": name, "PolicyArn": SERVER})
    stub.add_response("delete_role_policy", {}, {"RoleName": name, "PolicyName": "CloudWatchAgentAdminGrantExpiry"})
    stub.add_response("remove_role_from_instance_profile", {}, {"InstanceProfileName": name, "RoleName": name})
    stub.add_response("delete_instance_profile", {}, {"InstanceProfileName": name})
    stub.add_response("delete_role", {}, {"RoleName": name})
    result = iam_role.ensure_role_absent(client, caller.Caller(sts), role_spec())
    assert result["changed"] is True
    assert result["role"] is None and result["instance_profile"] is None


def _trust_for(count):
    principals = [f"arn:aws:iam::123456789012:role/shipper-{i:03d}" for i in range(count)]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]}


def test_documents_past_iams_sizes_fail_after_the_reads_and_before_any_write(stubs):
    client, stub, sts, _sts_stub = stubs
    # An existing role: a trust policy over 2,048 characters (without white space).
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "p", "PolicyArn": SERVER}]})
    spec = role_spec(instance_profile=None)
    spec.trust_policy = _trust_for(50)
    with pytest.raises(AnsibleIAMError) as error:
        iam_role.ensure_role_present(client, caller.Caller(sts), spec)
    assert error.value.message.startswith("trust policy of the role comes to") and "IAM allows 2048" in error.value.message
    # A new role: inline policies over 10,240 characters together.
    stub.add_client_error("get_role", "NoSuchEntity")
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "r" * 5200}]}
    spec = role_spec(instance_profile=None, inline_policies={"one": big, "two": big})
    with pytest.raises(AnsibleIAMError) as error:
        iam_role.ensure_role_present(client, caller.Caller(sts), spec)
    assert "inline policies (one, two) of the role" in error.value.message and "IAM allows 10240" in error.value.message
    stub.assert_no_pending_responses()
