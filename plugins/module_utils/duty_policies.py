# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Least-privilege identity policies for common CloudWatch duties, behind the filter
``observability.cloudwatch.cloudwatch_policy``: pure functions, no AWS calls.

Every function raises ``PolicyInputError`` (a ``ValueError``) with a message naming the bad value.
"""

import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import (
    LOG_GROUP_WRITE_ACTIONS, LOG_LIST_ACTIONS, LOG_STREAM_WRITE_ACTIONS, METRIC_WRITE_ACTIONS, TRACE_ACTIONS,
    PolicyInputError, log_group_arn, log_group_names, log_group_resources, parameter_arn, parse_log_group,
    policy_document, statement, validate_scope,
)

METRIC_READ_ACTIONS = (
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:GetMetricWidgetImage",
    "cloudwatch:ListMetrics",
)
LOG_READ_LIST_ACTIONS = ("logs:DescribeLogGroups", "logs:DescribeQueries", "logs:StopQuery")
LOG_READ_GROUP_ACTIONS = (
    "logs:DescribeLogStreams",
    "logs:FilterLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:StartQuery",
)
LOG_READ_STREAM_ACTIONS = ("logs:GetLogEvents",)
ALARM_READ_ACTIONS = ("cloudwatch:DescribeAlarmsForMetric",)
ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:PutCompositeAlarm",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:SetAlarmState",
    "cloudwatch:TagResource",
    "cloudwatch:UntagResource",
)
DASHBOARD_LIST_ACTIONS = ("cloudwatch:ListDashboards",)
DASHBOARD_ACTIONS = ("cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard")
AGENT_EC2_ACTIONS = ("ec2:DescribeTags", "ec2:DescribeVolumes")
AGENT_LOG_GROUP_ACTIONS = LOG_GROUP_WRITE_ACTIONS
AGENT_PARAMETER_READ_ACTIONS = ("ssm:GetParameter",)
AGENT_PARAMETER_WRITE_ACTIONS = ("ssm:PutParameter",)

_NAMESPACE = re.compile(r"^[^:$\s][^:$]{0,254}$")

DUTIES = (
    "read_metrics",
    "write_metrics",
    "read_logs",
    "write_logs",
    "manage_alarms",
    "manage_dashboards",
    "agent_server",
    "agent_admin",
)


def _namespace_condition(namespaces):
    if not namespaces:
        return None
    for namespace in namespaces:
        if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
            raise PolicyInputError(f"metric namespace {namespace!r}: expected 1 to 255 characters, no ':' or '$'")
    values = sorted(set(namespaces))
    return {"StringEquals": {"cloudwatch:namespace": values[0] if len(values) == 1 else values}}


def _duty_statements(duty, partition, region, account, group_arns, namespaces):
    groups, streams = log_group_resources(group_arns)
    prefix = "".join(part.capitalize() for part in duty.split("_"))
    if duty == "read_metrics":
        return [statement(prefix, METRIC_READ_ACTIONS, ["*"])]
    if duty == "write_metrics":
        return [statement(prefix, METRIC_WRITE_ACTIONS, ["*"], _namespace_condition(namespaces))]
    if duty == "read_logs":
        return [
            statement(prefix + "List", LOG_READ_LIST_ACTIONS, ["*"]),
            statement(prefix + "Groups", LOG_READ_GROUP_ACTIONS, groups),
            statement(prefix + "Streams", LOG_READ_STREAM_ACTIONS, streams),
        ]
    if duty == "write_logs":
        if not group_arns:
            raise PolicyInputError("write_logs: name the log groups (log_groups=[...]); it never grants writes to '*'")
        return [
            statement(prefix + "List", LOG_LIST_ACTIONS, ["*"]),
            statement(prefix + "Groups", LOG_GROUP_WRITE_ACTIONS, groups),
            statement(prefix + "Streams", LOG_STREAM_WRITE_ACTIONS, streams),
        ]
    if duty == "manage_alarms":
        return [
            statement(prefix + "List", ALARM_READ_ACTIONS, ["*"]),
            statement(prefix, ALARM_ACTIONS, [f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"]),
        ]
    if duty == "manage_dashboards":
        # Dashboards are global: their ARNs have no region.
        return [
            statement(prefix + "List", DASHBOARD_LIST_ACTIONS, ["*"]),
            statement(prefix, DASHBOARD_ACTIONS, [f"arn:{partition}:cloudwatch::{account}:dashboard/*"]),
        ]
    if duty in ("agent_server", "agent_admin"):
        statements = [
            statement(prefix + "Metrics", METRIC_WRITE_ACTIONS, ["*"], _namespace_condition(namespaces)),
            statement(prefix + "Ec2", AGENT_EC2_ACTIONS, ["*"]),
            statement(prefix + "ListLogGroups", LOG_LIST_ACTIONS, ["*"]),
            statement(prefix + "LogGroups", AGENT_LOG_GROUP_ACTIONS, groups),
            statement(prefix + "LogStreams", LOG_STREAM_WRITE_ACTIONS, streams),
            statement(prefix + "Traces", TRACE_ACTIONS, ["*"]),
            statement(prefix + "ReadParameters", AGENT_PARAMETER_READ_ACTIONS, [parameter_arn(partition, region, account)]),
        ]
        if duty == "agent_admin":
            statements.append(
                statement(prefix + "WriteParameters", AGENT_PARAMETER_WRITE_ACTIONS, [parameter_arn(partition, region, account)])
            )
        return statements
    raise PolicyInputError(f"duty {duty!r}: expected one of {', '.join(DUTIES)}")


def duty_policy(duties, log_groups=None, region="*", account_id="*", partition="aws", namespaces=None):
    """One identity policy granting ``duties`` (a duty name or a list of them), least privilege.

    ``region`` and ``account_id`` scope resource ARNs (``*`` when not given). ``log_groups`` (names, or ARNs
    of ``region``) narrows log actions to those groups; ``write_logs`` requires it. ``namespaces`` limits
    ``cloudwatch:PutMetricData`` to those metric namespaces.
    """
    if isinstance(duties, str):
        duties = [duties]
    if not isinstance(duties, (list, tuple)) or not duties:
        raise PolicyInputError(f"duties {duties!r}: expected a duty name or a list of them ({', '.join(DUTIES)})")
    validate_scope(partition, region, account_id)
    if isinstance(log_groups, str):
        log_groups = [log_groups]
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    # Names take region and account_id; an ARN keeps its own (and must match them when they are given).
    log_group_names(log_groups, None if region == "*" else region, None if account_id == "*" else account_id)
    group_arns = []
    for value in log_groups or []:
        group = parse_log_group(value)
        arn = log_group_arn(
            group["partition"] or partition, group["region"] or region, group["account"] or account_id, group["name"]
        )
        if arn not in group_arns:
            group_arns.append(arn)
    statements = []
    for duty in dict.fromkeys(duties):
        if not isinstance(duty, str):
            raise PolicyInputError(f"duty {duty!r}: expected one of {', '.join(DUTIES)}")
        statements += _duty_statements(duty, partition, region, account_id, group_arns, namespaces)
    return policy_document(statements)
