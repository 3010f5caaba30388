# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Creating an access key when AWS's answer may never come.

CreateAccessKey is not idempotent, and its answer holds the only copy of the secret: a request resent
after a lost answer makes a second key, and the first one's secret is gone. So the request is never
resent after such an answer (``iam_api.create_access_key``). When its outcome is unknown (no answer,
or a server error), the user's keys are listed: a key created during the call, not listed before it and not in the store, is
the one whose answer was lost; it is deactivated and deleted, with a warning, and the key is created
once more. A key anyone else made is never touched.
"""

import datetime

try:
    import botocore.exceptions
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error

# AWS refuses a request signed more than 5 minutes off its clock, so the CreateDate of a key made
# during a call is at most that far outside the call's window read on the local clock.
CLOCK_SKEW = datetime.timedelta(minutes=5)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def outcome_unknown(error):
    """Whether AWS may have made the key although the create raised ``error`` (an ``AnsibleIAMError``):
    no answer (connection dropped or reset, timeout) or a server error. An error answer below 500
    (LimitExceeded, NoSuchEntity, AccessDenied, throttling) says that nothing was made."""
    cause = getattr(error, "exception", None)
    if isinstance(cause, botocore.exceptions.ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status is None or status >= 500
    return isinstance(cause, (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError))


def _cause(error):
    """What went wrong, in a few words and never with a secret: an error code or an exception name."""
    cause = getattr(error, "exception", None)
    if isinstance(cause, botocore.exceptions.ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"HTTP {status} {cause.response.get('Error', {}).get('Code', '')}".strip()
    return type(cause or error).__name__


def keys_made_during(keys, started, finished, known_key_ids):
    """The ``keys`` created between ``started`` and ``finished`` (with the clock skew allowance) whose
    ids are not in ``known_key_ids`` (the keys listed before the call and the one in the store)."""
    low, high = started - CLOCK_SKEW, finished + CLOCK_SKEW
    return [k for k in keys if k["AccessKeyId"] not in known_key_ids and low <= k["CreateDate"] <= high]


def remove_lost_key(client, user_name, started, finished, known_key_ids, cause):
    """After a create with no answer: deactivate and delete the key it made, if any. Returns the
    warning naming the deleted key, or ``None``; raises, touching nothing, when more than one key
    could be it."""
    try:
        keys = iam_api.list_access_keys(client, user_name)
    except AnsibleIAMError as e:
        raise iam_error(
            f"CreateAccessKey for user {user_name} got no answer ({cause}), and its keys could not be listed to "
            f"remove a key it may have made ({e.message}). A key of that user created at {started:%Y-%m-%d %H:%M:%S} "
            "UTC that is not in the access key store has no stored secret: delete it, then run again."
        ) from None
    lost = keys_made_during(keys, started, finished, set(known_key_ids))
    if len(lost) > 1:
        ids = ", ".join(k["AccessKeyId"] for k in lost)
        raise iam_error(
            f"CreateAccessKey for user {user_name} got no answer ({cause}). The user now has {len(lost)} keys created "
            f"at that moment that are not in the access key store ({ids}): another run may be making keys for this "
            "user. None was touched. Delete the one no host uses, then run again."
        )
    if not lost:
        return None
    key_id = lost[0]["AccessKeyId"]
    iam_api.deactivate_access_key(client, user_name, key_id)
    iam_api.delete_access_key(client, user_name, key_id)
    return (
        f"CreateAccessKey for user {user_name} got no answer ({cause}), but AWS had made access key {key_id}; "
        "its secret was never received, so that key was deactivated and deleted."
    )


def create_access_key_once(client, user_name, known_key_ids, stored_key_id, warnings):
    """Create a key for ``user_name`` and return it (with its secret), leaving no key behind when an
    answer is lost: after a create whose outcome is unknown, :func:`remove_lost_key`, then one more
    create. ``known_key_ids`` are the user's keys listed before; ``stored_key_id()`` returns the key id
    in the store (read only when needed). Warnings are appended to ``warnings``."""
    removed, missed = [], None
    for _attempt in range(2):
        started = _now()
        try:
            key = iam_api.create_access_key(client, user_name)
        except AnsibleIAMError as e:
            if not outcome_unknown(e):
                if not removed:
                    raise
                # A failing run shows no warning: the error names the key removed before.
                raise AnsibleIAMError(message=f"{e.message} (before that, {' '.join(removed)})", exception=e.exception) from e
            cause = _cause(e)
        else:
            if missed:
                warnings.extend(_look_again(client, user_name, missed, key["AccessKeyId"], cause))
            return key
        known = set(known_key_ids) | {stored_key_id()}
        window = (started, _now())
        warning = remove_lost_key(client, user_name, *window, known, cause)
        missed = None if warning else (window, known)
        if warning:
            warnings.append(warning)
            removed.append(warning)
    summary = [f"CreateAccessKey for user {user_name} got no answer twice (last: {cause})."] + removed
    summary.append("No key is left behind and the access key store was not changed: run again.")
    raise iam_error(" ".join(summary))


def _look_again(client, user_name, missed, new_key_id, cause):
    """IAM is eventually consistent: a key the listing after a lost answer missed may show once the
    next create succeeded. The new key is in hand, so this warns rather than fails."""
    (started, finished), known = missed
    try:
        warning = remove_lost_key(client, user_name, started, finished, known | {new_key_id}, cause)
    except AnsibleIAMError as e:
        return [e.message]
    return [warning] if warning else []
