# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudWatch Logs: what it accepts, the log group calls, and the plan that brings log groups to a spec.

Helpers take a client (made with ``retry_decorator=retries.jittered_backoff()``) and plain values, never
the module; every call passes ``aws_retry=True``. Readers return ``None`` for what does not exist; writers
return ``True``. Errors are raised as ``AnsibleCloudWatchLogsError``.
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import log_group_arn
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff

# Every retention CloudWatch Logs accepts (PutRetentionPolicy), in days. "Never expire" is the absence
# of a retention policy, not a value.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)


def validate_retention(days):
    """``days`` if CloudWatch Logs accepts it (``None``: not managed); raise ``ValueError`` otherwise."""
    if days is not None and days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"log group retention {days!r} days: CloudWatch Logs accepts {', '.join(str(d) for d in LOG_RETENTION_DAYS)}"
        )
    return days


class AnsibleCloudWatchLogsError(AnsibleAWSError):
    pass


class CloudWatchLogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudWatchLogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


# ---------------------------------------------------------------------------------------------------
# Calls


@CloudWatchLogsErrorHandler.list_error_handler("describe log group")
@jittered_backoff()  # paginators bypass the client's retry wrapper
def get_log_group(client, name):
    """The log group ``name`` as ``dict(name, arn, retention_in_days)``, or ``None``."""
    paginator = client.get_paginator("describe_log_groups")
    for page in paginator.paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return {
                    "name": name,
                    "arn": _strip_wildcard(group.get("arn", "")),
                    "retention_in_days": group.get("retentionInDays"),
                }
    return None


def _strip_wildcard(arn):
    """DescribeLogGroups returns a group's ARN with ``:*`` appended; the group's own ARN has none."""
    return arn[:-2] if arn.endswith(":*") else arn


@CloudWatchLogsErrorHandler.common_error_handler("create log group")
def create_log_group(client, name, tags=None):
    params = {"logGroupName": name}
    if tags:
        params["tags"] = dict(tags)
    client.create_log_group(aws_retry=True, **params)
    return True


@CloudWatchLogsErrorHandler.common_error_handler("set log group retention")
def put_log_group_retention(client, name, days):
    client.put_retention_policy(logGroupName=name, retentionInDays=days, aws_retry=True)
    return True


def read_log_groups(client, names):
    """``{name: get_log_group(...)}``: one DescribeLogGroups per name."""
    return {name: get_log_group(client, name) for name in names}


# ---------------------------------------------------------------------------------------------------
# Plan


def plan_log_groups(current, names, retention_days):
    """What to do to the log groups ``names``: ``(to_create, to_set_retention)`` name lists.

    ``current`` maps each name to ``get_log_group``'s answer. A group that exists is never deleted or
    recreated; only its retention is set, when ``retention_days`` is not ``None`` and differs.
    """
    to_create = [name for name in names if current.get(name) is None]
    to_retain = []
    if retention_days is not None:
        to_retain = [
            name for name in names
            if current.get(name) is None or current[name].get("retention_in_days") != retention_days
        ]
    return to_create, to_retain


def log_group_views(current, names):
    """The groups of ``names`` that exist in ``current``, in the order of ``names``."""
    return [dict(current[name]) for name in names if current.get(name)]


def plan_log_group_changes(plan, client, current, names, retention_days, tags, partition, region, account):
    """Add to ``plan`` the creation (tagged ``tags``) and retention of the groups ``names``; set
    ``plan.after["log_groups"]`` to their predicted views (a new group's ARN in ``partition``, ``region``,
    ``account``)."""
    to_create, to_retain = plan_log_groups(current, names, retention_days)
    views = {name: dict(group) for name, group in current.items() if group}
    for name in to_create:
        plan.add(f"create log group {name}", functools.partial(create_log_group, client, name, tags))
        views[name] = dict(name=name, arn=log_group_arn(partition, region, account, name), retention_in_days=None)
    for name in to_retain:
        plan.add(
            f"set retention of log group {name} to {retention_days} days",
            functools.partial(put_log_group_retention, client, name, retention_days),
        )
        views[name]["retention_in_days"] = retention_days
    plan.after["log_groups"] = [views[name] for name in names]


def plan_managed_log_groups(client, names, create, retention_days, tags, partition, region, account):
    """A plan of its own for the log groups ``names``: their views and, when ``create``, their creation and
    retention (see :func:`plan_log_group_changes`); without ``create`` nothing is read."""
    current = read_log_groups(client, names) if create else {}
    plan = Plan(dict(log_groups=log_group_views(current, names)))
    if create:
        plan_log_group_changes(plan, client, current, names, retention_days, tags, partition, region, account)
    return plan
