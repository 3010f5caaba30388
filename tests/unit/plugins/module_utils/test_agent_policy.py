# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scoped policy of an agent identity (agent_policy.scoped_agent_policy), decided by the project's evaluator:
exactly what the agent needs for its configurations, nothing on other log groups, parameters or services."""

import pytest

import iam_eval  # from tests/tools (pytest.ini pythonpath)
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_policy import scoped_agent_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import PolicyInputError

ACCOUNT = "123456789012"
REGION = "eu-west-1"
LINUX = {
    "agent": {"run_as_user": "cwagent"},
    "metrics": {"namespace": "Fleet", "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
    "logs": {
        "logs_collected": {
            "files": {
                "collect_list": [
                    {"file_path": "/var/log/syslog", "log_group_name": "/ec2/syslog", "retention_in_days": 30},
                    {"file_path": "/var/log/app/api.log", "log_group_name": "/app/{instance_id}/api"},
                    {"file_path": "/var/log/auth.log"},
                ]
            }
        }
    },
}
TRACES = {"traces": {"traces_collected": {"xray": {}}}}
PARAMETER = "AmazonCloudWatch-linux"


def arn(service, resource, region=REGION):
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def group(name, region=REGION):
    return arn("logs", f"log-group:{name}", region)


def stream(name, region=REGION):
    return group(name, region) + ":log-stream:host-1"


def evaluator(configs, regions=(REGION,)):
    return iam_eval.Evaluator({"scoped": scoped_agent_policy(configs, "aws", ACCOUNT, list(regions))})


# What the agent needs for LINUX, on the resources it touches; nothing else may be allowed anywhere.
NEEDED = [
    ("ec2:DescribeTags", "*", None),
    ("ec2:DescribeVolumes", "*", None),
    ("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Fleet"}),
    ("logs:CreateLogGroup", group("/ec2/syslog"), None),
    ("logs:DescribeLogStreams", group("/ec2/syslog"), None),
    ("logs:CreateLogStream", stream("/ec2/syslog"), None),
    ("logs:PutLogEvents", stream("/ec2/syslog"), None),
    ("logs:PutRetentionPolicy", group("/ec2/syslog"), None),
    ("logs:PutLogEvents", stream("/app/i-0123456789abcdef0/api"), None),
    ("logs:CreateLogGroup", group("/app/i-0123456789abcdef0/api"), None),
    # A file without log_group_name goes to its path up to the final period.
    ("logs:PutLogEvents", stream("/var/log/auth"), None),
    ("ssm:GetParameter", arn("ssm", f"parameter/{PARAMETER}"), None),
]
DENIED = [
    ("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "AWS/EC2"}),
    ("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "CWAgent"}),
    ("logs:PutLogEvents", stream("/aws/cloudtrail/management"), None),
    ("logs:PutLogEvents", stream("/ec2/syslog-other"), None),
    ("logs:CreateLogStream", stream("/other"), None),
    ("logs:PutRetentionPolicy", group("/app/i-0123456789abcdef0/api"), None),
    ("logs:PutRetentionPolicy", group("/var/log/auth"), None),
    ("logs:DeleteLogGroup", group("/ec2/syslog"), None),
    ("logs:PutLogEvents", stream("/ec2/syslog", "us-east-1"), None),
    ("ssm:GetParameter", arn("ssm", "parameter/AmazonCloudWatch-other"), None),
    ("ssm:GetParameter", arn("ssm", "parameter/cloudwatch/onprem-agent-key"), None),
    ("ssm:PutParameter", arn("ssm", f"parameter/{PARAMETER}"), None),
    ("ssm:GetParameters", arn("ssm", f"parameter/{PARAMETER}"), None),
    ("iam:PassRole", "*", None),
    ("iam:CreateAccessKey", arn("iam", "user/cloudwatch-agent-onprem", ""), None),
    ("xray:PutTraceSegments", "*", None),
]


@pytest.mark.parametrize("action, resource, context", NEEDED, ids=[f"{a} {r}" for a, r, _c in NEEDED])
def test_what_the_agent_needs_is_allowed(action, resource, context):
    assert evaluator([(PARAMETER, LINUX)]).allowed(action, resource, context)


@pytest.mark.parametrize("action, resource, context", DENIED, ids=[f"{a} {r} {c}" for a, r, c in DENIED])
def test_anything_else_is_denied(action, resource, context):
    assert evaluator([(PARAMETER, LINUX)]).decide(action, resource, context) == iam_eval.IMPLICIT_DENY


def test_it_allows_exactly_the_agents_actions_and_no_write_of_iam_or_ssm():
    catalogue = iam_eval.catalogue()
    policy = evaluator([(PARAMETER, LINUX)])
    resources = ["*", group("/ec2/syslog"), stream("/ec2/syslog"), arn("ssm", f"parameter/{PARAMETER}")]
    context = {"cloudwatch:namespace": "Fleet"}
    allowed = {
        action
        for service in ("logs", "cloudwatch", "ssm", "iam", "ec2", "xray", "sts", "kms")
        for action in catalogue.service(service)
        if any(policy.allowed(action, resource, context) for resource in resources)
    }
    assert allowed == {
        "ec2:DescribeTags", "ec2:DescribeVolumes", "cloudwatch:PutMetricData", "logs:CreateLogGroup",
        "logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy",
        "ssm:GetParameter",
    }
    assert all(catalogue.known(action) for action in policy.granted_actions())


def test_traces_add_xray_and_regions_scope_every_arn():
    policy = evaluator([(PARAMETER, LINUX), ("AmazonCloudWatch-traces", TRACES)], regions=[REGION, "us-east-1"])
    assert policy.allowed("xray:PutTraceSegments")
    assert policy.allowed("logs:PutLogEvents", stream("/ec2/syslog", "us-east-1"))
    assert policy.allowed("ssm:GetParameter", arn("ssm", "parameter/AmazonCloudWatch-traces", "us-east-1"))
    assert not policy.allowed("logs:PutLogEvents", stream("/ec2/syslog", "ap-south-1"))


def test_a_configuration_without_a_namespace_writes_to_cwagent_and_one_without_metrics_to_none():
    no_namespace = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
    policy = evaluator([(PARAMETER, no_namespace)])
    assert policy.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "CWAgent"})
    logs_only = {"logs": LINUX["logs"]}
    assert not evaluator([(PARAMETER, logs_only)]).allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "CWAgent"})


@pytest.mark.parametrize(
    "config, where",
    [
        ({"logs": {"metrics_collected": {"emf": {}}}}, "logs.metrics_collected"),
        ({"agent": {"credentials": {"role_arn": "arn:aws:iam::123456789012:role/x"}}}, "agent.credentials"),
        ({"logs": {"logs_collected": {"journald": {}}}}, "logs.logs_collected.journald"),
        ({"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x.log", "log_group_name": "a*"}]}}}},
         "collect_list[0].log_group_name"),
        ({"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x.log", "retention_in_days": "week"}]}}}},
         "collect_list[0].retention_in_days"),
        ({"metrics": {"namespace": "AWS/EC2", "metrics_collected": {}}}, "AWS/"),
    ],
    ids=["embedded metrics", "role_arn", "journald", "wildcard group", "retention not a number", "AWS namespace"],
)
def test_what_it_cannot_scope_is_refused_naming_the_key(config, where):
    with pytest.raises(PolicyInputError) as e:
        scoped_agent_policy([(PARAMETER, config)], "aws", ACCOUNT, [REGION])
    assert where in str(e.value)


def test_names_outside_the_agent_prefix_and_an_empty_list_are_refused():
    with pytest.raises(PolicyInputError, match="AmazonCloudWatch-"):
        scoped_agent_policy([("cloudwatch-linux", LINUX)], "aws", ACCOUNT, [REGION])
    with pytest.raises(PolicyInputError, match="configs is empty"):
        scoped_agent_policy([], "aws", ACCOUNT, [REGION])
