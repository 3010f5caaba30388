# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scoped policy of an agent identity: what the CloudWatch agent needs for the configurations it runs, and
nothing else, in place of CloudWatchAgentServerPolicy (whose log and retention rights are on every log group).

Pure functions; they raise ``PolicyInputError`` naming the configuration and the key that cannot be scoped.
"""

import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import TRACE_ACTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import PolicyInputError
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import log_group_arn
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import metric_namespace_condition
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import policy_document
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import statement
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import validate_metric_namespaces
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import validate_scope

SCOPED_POLICY_NAME = "CloudWatchAgentScopedPolicy"
# The agent's namespace when the configuration names none.
DEFAULT_NAMESPACE = "CWAgent"
PARAMETER_PREFIX = "AmazonCloudWatch-"

METRIC_ACTIONS = ("cloudwatch:PutMetricData",)
EC2_ACTIONS = ("ec2:DescribeTags", "ec2:DescribeVolumes")
# The agent creates a group it writes to when the group is missing, then its stream.
GROUP_ACTIONS = ("logs:CreateLogGroup", "logs:DescribeLogStreams")
STREAM_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
RETENTION_ACTIONS = ("logs:PutRetentionPolicy",)
PARAMETER_ACTIONS = ("ssm:GetParameter",)

# {instance_id}, {hostname}, {local_hostname}, {ip_address}: known only on the host, so any value.
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_PARAMETER_NAME = re.compile(r"^AmazonCloudWatch-[A-Za-z0-9_.\-]{1,1000}$")
# Sections that send to log groups or through credentials the configuration does not name.
_UNSCOPABLE = {
    ("logs", "metrics_collected"): "its metrics go to log groups named at run time",
    ("agent", "credentials"): "the agent then calls AWS as the role it names, not as this identity",
    ("metrics", "credentials"): "the agent then calls AWS as the role it names, not as this identity",
    ("logs", "credentials"): "the agent then calls AWS as the role it names, not as this identity",
}
_LOG_SOURCES = ("files", "windows_events")


def _where(parameter, path):
    return f"configuration {parameter}, {path}"


def _log_group_pattern(parameter, path, name):
    """The log group name as an IAM resource: placeholders become ``*``; the rest must be a log group name."""
    if not isinstance(name, str) or not name:
        raise PolicyInputError(f"{_where(parameter, path)}: expected a log group name, got {name!r}")
    literal = _PLACEHOLDER.sub("", name)
    if literal and not _GROUP_NAME.match(literal) or "*" in name or "?" in name:
        raise PolicyInputError(
            f"{_where(parameter, path)}: {name!r} is not a log group name (1 to 512 characters among a-z, A-Z, 0-9, "
            "'.', '-', '_', '/', '#', and the agent's placeholders such as {instance_id})"
        )
    return _PLACEHOLDER.sub("*", name)


def _default_group(file_path):
    """The agent's log group for a file without log_group_name: the path up to the final period."""
    base = file_path.rsplit("/", 1)[-1]
    return file_path.rsplit(".", 1)[0] if "." in base else file_path


def _retention(parameter, path, entry):
    value = entry.get("retention_in_days", -1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyInputError(f"{_where(parameter, path)}: expected a number of days, got {value!r}")
    return value


def _sections(config):
    return {key: value for key, value in config.items() if isinstance(value, dict)}


def needs_of(parameter, config):
    """What one configuration makes the agent do: ``dict(namespaces, groups, retention, traces)``, where
    ``groups`` are log group patterns and ``retention`` those the agent sets a retention on."""
    if not isinstance(config, dict):
        raise PolicyInputError(f"configuration {parameter}: expected a JSON object")
    sections = _sections(config)
    for (section, key), reason in _UNSCOPABLE.items():
        if key in sections.get(section, {}):
            raise PolicyInputError(
                f"{_where(parameter, section + '.' + key)}: the scoped policy cannot cover it ({reason}). "
                "Use the managed policy (leave scoped_policy unset) for this configuration."
            )
    needs = dict(namespaces=[], groups=[], retention=[], traces="traces" in sections)
    if "metrics" in sections:
        namespace = sections["metrics"].get("namespace") or DEFAULT_NAMESPACE
        try:
            validate_metric_namespaces([namespace])
        except PolicyInputError as e:
            raise PolicyInputError(f"{_where(parameter, 'metrics.namespace')}: {str(e).split(': ', 1)[-1]}") from e
        needs["namespaces"].append(namespace)
    collected = sections.get("logs", {}).get("logs_collected") or {}
    for source, value in collected.items():
        if source not in _LOG_SOURCES:
            raise PolicyInputError(
                f"{_where(parameter, 'logs.logs_collected.' + source)}: the scoped policy covers "
                f"{' and '.join(_LOG_SOURCES)} only; use the managed policy for this configuration."
            )
        for index, entry in enumerate((value or {}).get("collect_list") or []):
            path = f"logs.logs_collected.{source}.collect_list[{index}].log_group_name"
            name = entry.get("log_group_name")
            if name is None and source == "files":
                name = _default_group(str(entry.get("file_path", "")))
            group = _log_group_pattern(parameter, path, name)
            needs["groups"].append(group)
            if _retention(parameter, path.replace("log_group_name", "retention_in_days"), entry) > 0:
                needs["retention"].append(group)
    return needs


def _parameter_names(configs):
    names = []
    for name, _config in configs:
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise PolicyInputError(
                f"configuration name {name!r}: expected a Parameter Store name starting with {PARAMETER_PREFIX} "
                "(letters, digits and _.-)"
            )
        names.append(name)
    return list(dict.fromkeys(names))


def scoped_agent_policy(configs, partition, account_id, regions=("*",)):
    """The identity policy of an agent that runs ``configs`` (pairs of parameter name and configuration dict)
    fetched from Parameter Store in ``regions``: PutMetricData in the configurations' namespaces; DescribeTags
    and DescribeVolumes; stream writes on the named log groups, creating them when missing, retention only where
    a configuration sets one; GetParameter on the named parameters; X-Ray only when a configuration has traces.
    """
    if not configs:
        raise PolicyInputError("scoped_policy.configs is empty: name the configurations the agent runs")
    regions = list(dict.fromkeys(regions or ["*"]))
    for region in regions:
        validate_scope(partition, region, account_id)
    names = _parameter_names(configs)
    namespaces, groups, retention, traces = [], [], [], False
    for name, config in configs:
        needs = needs_of(name, config)
        namespaces += needs["namespaces"]
        groups += needs["groups"]
        retention += needs["retention"]
        traces |= needs["traces"]
    namespaces = list(dict.fromkeys(namespaces))

    def group_arns(patterns):
        return [log_group_arn(partition, region, account_id, group) for region in regions for group in dict.fromkeys(patterns)]

    statements = [statement("AgentEc2", EC2_ACTIONS, ["*"])]
    if namespaces:
        statements.append(statement("AgentMetrics", METRIC_ACTIONS, ["*"], metric_namespace_condition(namespaces)))
    if groups:
        arns = group_arns(groups)
        statements.append(statement("AgentLogGroups", GROUP_ACTIONS, arns + [arn + ":*" for arn in arns]))
        statements.append(statement("AgentLogStreams", STREAM_ACTIONS, [arn + ":log-stream:*" for arn in arns]))
    if retention:
        arns = group_arns(retention)
        statements.append(statement("AgentLogRetention", RETENTION_ACTIONS, arns + [arn + ":*" for arn in arns]))
    parameters = [f"arn:{partition}:ssm:{region}:{account_id}:parameter/{name}" for region in regions for name in names]
    statements.append(statement("AgentReadParameters", PARAMETER_ACTIONS, parameters))
    if traces:
        statements.append(statement("AgentTraces", TRACE_ACTIONS, ["*"]))
    return policy_document(statements)
