# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Building blocks of the collection's IAM policy documents for CloudWatch: pure functions, no AWS calls.

- ``statement`` and ``policy_document``: every statement has a ``Sid`` so that tests and diffs can name it.
- The actions both the exporter's policy (``exporter_policies.py``) and the duty policies of the filter
  ``cloudwatch_policy`` (``duty_policies.py``) grant.
- Log group names and ARNs (``parse_log_group``, ``log_group_names``, ``log_group_arn``), the scope of
  resource ARNs (``validate_scope``) and the agent's parameters (``parameter_arn``).

Every function raises ``PolicyInputError`` (a ``ValueError``) with a message naming the bad value.
"""

import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX

POLICY_VERSION = "2012-10-17"

# Parameters the CloudWatch agent and exporters read their configuration from.
AGENT_PARAMETER_PATTERN = CONFIG_NAME_PREFIX + "*"

# Log actions, by the resource IAM authorizes them against.
# DescribeLogGroups is authorized against "log-group::log-stream:" of the account and region, which the
# log-group ARN pattern of that account and region (``log_groups_of_region``) matches.
LOG_LIST_ACTIONS = ("logs:DescribeLogGroups",)
LOG_GROUP_WRITE_ACTIONS = ("logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:PutRetentionPolicy")
LOG_STREAM_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
TRACE_ACTIONS = (
    "xray:GetSamplingRules",
    "xray:GetSamplingStatisticSummaries",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)
METRIC_WRITE_ACTIONS = ("cloudwatch:PutMetricData",)

_LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_LOG_GROUP_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?$"
)
# What CloudWatch Logs accepts in a log group name, without the wildcards IAM would read in a prefix.
_LOG_GROUP_PREFIX = re.compile(r"^[.\-_/#A-Za-z0-9]{1,511}$")
# Log groups of AWS services (CloudTrail, Lambda, VPC flow logs, ...) live under this prefix.
AWS_LOG_GROUP_PREFIX = "/aws/"
_NAMESPACE_MAX = 255
_ACCOUNT = re.compile(r"^(\d{12}|\*)$")
_REGION = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d|\*)$")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")


class PolicyInputError(ValueError):
    """A value a policy is built from is not valid; the message names it."""


def partition_of_region(region):
    """The partition of a region name (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def statement(sid, actions, resources, condition=None, effect="Allow"):
    """One policy statement; a single resource is written as a string, several as a sorted list."""
    resources = sorted(set(resources))
    result = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(set(actions)),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if condition:
        result["Condition"] = condition
    return result


def policy_document(statements):
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


# ---------------------------------------------------------------------------------------------------
# Log groups


def parse_log_group(value):
    """Split a log group name or ARN into ``dict(name, partition, region, account)``.

    For a plain name, ``partition``, ``region`` and ``account`` are ``None``. A trailing ``:*`` on an ARN
    (as DescribeLogGroups returns them) is accepted.
    """
    if not isinstance(value, str) or not value:
        raise PolicyInputError(f"log group {value!r}: expected a log group name or ARN")
    if value.startswith("arn:"):
        match = _LOG_GROUP_ARN.match(value)
        if not match or not _LOG_GROUP_NAME.match(match.group("name")):
            raise PolicyInputError(
                f"log group {value!r}: not a CloudWatch Logs log group ARN "
                "(arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME)"
            )
        return {
            "name": match.group("name"),
            "partition": match.group("partition"),
            "region": match.group("region"),
            "account": match.group("account"),
        }
    if not _LOG_GROUP_NAME.match(value):
        raise PolicyInputError(
            f"log group {value!r}: a log group name has 1 to 512 characters among a-z, A-Z, 0-9, '.', '-', '_', '/' and '#'"
        )
    return {"name": value, "partition": None, "region": None, "account": None}


def log_group_names(values, region, account=None):
    """Validate log group names or ARNs for use in ``region`` (and ``account`` if known); return the names.

    An ARN that names another region (or account) is an error: an exporter writes to the log groups of
    the region (and account) it is set up in. Duplicates are dropped, order is kept.
    """
    names = []
    for value in values or []:
        group = parse_log_group(value)
        if group["region"] is not None and region and group["region"] != region:
            raise PolicyInputError(
                f"log group {value!r} is in region {group['region']}, not in {region}: the exporter and its "
                f"log groups must be in the same region (run the task with region: {group['region']}, or name a "
                f"log group of {region})"
            )
        if group["account"] is not None and account and group["account"] != account:
            raise PolicyInputError(
                f"log group {value!r} is in account {group['account']}, not in {account}: an identity policy "
                "cannot grant writes to another account's log groups"
            )
        if group["name"] not in names:
            names.append(group["name"])
    return names


def log_group_arn(partition, region, account, name):
    return f"arn:{partition}:logs:{region}:{account}:log-group:{name}"


def log_group_resources(arns):
    """(group resources, stream resources) for log group ARNs; ``["*"]`` for both when there are none.

    Log group actions get both the group's ARN and the same with ``:*``: CloudWatch Logs authorizes some of
    them against the ARN as DescribeLogGroups returns it (with ``:*``). Stream actions act on
    ``log-group:NAME:log-stream:STREAM``, which only ``log-group:NAME:*`` matches.
    """
    if not arns:
        return ["*"], ["*"]
    streams = [arn + ":*" for arn in arns]
    return list(arns) + streams, streams


def log_groups_of_region(partition, region, account):
    """Every log group (and stream) ARN of the account and region; never the bare ``*``."""
    return log_group_arn(partition, region, account, "*")


def validate_log_group_prefix(prefix):
    """A log group name prefix an identity may write under: no wildcard, and none of the AWS services' groups."""
    if prefix is None:
        return None
    if not isinstance(prefix, str) or not _LOG_GROUP_PREFIX.match(prefix):
        raise PolicyInputError(
            f"log_group_prefix {prefix!r}: 1 to 511 characters among a-z, A-Z, 0-9, '.', '-', '_', '/' and '#' "
            "(the characters of a log group name; no wildcard, the policy adds it)"
        )
    if AWS_LOG_GROUP_PREFIX.startswith(prefix) or prefix.startswith(AWS_LOG_GROUP_PREFIX):
        raise PolicyInputError(
            f"log_group_prefix {prefix!r} covers the log groups of AWS services under {AWS_LOG_GROUP_PREFIX} "
            "(CloudTrail, Lambda, VPC flow logs): a holder could forge their entries. Choose a prefix of your own, "
            "such as /exporters/NAME/, or name the groups in log_group_names"
        )
    return prefix


def validate_metric_namespaces(namespaces):
    """CloudWatch metric namespaces (``*`` and ``?`` as IAM wildcards); ``None`` means "any"."""
    if namespaces is None:
        return None
    if not namespaces:
        raise PolicyInputError("metric_namespaces is empty: name at least one namespace, or leave the option out")
    for namespace in namespaces:
        if (
            not isinstance(namespace, str) or not 1 <= len(namespace) <= _NAMESPACE_MAX or not namespace.isprintable()
            or not namespace.isascii() or not namespace.strip() or namespace.startswith(":")
            or not namespace.strip("*?")
        ):
            raise PolicyInputError(
                f"metric_namespaces: {namespace!r} is not a CloudWatch namespace; expected 1 to {_NAMESPACE_MAX} printable "
                "characters, not starting with ':', not only wildcards (* or ?)"
            )
        if namespace.startswith("AWS/"):
            raise PolicyInputError(
                f"metric_namespaces: {namespace!r} starts with AWS/, which CloudWatch keeps for AWS services"
            )
    return list(dict.fromkeys(namespaces))


def metric_namespace_condition(namespaces):
    """The ``cloudwatch:namespace`` condition of ``PutMetricData`` (``StringLike`` when a namespace has a wildcard)."""
    if not namespaces:
        return None
    operator = "StringLike" if any("*" in n or "?" in n for n in namespaces) else "StringEquals"
    return {operator: {"cloudwatch:namespace": namespaces[0] if len(namespaces) == 1 else sorted(namespaces)}}


def parameter_arn(partition, region, account):
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{AGENT_PARAMETER_PATTERN}"


def validate_scope(partition, region, account):
    if not isinstance(partition, str) or not _PARTITION.match(partition):
        raise PolicyInputError(f"partition {partition!r}: expected aws, aws-cn, aws-us-gov, ...")
    if not isinstance(region, str) or not _REGION.match(region):
        raise PolicyInputError(f"region {region!r}: expected a region name such as us-east-1")
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise PolicyInputError(f"account {account!r}: expected a 12-digit AWS account ID")
