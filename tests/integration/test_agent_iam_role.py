# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_iam_role against the moto server."""

from pathlib import Path

import yaml

from local_aws import operation_counts  # from tests/tools (pytest.ini pythonpath)

MODULE = "observability.cloudwatch.agent_iam_role"
PLAYBOOK = Path(__file__).parent / "playbooks" / "iam_agent_role.yml"
SERVER_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
ADMIN_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentAdminPolicy"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
OWNER = {"managed-by": "observability.cloudwatch"}
TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'


def attached(iam, role):
    return sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])


def test_four_step_drill_with_call_counts(aws, ansible):
    iam = aws.client("iam")
    extra = {"role_purpose": "server", "role_tags": {"team": "obs"}}

    with aws.record() as calls:
        check = ansible.playbook(PLAYBOOK, extra_vars=extra, check=True).result("Ensure the agent role")
    assert check["changed"] is True
    assert check["role"]["arn"] == "arn:aws:iam::123456789012:role/CloudWatchAgentServerRole"
    assert check["role"]["attached_policies"] == [SERVER_POLICY]
    assert check["instance_profile"]["roles"] == ["CloudWatchAgentServerRole"]
    assert iam.list_roles()["Roles"] == [] and iam.list_instance_profiles()["InstanceProfiles"] == []
    assert operation_counts(calls) == {"GetRole": 1, "GetInstanceProfile": 1, "GetCallerIdentity": 1}

    with aws.record() as calls:
        created = ansible.playbook(PLAYBOOK, extra_vars=extra).result("Ensure the agent role")
    assert created["changed"] is True
    assert operation_counts(calls) == {
        "GetRole": 1,
        "GetInstanceProfile": 2,
        "GetCallerIdentity": 1,
        "CreateRole": 1,
        "AttachRolePolicy": 1,
        "CreateInstanceProfile": 1,
        "AddRoleToInstanceProfile": 1,
    }
    role = iam.get_role(RoleName="CloudWatchAgentServerRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == dict(OWNER, team="obs")
    assert attached(iam, "CloudWatchAgentServerRole") == [SERVER_POLICY]
    profile = iam.get_instance_profile(InstanceProfileName="CloudWatchAgentServerRole")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["CloudWatchAgentServerRole"]
    assert created["role"]["arn"] == role["Arn"]
    assert created["role"]["role_id"] == role["RoleId"]
    assert created["instance_profile"]["arn"] == profile["Arn"]
    assert created["role"]["tags"] == dict(OWNER, team="obs")

    with aws.record() as calls:
        again = ansible.playbook(PLAYBOOK, extra_vars=extra, check=True).result("Ensure the agent role")
    assert again["changed"] is False
    assert operation_counts(calls) == {"GetRole": 1, "ListAttachedRolePolicies": 1, "GetInstanceProfile": 1}

    with aws.record() as calls:
        noop = ansible.playbook(PLAYBOOK, extra_vars=extra).result("Ensure the agent role")
    assert noop["changed"] is False
    assert noop["changes"] == []
    assert operation_counts(calls) == {"GetRole": 1, "ListAttachedRolePolicies": 1, "GetInstanceProfile": 1}
    assert noop["role"] == created["role"]


def test_admin_purpose_ssm_managed_and_legacy_warning(aws, ansible):
    iam = aws.client("iam")
    result = ansible.module(
        MODULE,
        {"purpose": "admin", "ssm_managed": True, "managed_policies": ["service-role/AmazonEC2RoleforSSM"]},
    )
    assert result["changed"] is True
    assert result["role"]["name"] == "CloudWatchAgentAdminRole"
    assert attached(iam, "CloudWatchAgentAdminRole") == sorted([ADMIN_POLICY, SSM_CORE, "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"])
    assert any("AmazonEC2RoleforSSM is deprecated" in w for w in result["warnings"])


def test_update_policies_and_tags_then_purge(aws, ansible):
    iam = aws.client("iam")
    base = {"purpose": "server", "name": "AgentRole", "tags": {"a": "1", "b": "2"}}
    ansible.module(MODULE, base)

    added = ansible.module(MODULE, dict(base, managed_policies=["ReadOnlyAccess"], tags={"a": "1", "b": "3"}))
    assert added["changed"] is True
    assert attached(iam, "AgentRole") == [SERVER_POLICY, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="AgentRole")["Tags"]}
    assert tags == dict(OWNER, a="1", b="3")
    profile_tags = iam.get_instance_profile(InstanceProfileName="AgentRole")["InstanceProfile"]["Tags"]
    assert {t["Key"]: t["Value"] for t in profile_tags} == dict(OWNER, a="1", b="3")

    kept = ansible.module(MODULE, dict(base, tags={"c": "4"}, purge_tags=False, purge_policies=False))
    assert kept["changed"] is True
    assert attached(iam, "AgentRole") == [SERVER_POLICY, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert kept["role"]["tags"] == dict(OWNER, a="1", b="3", c="4")

    purged = ansible.module(MODULE, dict(base, tags={"a": "1"}), diff=True)
    assert purged["changed"] is True
    assert attached(iam, "AgentRole") == [SERVER_POLICY]
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="AgentRole")["Tags"]}
    assert tags == dict(OWNER, a="1"), "purge removes other tags but never the owner tag"
    assert purged["diff"]["before"]["role"]["attached_policies"] == [SERVER_POLICY, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert purged["diff"]["after"]["role"]["attached_policies"] == [SERVER_POLICY]

    # The purpose policy stays attached even when someone detached it and purge is on.
    iam.detach_role_policy(RoleName="AgentRole", PolicyArn=SERVER_POLICY)
    assert ansible.module(MODULE, dict(base, tags={"a": "1"}))["changed"] is True
    assert attached(iam, "AgentRole") == [SERVER_POLICY]
    assert ansible.module(MODULE, dict(base, tags={"a": "1"}))["changed"] is False


def test_absent_removes_what_it_owns(aws, ansible):
    iam = aws.client("iam")
    ansible.module(MODULE, {"purpose": "server", "ssm_managed": True})

    check = ansible.module(MODULE, {"purpose": "server", "state": "absent"}, check=True)
    assert check["changed"] is True and check["role"] is None
    assert len(iam.list_roles()["Roles"]) == 1

    gone = ansible.module(MODULE, {"purpose": "server", "state": "absent"})
    assert gone["changed"] is True
    assert iam.list_roles()["Roles"] == []
    assert iam.list_instance_profiles()["InstanceProfiles"] == []

    assert ansible.module(MODULE, {"purpose": "server", "state": "absent"})["changed"] is False


def test_absent_leaves_unowned_resources_alone(aws, ansible, iam_snapshot):
    iam = aws.client("iam")
    iam.create_role(RoleName="CloudWatchAgentServerRole", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="CloudWatchAgentServerRole", PolicyArn=SERVER_POLICY)
    before = iam_snapshot()

    failed = ansible.module(MODULE, {"purpose": "server", "state": "absent"}, expect_failure=True)
    assert "Refusing to delete role CloudWatchAgentServerRole" in failed["msg"]
    assert "managed-by=observability.cloudwatch" in failed["msg"]
    assert iam_snapshot() == before

    # present on an unowned role is refused too; with adopt=true it is updated with a warning, and the owner
    # tag is not added (more in test_adoption.py).
    refused = ansible.module(MODULE, {"purpose": "server", "instance_profile": False}, expect_failure=True)
    assert "adopt=true" in refused["msg"]
    assert iam_snapshot() == before
    updated = ansible.module(MODULE, {"purpose": "server", "instance_profile": False, "adopt": True})
    assert updated["changed"] is False
    assert updated["instance_profile"] is None, "documented as always returned"
    assert any("exists without the tag managed-by=observability.cloudwatch" in w for w in updated["warnings"])
    assert iam.list_role_tags(RoleName="CloudWatchAgentServerRole")["Tags"] == []


def test_absent_keeps_an_unowned_profile(aws, ansible):
    iam = aws.client("iam")
    ansible.module(MODULE, {"purpose": "server", "name": "Owned", "instance_profile": False})
    iam.create_instance_profile(InstanceProfileName="Owned")
    iam.add_role_to_instance_profile(InstanceProfileName="Owned", RoleName="Owned")

    result = ansible.module(MODULE, {"purpose": "server", "name": "Owned", "state": "absent"})
    assert result["changed"] is True
    assert iam.list_roles()["Roles"] == []
    profiles = iam.list_instance_profiles()["InstanceProfiles"]
    assert [(p["InstanceProfileName"], p["Roles"]) for p in profiles] == [("Owned", [])]


BAD_INPUT = [
    ({"purpose": "logs"}, "value of purpose must be one of: server, admin, got: logs"),
    ({"purpose": "server", "name": "bad name"}, "'bad name' is not a valid IAM role name"),
    ({"purpose": "server", "name": "x" * 65}, "is not a valid IAM role name: use 1 to 64 characters"),
    ({"purpose": "server", "path": "agents"}, "is not a valid IAM path"),
    ({"purpose": "server", "max_session_duration": 60}, "max_session_duration must be between 3600 and 43200"),
    ({"purpose": "server", "description": "d" * 1001}, "description must be at most 1000 characters"),
    (
        {"purpose": "server", "managed_policies": ["arn:aws:iam::123456789012:policy/DoesNotExist"]},
        "managed policy 'arn:aws:iam::123456789012:policy/DoesNotExist' does not exist",
    ),
    ({"purpose": "server", "managed_policies": ["NoSuchPolicy"]}, "managed policy 'NoSuchPolicy' does not exist"),
    ({"purpose": "server", "managed_policies": ["arn:aws:s3:::bucket"]}, "is not a managed policy ARN"),
    (
        {"purpose": "server", "permissions_boundary": "arn:aws:iam::123456789012:policy/NoBoundary"},
        "permissions_boundary 'arn:aws:iam::123456789012:policy/NoBoundary' does not exist",
    ),
]


def run_tasks(ansible, tmp_path, tasks, **kwargs):
    """One playbook run of several tasks of MODULE that may fail: ``tasks`` is a list of (name, args)."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": name, MODULE: args, "ignore_errors": True} for name, args in tasks],
        }
    ]
    path = tmp_path / "tasks.yml"
    path.write_text(yaml.safe_dump(play))
    return ansible.playbook(path, **kwargs)


def test_bad_input_changes_nothing(aws, ansible, iam_snapshot, tmp_path):
    before = iam_snapshot()
    run = run_tasks(ansible, tmp_path, [(f"case {i}", args) for i, (args, _message) in enumerate(BAD_INPUT)])
    for i, (_args, message) in enumerate(BAD_INPUT):
        result = run.result(f"case {i}")
        assert result.get("failed") is True, result
        assert message in result["msg"]
    assert iam_snapshot() == before


def test_bad_input_on_an_existing_role_changes_nothing(aws, ansible, iam_snapshot):
    ansible.module(MODULE, {"purpose": "server", "tags": {"a": "1"}})
    before = iam_snapshot()
    failed = ansible.module(
        MODULE,
        {"purpose": "server", "tags": {"a": "2"}, "managed_policies": ["arn:aws:iam::123456789012:policy/Missing"]},
        expect_failure=True,
    )
    assert "does not exist" in failed["msg"]
    assert iam_snapshot() == before


def test_instance_profile_taken_by_another_role(aws, ansible, iam_snapshot):
    iam = aws.client("iam")
    iam.create_role(RoleName="Other", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="CloudWatchAgentServerRole")
    iam.add_role_to_instance_profile(InstanceProfileName="CloudWatchAgentServerRole", RoleName="Other")
    before = iam_snapshot()

    with aws.record() as calls:
        failed = ansible.module(MODULE, {"purpose": "server"}, expect_failure=True)
    assert "Instance profile CloudWatchAgentServerRole already holds role Other" in failed["msg"]
    assert iam_snapshot() == before
    assert operation_counts(calls) == {"GetRole": 1, "GetInstanceProfile": 1}


def test_path_and_settings(aws, ansible):
    iam = aws.client("iam")
    args = {
        "purpose": "server",
        "name": "PathRole",
        "path": "/agents/",
        "description": "agent role",
        "max_session_duration": 7200,
        "permissions_boundary": "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }
    created = ansible.module(MODULE, args)
    assert created["role"]["arn"] == "arn:aws:iam::123456789012:role/agents/PathRole"
    assert created["instance_profile"]["path"] == "/agents/"
    role = iam.get_role(RoleName="PathRole")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("agent role", 7200)
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert ansible.module(MODULE, args)["changed"] is False

    changed = ansible.module(MODULE, dict(args, description="new", max_session_duration=3600, permissions_boundary=""))
    assert changed["changed"] is True
    role = iam.get_role(RoleName="PathRole")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("new", 3600)
    assert "PermissionsBoundary" not in role

    moved = ansible.module(MODULE, dict(args, path="/other/"), expect_failure=True)
    assert "IAM cannot move a role to path /other/" in moved["msg"]
