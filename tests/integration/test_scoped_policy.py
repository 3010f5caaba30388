# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scoped agent identities and the guard rails on their policies, against the moto server: what an identity may
do is read back from the account and decided by the project's evaluator (moto enforces no IAM)."""

import json

import pytest

import iam_eval  # from tests/tools (pytest.ini pythonpath)
from local_aws import operation_counts  # from tests/tools (pytest.ini pythonpath)

ROLE_MODULE = "observability.cloudwatch.agent_iam_role"
USER_MODULE = "observability.cloudwatch.agent_iam_user"
ACCOUNT = "123456789012"
REGION = "us-east-1"
SERVER_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
CONFIG = {
    "metrics": {"namespace": "Fleet", "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
    "logs": {"logs_collected": {"files": {"collect_list": [
        {"file_path": "/var/log/syslog", "log_group_name": "/ec2/syslog", "retention_in_days": 30},
    ]}}},
}
BOUNDARY_STATEMENT = {"Effect": "Allow", "Action": ["logs:*", "cloudwatch:*", "ssm:GetParameter", "ec2:Describe*"], "Resource": "*"}
SCOPED = {"configs": [{"name": "AmazonCloudWatch-linux", "config": CONFIG, "tier": "Standard"}], "regions": [REGION]}


def group(name):
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def attached(iam, kind, name):
    listing = iam.list_attached_role_policies(RoleName=name) if kind == "role" else iam.list_attached_user_policies(UserName=name)
    return sorted(p["PolicyArn"] for p in listing["AttachedPolicies"])


@pytest.mark.parametrize("kind", ["role", "user"])
def test_a_scoped_identity_may_do_what_its_agents_need_and_nothing_more(aws, ansible, kind):
    iam = aws.client("iam")
    module, name = (ROLE_MODULE, "CloudWatchAgentServerRole") if kind == "role" else (USER_MODULE, "cloudwatch-agent-onprem")
    args = {"purpose": "server", "scoped_policy": SCOPED, **({"name": name} if kind == "user" else {})}

    ansible.module(module, {"purpose": "server", **({"name": name} if kind == "user" else {})})
    assert attached(iam, kind, name) == [SERVER_POLICY]
    scoped = ansible.module(module, args)
    assert scoped["changed"] is True
    assert attached(iam, kind, name) == [], "the managed policy is detached"

    policy = iam_eval.evaluator_for(iam, kind, name)
    assert policy.allowed("logs:PutLogEvents", group("/ec2/syslog") + ":log-stream:host-1")
    assert policy.allowed("logs:PutRetentionPolicy", group("/ec2/syslog"))
    assert policy.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Fleet"})
    assert policy.allowed("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/AmazonCloudWatch-linux")
    assert not policy.allowed("logs:PutLogEvents", group("/aws/cloudtrail/management") + ":log-stream:x")
    assert not policy.allowed("logs:PutRetentionPolicy", group("/other"))
    assert not policy.allowed("ssm:PutParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/AmazonCloudWatch-linux")
    assert not policy.allowed("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cloudwatch/onprem-agent-key")
    assert not any(policy.allowed(action) for action in iam_eval.catalogue().service("iam"))

    with aws.record() as calls:
        again = ansible.module(module, args)
    assert again["changed"] is False
    assert "GetCallerIdentity" not in operation_counts(calls), "the account comes from the identity's own ARN"

    back = ansible.module(module, {k: v for k, v in args.items() if k != "scoped_policy"})
    assert back["changed"] is True
    assert attached(iam, kind, name) == [SERVER_POLICY]
    listing = iam.list_role_policies(RoleName=name) if kind == "role" else iam.list_user_policies(UserName=name)
    assert listing["PolicyNames"] == [], "the scoped policy goes when the managed one comes back"


def test_check_mode_predicts_the_scoped_policy_and_changes_nothing(aws, ansible):
    iam = aws.client("iam")
    result = ansible.module(ROLE_MODULE, {"purpose": "server", "scoped_policy": SCOPED}, check=True)
    assert result["changed"] is True
    assert "put inline policy CloudWatchAgentScopedPolicy on role CloudWatchAgentServerRole" in result["changes"]
    assert iam.list_roles()["Roles"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        ({"purpose": "server", "managed_policies": ["AdministratorAccess"]}, "managed_policies names AdministratorAccess"),
        ({"purpose": "server", "managed_policies": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]}, "allow_broad_policies=true"),
        ({"purpose": "admin", "scoped_policy": SCOPED}, "scoped_policy is for purpose=server"),
        (
            {"purpose": "server", "scoped_policy": {"configs": [{"name": "AmazonCloudWatch-emf", "config": {"logs": {"metrics_collected": {"emf": {}}}}}]}},
            "configuration AmazonCloudWatch-emf, logs.metrics_collected",
        ),
        ({"purpose": "server", "scoped_policy": {"configs": [{"name": "AmazonCloudWatch-x", "content": "{not json"}]}}, "scoped_policy.configs[0].content"),
    ],
    ids=["AdministratorAccess", "S3 full access", "admin purpose", "embedded metrics", "bad JSON"],
)
def test_bad_policy_input_is_refused_before_any_call(aws, ansible, args, message):
    iam = aws.client("iam")
    with aws.record() as calls:
        result = ansible.module(ROLE_MODULE, args, expect_failure=True)
    assert message in result["msg"]
    assert operation_counts(calls) == {}
    assert iam.list_roles()["Roles"] == []


def test_a_broad_policy_is_attached_when_allowed(aws, ansible):
    iam = aws.client("iam")
    args = {"purpose": "server", "managed_policies": ["ReadOnlyAccess", "AdministratorAccess"], "allow_broad_policies": True}
    result = ansible.module(ROLE_MODULE, args)
    assert result["changed"] is True
    assert "arn:aws:iam::aws:policy/AdministratorAccess" in attached(iam, "role", "CloudWatchAgentServerRole")


def test_the_iam_role_scopes_server_identities_and_bounds_everything_it_creates(aws, ansible, tmp_path):
    iam = aws.client("iam")
    boundary = iam.create_policy(
        PolicyName="AgentBoundary",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [BOUNDARY_STATEMENT]}),
    )["Policy"]["Arn"]
    playbook = tmp_path / "iam.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: observability.cloudwatch.iam\n"
    )
    ansible.playbook(
        playbook,
        extra_vars={
            "cloudwatch_iam_roles": [{"purpose": "server"}, {"purpose": "admin"}],
            "cloudwatch_iam_users": [{"name": "cloudwatch-agent-onprem", "access_key_store": f"file:{tmp_path}/key.json"}],
            "cloudwatch_iam_scoped_policy": SCOPED,
            "cloudwatch_iam_permissions_boundary": boundary,
            "cloudwatch_iam_exporters": [{
                "name": "db-exporter", "trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/exporter"], "log_group_names": ["/exporter/db"],
            }],
        },
    )
    assert attached(iam, "role", "CloudWatchAgentServerRole") == []
    assert iam.list_role_policies(RoleName="CloudWatchAgentServerRole")["PolicyNames"] == ["CloudWatchAgentScopedPolicy"]
    assert iam.list_user_policies(UserName="cloudwatch-agent-onprem")["PolicyNames"] == ["CloudWatchAgentScopedPolicy"]
    assert attached(iam, "role", "CloudWatchAgentAdminRole") == ["arn:aws:iam::aws:policy/CloudWatchAgentAdminPolicy"]
    # moto's GetUser returns no permissions boundary, so the users' is not read back here.
    for name in ["CloudWatchAgentServerRole", "CloudWatchAgentAdminRole", "db-exporter"]:
        assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary, name
