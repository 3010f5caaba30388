# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Admin rights that expire by themselves: a time-bound grant on the admin role or the admin user.

Outside a publish, the admin principal carries an inline policy that denies every action once
``aws:CurrentTime`` is past the end of the last grant, so it can do nothing. A grant moves that end to
now + the bound and writes a lease tag naming its holder; whatever stops the run, the rights end at the
bound. Releasing moves the end back to now, revokes the role's sessions issued until then (a deny on
``aws:TokenIssueTime``, as IAM's "revoke active sessions" does), deletes the admin user's access keys
(they exist only during a publish) and removes the lease. Recovering does the same for a grant whose
lease expired or was never written, and leaves a live grant of another run alone.

IAM has no conditional write: a grant writes its lease, waits a moment and reads it back; of two runs
that wrote at once, the one whose lease survived holds the grant and the other waits or fails.

Helpers take an IAM client wrapped with ``retries.jittered_backoff()`` and plain values.
"""

import datetime
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan

GRANT_TAG_KEY = "cloudwatch-admin-grant"
EXPIRY_POLICY_NAME = "CloudWatchAgentAdminGrantExpiry"
REVOKE_POLICY_NAME = "CloudWatchAgentAdminRevokeOlderSessions"
GRANT_POLICY_NAMES = (EXPIRY_POLICY_NAME, REVOKE_POLICY_NAME)
DURATION_MINUTES = (1, 720)
# IAM's tag value characters, less what would make the lease ambiguous to read back.
_HOLDER_RE = re.compile(r"[\w .:/=+@-]{1,128}", re.ASCII)
_LEASE_SEPARATOR = " until "
# Long enough that a run which read no lease has written its own before another reads it back.
SETTLE_SECONDS = 3
POLL_SECONDS = 10


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


# --- validation ----------------------------------------------------------------------------------


def validate_holder(holder, option="holder"):
    if holder is not None and (not _HOLDER_RE.fullmatch(holder) or _LEASE_SEPARATOR in holder):
        raise iam_error(
            f"{option} must be 1 to 128 letters, digits, spaces or _.:/=+-@ (and not contain '{_LEASE_SEPARATOR.strip()}' between spaces); got {holder!r}"
        )


def validate_duration(minutes, option="duration_minutes"):
    low, high = DURATION_MINUTES
    if not low <= minutes <= high:
        raise iam_error(f"{option} must be between {low} and {high} minutes; got {minutes}")


# --- the documents -------------------------------------------------------------------------------


def _deny_all(sid, operator, key, moment):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {operator: {key: iso(moment)}}}],
    }


def expiry_policy(ends):
    """Deny everything once the grant has ended."""
    return _deny_all("DenyAfterAdminGrantEnds", "DateGreaterThan", "aws:CurrentTime", ends)


def revoke_policy(before):
    """Deny every role session issued before ``before`` (credentials handed out during a grant)."""
    return _deny_all("DenySessionsIssuedBeforeRelease", "DateLessThan", "aws:TokenIssueTime", before)


def _policy_moment(document, key):
    """The date a policy of ours carries, or ``None`` when the document is not one of ours."""
    try:
        return parse_iso(next(iter(document["Statement"][0]["Condition"].values()))[key])
    except (KeyError, IndexError, TypeError, StopIteration, AttributeError):
        return None


def lease_value(holder, expires):
    return f"{holder}{_LEASE_SEPARATOR}{iso(expires)}"


def parse_lease(value):
    """``{"holder", "expires"}`` from a lease tag's value; an unreadable lease counts as expired."""
    holder, _sep, expires = (value or "").rpartition(_LEASE_SEPARATOR)
    moment = parse_iso(expires)
    return {"holder": holder or value, "expires": moment or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)}


# --- reading the state ---------------------------------------------------------------------------


def _missing(kind, name):
    return iam_error(f"The admin {kind} {name} does not exist: create it first (role observability.cloudwatch.iam).")


def read_grant(client, kind, name):
    """The lease, the end of the last grant, the revocation time and (for a user) the access keys;
    ``None`` when the role or user does not exist."""
    principal = get_iam_role(client, name) if kind == "role" else iam_api.get_user(client, name)
    if not principal:
        return None
    tags = {t["Key"]: t["Value"] for t in principal.get("Tags") or []}
    expiry = iam_api.get_inline_policy(client, kind, name, EXPIRY_POLICY_NAME)
    state = {
        "kind": kind,
        "name": name,
        "arn": principal["Arn"],
        "lease": parse_lease(tags[GRANT_TAG_KEY]) if GRANT_TAG_KEY in tags else None,
        "ends": _policy_moment(expiry, "aws:CurrentTime") if expiry else None,
        "revoked_before": None,
        "access_key_ids": [],
    }
    if kind == "role":
        revoke = iam_api.get_inline_policy(client, kind, name, REVOKE_POLICY_NAME)
        state["revoked_before"] = _policy_moment(revoke, "aws:TokenIssueTime") if revoke else None
    else:
        state["access_key_ids"] = [k["AccessKeyId"] for k in iam_api.list_access_keys(client, name)]
    return state


def live_lease_of_another(state, holder, now):
    """The lease of another holder that has not expired, or ``None``."""
    lease = state["lease"]
    if lease and lease["holder"] != holder and lease["expires"] > now:
        return lease
    return None


def lease_view(lease):
    return {"holder": lease["holder"], "expires": iso(lease["expires"])}


# --- grant ---------------------------------------------------------------------------------------


def _held_error(state, lease, waited):
    after = f" after waiting {int(waited)} seconds" if waited else ""
    return iam_error(
        f"The admin {state['kind']} {state['name']} is granted to {lease['holder']} until {iso(lease['expires'])}"
        f"{after}: another publish is running. Wait for it (wait_timeout), or, if that run is gone, for its grant to "
        "expire; the next run then cleans up. Nothing was changed."
    )


def _no_guard():
    return None


def acquire_grant(client, kind, name, holder, minutes, wait_timeout, check_mode=False, clock=utc_now, sleep=time.sleep, guard=_no_guard):
    """Take the grant for ``holder`` for ``minutes``, waiting up to ``wait_timeout`` seconds for another's;
    ``guard()`` runs before the first write, also in check mode (the caller check)."""
    started = clock()
    waited_for = None
    while True:
        state = read_grant(client, kind, name)
        if state is None:
            raise _missing(kind, name)
        now = clock()
        other = live_lease_of_another(state, holder, now)
        if other is None:
            guard()
        if other is None and not check_mode:
            if state["lease"] and state["lease"]["holder"] != holder:
                # The grant of a run that died (or overran) expired: finish it before taking a new one.
                plan_release(client, state, now).apply()
            ends = now + datetime.timedelta(minutes=minutes)
            iam_api.put_inline_policy(client, kind, name, EXPIRY_POLICY_NAME, expiry_policy(ends))
            iam_api.tag_principal(client, kind, name, {GRANT_TAG_KEY: lease_value(holder, ends)})
            sleep(SETTLE_SECONDS)
            state = read_grant(client, kind, name)
            other = live_lease_of_another(state, holder, clock())
            if other is None:
                if state["ends"] != ends:  # a run that lost the race wrote its end after ours
                    iam_api.put_inline_policy(client, kind, name, EXPIRY_POLICY_NAME, expiry_policy(ends))
                return _grant_result(state, holder, ends, waited_for)
        elif other is None:
            return _grant_result(state, holder, now + datetime.timedelta(minutes=minutes), waited_for)
        waited = (clock() - started).total_seconds()
        if check_mode or waited + POLL_SECONDS > wait_timeout:
            raise _held_error(state, other, waited)
        waited_for = lease_view(other)
        sleep(POLL_SECONDS)


def _grant_result(state, holder, ends, waited_for):
    return dict(
        changed=True,
        changes=[f"grant admin rights on {state['kind']} {state['name']} to {holder} until {iso(ends)}"],
        grant={"holder": holder, "expires": iso(ends), "arn": state["arn"]},
        waited_for=waited_for,
    )


# --- release and recovery ------------------------------------------------------------------------


def plan_release(client, state, now):
    """End the grant now: deny from now on, revoke the sessions handed out, delete the keys, free the lease."""
    kind, name = state["kind"], state["name"]
    plan = Plan({})
    if state["ends"] is None or state["ends"] > now:
        plan.add(
            f"end the admin grant on {kind} {name} at {iso(now)}", lambda: iam_api.put_inline_policy(client, kind, name, EXPIRY_POLICY_NAME, expiry_policy(now))
        )
    # Sessions issued while the grant lasted must not come back with the next grant.
    if kind == "role" and (state["revoked_before"] is None or state["ends"] is None or state["revoked_before"] < min(state["ends"], now)):
        # The next whole second: the policy's date has no fraction, and no earlier session may slip through.
        cut = now.replace(microsecond=0) + datetime.timedelta(seconds=1)
        plan.add(
            f"revoke the sessions of role {name} issued before {iso(cut)}",
            lambda: iam_api.put_inline_policy(client, kind, name, REVOKE_POLICY_NAME, revoke_policy(cut)),
        )
    for key_id in state["access_key_ids"]:
        plan.add(f"delete access key {key_id} of user {name}", lambda key_id=key_id: iam_api.delete_access_key(client, name, key_id))
    if state["lease"]:
        plan.add(f"remove the lease of {state['lease']['holder']} from {kind} {name}", lambda: iam_api.untag_principal(client, kind, name, [GRANT_TAG_KEY]))
    return plan


def release_grant(client, kind, name, holder=None, check_mode=False, clock=utc_now, guard=_no_guard):
    """Release ``holder``'s grant, or (no holder) recover one whose lease expired; a live grant of another run stays."""
    state = read_grant(client, kind, name)
    if state is None and check_mode:  # check mode of a run that would create it first
        guard()
        return dict(changed=True, changes=[f"end the admin grant on new {kind} {name}"])
    if state is None:
        raise _missing(kind, name)
    now = clock()
    other = live_lease_of_another(state, holder, now)
    if other is not None:
        warnings = [f"The admin grant on {kind} {name} is held by {other['holder']}, not {holder}: left alone."] if holder else []
        return Plan({}).result(held_by=lease_view(other), warnings=warnings)
    plan = plan_release(client, state, now)
    if plan.changed:
        guard()
    if plan.changed and not check_mode:
        plan.apply()
    return plan.result()
