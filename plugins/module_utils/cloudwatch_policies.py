# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM policy documents for CloudWatch: pure functions, no AWS calls.

- ``exporter_permission_policy`` and ``exporter_trust_policy``: the documents of the module
  ``exporter_access`` (an external exporter writing logs, traces and metrics into CloudWatch).
- ``duty_policy``: least-privilege identity policies for common CloudWatch duties, behind the filter
  ``observability.cloudwatch.cloudwatch_policy``.
- Validation of the values these documents are built from (log group names and ARNs, OIDC issuer URLs
  and provider ARNs, role ARNs, thumbprints).

Every function raises ``PolicyInputError`` (a ``ValueError``) with a message naming the bad value.
Policies are plain dicts; each statement has a ``Sid`` so that tests and diffs can name it.
"""

import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX

POLICY_VERSION = "2012-10-17"
DEFAULT_AUDIENCE = "sts.amazonaws.com"

# Parameters the CloudWatch agent and exporters read their configuration from.
AGENT_PARAMETER_PATTERN = CONFIG_NAME_PREFIX + "*"

EXPORTER_DATA_TYPES = ("logs", "traces", "metrics")
DEFAULT_EXPORTER_DATA_TYPES = ("logs", "traces")

# Log actions, by the resource IAM authorizes them against.
LOG_LIST_ACTIONS = ("logs:DescribeLogGroups",)  # no resource-level permissions: always "*"
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

_LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_LOG_GROUP_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_PROVIDER_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):oidc-provider/(?P<issuer>[^\s]+)$")
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_ISSUER = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[^\s?#]*)?$")
_ACCOUNT = re.compile(r"^(\d{12}|\*)$")
_REGION = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d|\*)$")
_NAMESPACE = re.compile(r"^[^:$\s][^:$]{0,254}$")
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


def _log_group_resources(arns):
    """(group resources, stream resources) for log group ARNs; ``["*"]`` for both when there are none.

    Log group actions get both the group's ARN and the same with ``:*``: CloudWatch Logs authorizes some of
    them against the ARN as DescribeLogGroups returns it (with ``:*``). Stream actions act on
    ``log-group:NAME:log-stream:STREAM``, which only ``log-group:NAME:*`` matches.
    """
    if not arns:
        return ["*"], ["*"]
    streams = [arn + ":*" for arn in arns]
    return list(arns) + streams, streams


def validate_retention(days):
    if days is not None and days not in LOG_RETENTION_DAYS:
        raise PolicyInputError(
            f"log group retention {days!r} days: CloudWatch Logs accepts {', '.join(str(d) for d in LOG_RETENTION_DAYS)}"
        )
    return days


# ---------------------------------------------------------------------------------------------------
# Exporter permission policy


def parameter_arn(partition, region, account):
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{AGENT_PARAMETER_PATTERN}"


def _validate_scope(partition, region, account):
    if not isinstance(partition, str) or not _PARTITION.match(partition):
        raise PolicyInputError(f"partition {partition!r}: expected aws, aws-cn, aws-us-gov, ...")
    if not isinstance(region, str) or not _REGION.match(region):
        raise PolicyInputError(f"region {region!r}: expected a region name such as us-east-1")
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise PolicyInputError(f"account {account!r}: expected a 12-digit AWS account ID")


def exporter_permission_policy(partition, region, account, data_types=DEFAULT_EXPORTER_DATA_TYPES,
                               parameter_access=True, log_groups=None):
    """The identity policy of an exporter writing ``data_types`` into CloudWatch in ``region``.

    ``log_groups`` (names or ARNs of this region) narrows the log-group and log-stream actions from ``*``
    to those groups. ``parameter_access`` adds ``ssm:GetParameters`` on the account's and region's
    ``AmazonCloudWatch-*`` parameters.
    """
    _validate_scope(partition, region, account)
    data_types = list(data_types or [])
    unknown = sorted(set(data_types) - set(EXPORTER_DATA_TYPES))
    if unknown:
        raise PolicyInputError(f"data_types {unknown}: expected some of {', '.join(EXPORTER_DATA_TYPES)}")
    if not data_types:
        raise PolicyInputError("data_types is empty: an exporter writes at least one of logs, traces, metrics")
    names = log_group_names(log_groups, region, account)

    statements = []
    if "logs" in data_types:
        groups, streams = _log_group_resources([log_group_arn(partition, region, account, n) for n in names])
        statements += [
            statement("ExporterListLogGroups", LOG_LIST_ACTIONS, ["*"]),
            statement("ExporterWriteLogGroups", LOG_GROUP_WRITE_ACTIONS, groups),
            statement("ExporterWriteLogStreams", LOG_STREAM_WRITE_ACTIONS, streams),
        ]
    if "traces" in data_types:
        statements.append(statement("ExporterWriteTraces", TRACE_ACTIONS, ["*"]))
    if "metrics" in data_types:
        statements.append(statement("ExporterWriteMetrics", METRIC_WRITE_ACTIONS, ["*"]))
    if parameter_access:
        statements.append(
            statement("ExporterReadParameters", ["ssm:GetParameters"], [parameter_arn(partition, region, account)])
        )
    return policy_document(statements)


# ---------------------------------------------------------------------------------------------------
# OIDC issuers and the exporter's trust policy


def issuer_from_url(url):
    """The issuer as IAM names it in provider ARNs and condition keys: the URL without ``https://``.

    The path is kept (``oidc.eks.us-east-1.amazonaws.com/id/ABC``); the host is lower-cased and a trailing
    ``/`` dropped, as IAM does.
    """
    if not isinstance(url, str) or not url.startswith("https://"):
        raise PolicyInputError(f"oidc_provider_url {url!r}: expected https://HOST[/PATH]")
    rest = url[len("https://"):].rstrip("/")
    host, sep, path = rest.partition("/")
    issuer = host.lower() + sep + path
    if not host or not _ISSUER.match(issuer) or len(url) > 255:
        raise PolicyInputError(
            f"oidc_provider_url {url!r}: expected https://HOST[/PATH], at most 255 characters, "
            "without query or fragment"
        )
    return issuer


def parse_provider_arn(arn):
    """``dict(partition, account, issuer)`` of an IAM OIDC provider ARN."""
    match = _PROVIDER_ARN.match(arn or "") if isinstance(arn, str) else None
    if not match:
        raise PolicyInputError(
            f"OIDC provider ARN {arn!r}: expected arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH]"
        )
    return match.groupdict()


def validate_thumbprints(thumbprints):
    thumbprints = list(thumbprints or [])
    for thumbprint in thumbprints:
        if not isinstance(thumbprint, str) or not _THUMBPRINT.match(thumbprint):
            raise PolicyInputError(
                f"thumbprint {thumbprint!r}: expected the 40 hexadecimal digits of a SHA-1 certificate fingerprint"
            )
    if len(thumbprints) > 5:
        raise PolicyInputError(f"thumbprints: IAM keeps at most 5 per OIDC provider, got {len(thumbprints)}")
    return [t.lower() for t in thumbprints]


def validate_role_arns(arns):
    for arn in arns or []:
        if not isinstance(arn, str) or not _ROLE_ARN.match(arn):
            raise PolicyInputError(f"trusted_role_arns: {arn!r} is not a role ARN; expected arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME")
    return list(dict.fromkeys(arns or []))


def exporter_trust_policy(provider_arn=None, issuer=None, audience=DEFAULT_AUDIENCE, service_account=None,
                          trusted_role_arns=None, external_id=None):
    """The trust policy of the exporter's role.

    - With ``provider_arn`` (and its ``issuer``): the provider as ``Federated`` principal with
      ``sts:AssumeRoleWithWebIdentity``, on condition that the token's ``aud`` is ``audience`` and, when
      ``service_account`` is given, its ``sub`` is ``service_account``.
    - With ``trusted_role_arns``: those roles as ``AWS`` principals with ``sts:AssumeRole``, on condition of
      ``sts:ExternalId`` when ``external_id`` is given.
    """
    statements = []
    if provider_arn:
        if not issuer:
            issuer = parse_provider_arn(provider_arn)["issuer"]
        if not audience:
            raise PolicyInputError("audience is empty: the trust policy needs the token's audience")
        condition = {f"{issuer}:aud": audience}
        if service_account:
            condition[f"{issuer}:sub"] = service_account
        statements.append(
            {
                "Sid": "ExporterWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": condition},
            }
        )
    arns = validate_role_arns(trusted_role_arns)
    if arns:
        trusted = {
            "Sid": "ExporterTrustedRoles",
            "Effect": "Allow",
            "Principal": {"AWS": arns[0] if len(arns) == 1 else sorted(arns)},
            "Action": "sts:AssumeRole",
        }
        if external_id:
            trusted["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
        statements.append(trusted)
    if not statements:
        raise PolicyInputError(
            "nobody could assume the role: give an OIDC provider (oidc_provider_url or oidc_provider_arn) "
            "or trusted_role_arns"
        )
    return policy_document(statements)


def federated_principals(trust_policy):
    """The ``Federated`` principals of a trust policy (a dict), as a set of strings."""
    found = set()
    statements = (trust_policy or {}).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for item in statements:
        principal = item.get("Principal") if isinstance(item, dict) else None
        if not isinstance(principal, dict):
            continue
        federated = principal.get("Federated", [])
        found.update([federated] if isinstance(federated, str) else federated)
    return found


# ---------------------------------------------------------------------------------------------------
# Duties (the filter cloudwatch_policy)

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
    groups, streams = _log_group_resources(group_arns)
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
    _validate_scope(partition, region, account_id)
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
