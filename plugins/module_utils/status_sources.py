# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the status report reads from AWS: the parameter versions the hosts run, and their access keys' ages.

A host records the SHA-256 digest of each parameter's value as its agent got it (the agent's downloader writes the
value unchanged: tool/downloader/downloader.go, downloadFromSSM); the version is found by hashing each version of
the parameter's history, so it is also known where only the host read the parameter. Only versions and dates
leave these helpers, never a value.

Each helper takes a client wrapped with ``retries.jittered_backoff()`` and plain values and raises
``AnsibleSSMError`` or ``AnsibleIAMError``.
"""

import hashlib

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler

from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import SSMErrorHandler
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import requires_permission


@SSMErrorHandler.list_error_handler("get parameter history")
@requires_permission("ssm:GetParameterHistory", "get parameter history")
def parameter_history(client, name):
    """Every version of the parameter still in its history, oldest first, or None when it does not exist."""
    versions, token = [], None
    while True:
        page = client.get_parameter_history(Name=name, WithDecryption=True, MaxResults=50, aws_retry=True,
                                            **({"NextToken": token} if token else {}))
        versions.extend(page.get("Parameters", []))
        token = page.get("NextToken")
        if not token:
            return sorted(versions, key=lambda v: v["Version"])


def digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def parameter_versions(client, name, digests):
    """The version of the parameter whose value has each digest (None for none), and its latest version.

    Parameter Store keeps the last 100 versions: a digest of an older value, or of a value never stored, has none.
    When versions share a value the newest is given.
    """
    history = parameter_history(client, name)
    if history is None:
        return {"exists": False, "latest": None, "versions": dict((d, None) for d in digests)}
    by_digest = dict((digest(v["Value"]), v["Version"]) for v in history)
    return {"exists": True, "latest": history[-1]["Version"], "versions": dict((d, by_digest.get(d)) for d in digests)}


@IAMErrorHandler.list_error_handler("get access key last used")
def _last_used(client, key_id):
    return client.get_access_key_last_used(AccessKeyId=key_id, aws_retry=True)


@IAMErrorHandler.list_error_handler("list access keys", [])
def _user_keys(client, user_name):
    keys, marker = [], None
    while True:
        page = client.list_access_keys(UserName=user_name, aws_retry=True, **({"Marker": marker} if marker else {}))
        keys.extend(page.get("AccessKeyMetadata", []))
        if not page.get("IsTruncated"):
            return keys
        marker = page["Marker"]


def access_keys(client, key_ids, now):
    """By key id: its user, status, creation and last use (ISO 8601) and age in days, or exists false.

    One GetAccessKeyLastUsed per key (it names the key's user) and one ListAccessKeys per user, whatever the number
    of hosts sharing them.
    """
    found, users = {}, {}
    for key_id in sorted(set(key_ids)):
        used = _last_used(client, key_id)
        if used is None:
            found[key_id] = {"exists": False}
            continue
        user = used["UserName"]
        if user not in users:
            users[user] = dict((k["AccessKeyId"], k) for k in _user_keys(client, user))
        key = users[user].get(key_id)
        if key is None:
            found[key_id] = {"exists": False}
            continue
        last = used.get("AccessKeyLastUsed", {}).get("LastUsedDate")
        found[key_id] = {"exists": True, "user_name": user, "status": key["Status"],
                         "create_date": key["CreateDate"].isoformat(),
                         "age_days": round((now - key["CreateDate"]).total_seconds() / 86400, 1),
                         "last_used_date": last.isoformat() if last else None}
    return found
