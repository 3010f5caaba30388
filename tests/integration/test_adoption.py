# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles, users and instance profiles the collection did not create, against the moto server.

A role made by hand from AWS's documentation, with AdministratorAccess and trusted by another role, is left
exactly as it was unless the task says adopt=true; adopted, its trust is kept unless replace_trust_policy=true.
An exporter's foreign policies are reported, and removed with purge_policies=true.
"""

import json

import botocore.exceptions
import pytest
import yaml

import iam_eval  # from tests/tools (pytest.ini pythonpath)
from local_aws import operation_counts  # from tests/tools (pytest.ini pythonpath)

# The exporter writes to one log group (an exporter without one is refused).
LOGS = ["/exporters/adoption"]
ROLE, USER, EXPORTER = (f"observability.cloudwatch.{m}" for m in ("agent_iam_role", "agent_iam_user", "exporter_access"))
ACCOUNT = "123456789012"
SERVER_ROLE = "CloudWatchAgentServerRole"
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SERVER_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/Operator"
OPERATOR_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": OPERATOR}, "Action": "sts:AssumeRole"}]}
EC2 = {"Service": "ec2.amazonaws.com"}
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": EC2, "Action": "sts:AssumeRole"}]}
EXTRA_INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
OWNER_TAG = "managed-by=observability.cloudwatch"
TRUSTED = [f"arn:aws:iam::{ACCOUNT}:role/shipper"]


def snapshot(aws):
    return iam_eval.account_snapshot(aws.client)


def writes(calls):
    return {op: n for op, n in operation_counts(calls).items() if not op.startswith(("Get", "List"))}


def seed_admin_role(iam, name=SERVER_ROLE):
    """The role as many create it by hand, but powerful and trusted by another role."""
    if name == SERVER_ROLE or "Operator" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="Operator", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(OPERATOR_TRUST), Tags=[{"Key": "team", "Value": "ops"}])
    iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN_ACCESS)
    iam.put_role_policy(RoleName=name, PolicyName="ops-extra", PolicyDocument=json.dumps(EXTRA_INLINE))


def trust_of(iam, name):
    return iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]


def run_tasks(ansible, tmp_path, tasks):
    """One playbook of tasks that may fail: ``tasks`` is a list of (name, module, args, check_mode)."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": name, module: args, "check_mode": check, "ignore_errors": True} for name, module, args, check in tasks],
        }
    ]
    path = tmp_path / "tasks.yml"
    path.write_text(yaml.safe_dump(play))
    return ansible.playbook(path)


def assert_refused(result, resource, name):
    assert result.get("failed") is True, result
    message = result["msg"]
    assert f"{resource} {name} already exists and was not created by this collection" in message
    assert OWNER_TAG in message and "Nothing was changed" in message
    # How to proceed, for the module and for the role.
    assert "set adopt=true" in message and "cloudwatch_iam_adopt: true" in message
    assert result.get("changed") is not True


def test_a_hand_made_admin_role_is_left_exactly_as_it_was(aws, ansible, tmp_path):
    iam = aws.client("iam")
    seed_admin_role(iam)
    before = snapshot(aws)
    tasks = [
        ("check", ROLE, {"purpose": "server"}, True),
        ("apply", ROLE, {"purpose": "server"}, False),
        ("replace without adopt", ROLE, {"purpose": "server", "replace_trust_policy": True, "instance_profile": False}, False),
    ]
    with aws.record() as calls:
        run = run_tasks(ansible, tmp_path, tasks)
    for name, *_rest in tasks:
        assert_refused(run.result(name), "Role", SERVER_ROLE)
    message = run.result("apply")["msg"]
    assert "its trust policy is kept unless you also set replace_trust_policy=true" in message
    assert "cloudwatch_iam_replace_trust_policy: true" in message
    assert writes(calls) == {}
    assert snapshot(aws) == before
    assert trust_of(iam, SERVER_ROLE) == OPERATOR_TRUST
    assert sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=SERVER_ROLE)["AttachedPolicies"]) == [ADMIN_ACCESS]
    assert iam.list_role_policies(RoleName=SERVER_ROLE)["PolicyNames"] == ["ops-extra"]
    assert iam.list_role_tags(RoleName=SERVER_ROLE)["Tags"] == [{"Key": "team", "Value": "ops"}]
    with pytest.raises(botocore.exceptions.ClientError, match="NoSuchEntity"):
        iam.get_instance_profile(InstanceProfileName=SERVER_ROLE)


def test_an_adopted_role_keeps_its_trust_unless_replaced(aws, ansible):
    iam = aws.client("iam")
    seed_admin_role(iam)
    before = snapshot(aws)

    check = ansible.module(ROLE, {"purpose": "server", "adopt": True}, check=True)
    assert check["changed"] is True
    assert check["role"]["attached_policies"] == [SERVER_POLICY]
    assert check["role"]["assume_role_policy_document"] == OPERATOR_TRUST
    assert snapshot(aws) == before

    adopted = ansible.module(ROLE, {"purpose": "server", "adopt": True})
    assert adopted["changed"] is True
    assert sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=SERVER_ROLE)["AttachedPolicies"]) == [SERVER_POLICY]
    assert iam.list_role_policies(RoleName=SERVER_ROLE)["PolicyNames"] == ["ops-extra"], "an agent role's inline policies are not managed"
    assert trust_of(iam, SERVER_ROLE) == OPERATOR_TRUST
    assert iam.list_role_tags(RoleName=SERVER_ROLE)["Tags"] == [{"Key": "team", "Value": "ops"}], "the owner tag is not added"
    kept = [w for w in adopted["warnings"] if "trust policy is kept" in w]
    assert kept and f"AWS {OPERATOR}" in kept[0] and "Service ec2.amazonaws.com" in kept[0] and "replace_trust_policy=true" in kept[0]
    assert any(f"Role {SERVER_ROLE} exists without the tag {OWNER_TAG} and is managed because adopt=true" in w for w in adopted["warnings"])
    profile = iam.get_instance_profile(InstanceProfileName=SERVER_ROLE)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [SERVER_ROLE]

    again = ansible.module(ROLE, {"purpose": "server", "adopt": True})
    assert again["changed"] is False and any("trust policy is kept" in w for w in again["warnings"])

    replaced = ansible.module(ROLE, {"purpose": "server", "adopt": True, "replace_trust_policy": True})
    assert replaced["changed"] is True
    assert replaced["changes"] == [f"update trust policy of role {SERVER_ROLE}"]
    assert trust_of(iam, SERVER_ROLE)["Statement"][0]["Principal"] == EC2
    assert not any("trust policy is kept" in w for w in replaced["warnings"])

    refused = ansible.module(ROLE, {"purpose": "server", "state": "absent"}, expect_failure=True)
    assert f"Refusing to delete role {SERVER_ROLE}" in refused["msg"]


def test_unowned_users_and_exporter_identities_are_refused(aws, ansible, tmp_path):
    iam = aws.client("iam")
    iam.create_user(UserName="hand-made", Tags=[{"Key": "team", "Value": "ops"}])
    iam.attach_user_policy(UserName="hand-made", PolicyArn=ADMIN_ACCESS)
    seed_admin_role(iam, name="hand-made-exporter")
    before = snapshot(aws)
    store = f"file:{tmp_path}/key.json"
    tasks = [
        ("agent user", USER, {"name": "hand-made", "purpose": "server", "access_key_state": "present", "access_key_store": store}, False),
        ("agent user check", USER, {"name": "hand-made", "purpose": "server"}, True),
        ("exporter user", EXPORTER, {"name": "hand-made", "auth_method": "iam_user", "access_key_store": store, "log_group_names": LOGS}, False),
        ("exporter role", EXPORTER, {"name": "hand-made-exporter", "trusted_role_arns": TRUSTED, "log_group_names": LOGS}, False),
        ("exporter role check", EXPORTER, {"name": "hand-made-exporter", "trusted_role_arns": TRUSTED, "log_group_names": LOGS}, True),
    ]
    with aws.record() as calls:
        run = run_tasks(ansible, tmp_path, tasks)
    for name, _module, args, _check in tasks:
        resource = "Role" if "role" in name else "User"
        assert_refused(run.result(name), resource, args["name"])
    assert writes(calls) == {}
    assert snapshot(aws) == before
    assert not (tmp_path / "key.json").exists()


def exporter_foreign_drill(aws, ansible, args, kind):
    """An exporter identity holding a foreign attached and inline policy, and an admin grant's inline policy."""
    iam = aws.client("iam")
    attach, put, list_inline, list_attached = (
        (iam.attach_role_policy, iam.put_role_policy, iam.list_role_policies, iam.list_attached_role_policies)
        if kind == "role"
        else (iam.attach_user_policy, iam.put_user_policy, iam.list_user_policies, iam.list_attached_user_policies)
    )
    key = {"RoleName" if kind == "role" else "UserName": args["name"]}
    attach(PolicyArn=READ_ONLY, **key)
    put(PolicyName="extra", PolicyDocument=json.dumps(EXTRA_INLINE), **key)
    put(PolicyName="CloudWatchAgentAdminGrantExpiry", PolicyDocument=json.dumps(EXTRA_INLINE), **key)

    reported = ansible.module(EXPORTER, args)
    assert reported["changed"] is False
    assert reported["foreign_policies"] == {"attached": [READ_ONLY], "inline": ["extra"]}
    assert any(f"{kind} {args['name']} is not CloudWatch-only" in w and "purge_policies=true" in w for w in reported["warnings"])

    before = snapshot(aws)
    check = ansible.module(EXPORTER, dict(args, purge_policies=True), check=True, diff=True)
    assert check["changed"] is True
    assert check["foreign_policies"] == {"attached": [], "inline": []}
    assert check["diff"]["before"]["foreign_policies"] == {"attached": [READ_ONLY], "inline": ["extra"]}
    assert snapshot(aws) == before

    purged = ansible.module(EXPORTER, dict(args, purge_policies=True))
    assert purged["changed"] is True
    assert sorted(purged["changes"]) == sorted([f"detach {READ_ONLY} from {kind} {args['name']}", f"delete inline policy extra of {kind} {args['name']}"])
    assert list_attached(**key)["AttachedPolicies"] == []
    assert sorted(list_inline(**key)["PolicyNames"]) == ["CloudWatchAgentAdminGrantExpiry", "cloudwatch-exporter"]

    clean = ansible.module(EXPORTER, dict(args, purge_policies=True))
    assert clean["changed"] is False and clean["foreign_policies"] == {"attached": [], "inline": []}
    assert not any("CloudWatch-only" in w for w in clean.get("warnings", []))


def test_an_exporter_user_is_made_cloudwatch_only_on_request(aws, ansible, tmp_path):
    args = {"name": "exporter-user", "auth_method": "iam_user", "access_key_store": f"file:{tmp_path}/key.json", "log_group_names": LOGS}
    created = ansible.module(EXPORTER, args)
    assert created["foreign_policies"] == {"attached": [], "inline": []}
    with aws.record() as calls:
        assert ansible.module(EXPORTER, args)["changed"] is False
    # As the module's notes say: ListUserPolicies finds the inline policies that are not the collection's.
    assert operation_counts(calls) == {"GetUser": 2, "ListAttachedUserPolicies": 1, "GetUserPolicy": 1, "ListUserPolicies": 1, "ListAccessKeys": 1}
    exporter_foreign_drill(aws, ansible, args, "user")


def test_an_adopted_exporter_role_is_made_cloudwatch_only_on_request(aws, ansible):
    iam = aws.client("iam")
    seed_admin_role(iam, name="exporter-role")
    iam.detach_role_policy(RoleName="exporter-role", PolicyArn=ADMIN_ACCESS)
    iam.delete_role_policy(RoleName="exporter-role", PolicyName="ops-extra")
    args = {"name": "exporter-role", "trusted_role_arns": TRUSTED, "log_group_names": LOGS, "adopt": True}
    adopted = ansible.module(EXPORTER, args)
    assert adopted["changed"] is True, "the collection's policy is put on it"
    assert trust_of(iam, "exporter-role") == OPERATOR_TRUST
    assert any("trust policy is kept" in w and f"AWS {TRUSTED[0]}" in w for w in adopted["warnings"])
    exporter_foreign_drill(aws, ansible, args, "role")

    replaced = ansible.module(EXPORTER, dict(args, replace_trust_policy=True))
    assert replaced["changes"] == ["update trust policy of role exporter-role"]
    assert trust_of(iam, "exporter-role")["Statement"][0]["Principal"] == {"AWS": TRUSTED[0]}


def test_an_unowned_instance_profile_is_refused_unless_adopted(aws, ansible):
    iam = aws.client("iam")
    iam.create_instance_profile(InstanceProfileName=SERVER_ROLE)
    before = snapshot(aws)
    for check in (True, False):
        with aws.record() as calls:
            refused = ansible.module(ROLE, {"purpose": "server"}, check=check, expect_failure=True)
        assert_refused(refused, "Instance profile", SERVER_ROLE)
        assert "the role is then added to it" in refused["msg"]
        assert writes(calls) == {}
    assert snapshot(aws) == before

    adopted = ansible.module(ROLE, {"purpose": "server", "adopt": True})
    assert adopted["changed"] is True
    assert any(f"Instance profile {SERVER_ROLE} exists without the tag" in w for w in adopted["warnings"])
    profile = iam.get_instance_profile(InstanceProfileName=SERVER_ROLE)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [SERVER_ROLE]
    assert profile.get("Tags", []) == []


def test_the_iam_role_refuses_then_adopts_with_its_variables(aws, ansible):
    iam = aws.client("iam")
    seed_admin_role(iam)
    before = snapshot(aws)
    refused = ansible.playbook("observability.cloudwatch.iam", expect_failure=True)
    assert "cloudwatch_iam_adopt: true" in refused.output and SERVER_ROLE in refused.output
    assert snapshot(aws) == before

    adopted = ansible.playbook("observability.cloudwatch.iam", extra_vars={"cloudwatch_iam_adopt": True})
    assert adopted.stats["localhost"]["changed"] == 1
    assert trust_of(iam, SERVER_ROLE) == OPERATOR_TRUST

    ansible.playbook("observability.cloudwatch.iam", extra_vars={"cloudwatch_iam_adopt": True, "cloudwatch_iam_replace_trust_policy": True})
    assert trust_of(iam, SERVER_ROLE)["Statement"][0]["Principal"] == EC2
