# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The end of a key rotation: when a user's old keys may be deactivated, and when deleted.

A rotation leaves the new key in the store and the old keys beside it. An old key is deactivated only once
nothing has used it since every consumer got the new key, as ``GetAccessKeyLastUsed`` tells with AWS's delay
allowed for, and deleted only after it stayed inactive for a grace period. Runs are short and a rotation spans
several, so what a run learned is kept on the user in one tag, the *journal* (see :func:`format_journal`):
when every consumer had the new key, and since when each old key is inactive.
"""

import datetime

from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import iso
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import parse_iso

ROTATION_TAG_KEY = "cloudwatch-key-rotation"


def utc_now():
    """Now, to the second: the journal keeps seconds, so a moment read back equals the one written."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse_journal(value):
    """The journal a tag value holds: ``{"switched": {key_id: time}, "inactive": {key_id: time}}``. Words come in
    threes, ``switched KEY TIME`` or ``inactive KEY TIME`` (IAM tag values allow no other separator); anything
    else is ignored, so a damaged tag only costs a restarted wait, never an early retirement."""
    journal = {"switched": {}, "inactive": {}}
    words = (value or "").split()
    for index in range(0, len(words) - 2, 3):
        kind, key_id, moment = words[index : index + 3]
        parsed = parse_iso(moment)
        if kind in journal and parsed is not None:
            journal[kind][key_id] = parsed
    return journal


def format_journal(journal):
    """The tag value for ``journal``, or ``None`` when it is empty (the tag goes)."""
    words = [f"{kind} {key_id} {iso(moment)}" for kind in ("switched", "inactive") for key_id, moment in sorted(journal[kind].items())]
    return " ".join(words) or None


def plan_retirement(keys, stored_key_id, last_used, journal, now, switched=False, margin_minutes=240, grace_days=7):
    """Decide what happens to the user's keys other than ``stored_key_id`` (pure).

    ``keys`` are the user's keys (``AccessKeyId``, ``Status``); ``last_used`` maps each key id to its last use,
    ``(LastUsedDate or None, ServiceName)``; ``journal`` is :func:`parse_journal`'s; ``switched``: every consumer has the
    stored key now (the first such moment is kept in the journal). Without a recorded switch (an exporter,
    whose owner picks the new key up in its own time), an old key is deactivated once the stored key has
    been used by its consumer and the old one has not, for ``margin_minutes``. A call to STS does not count as
    the consumer's: the collection checks a new key with one.

    Returns ``deactivate`` and ``delete`` (key ids, in that order), ``journal`` (the new one), ``waiting``
    (one line per old key that stays, saying until when or why) and ``warnings``.
    """
    margin = datetime.timedelta(minutes=margin_minutes)
    grace = datetime.timedelta(days=grace_days)
    ids = {k["AccessKeyId"] for k in keys}
    old = [k for k in keys if k["AccessKeyId"] != stored_key_id]
    new_journal = {"switched": {}, "inactive": {k: t for k, t in journal["inactive"].items() if k in ids and k != stored_key_id}}
    since = journal["switched"].get(stored_key_id)
    if switched and since is None:
        since = now
    if since is not None and old:
        new_journal["switched"][stored_key_id] = since
    result = dict(deactivate=[], delete=[], journal=new_journal, waiting=[], warnings=[])

    for key in old:
        key_id = key["AccessKeyId"]
        if key["Status"] == "Active":
            reason = _still_needed(key_id, stored_key_id, last_used, since, now, margin)
            if reason:
                result["waiting"].append(reason)
                if reason.startswith(f"{key_id} was used at"):
                    result["warnings"].append(reason)
                continue
            result["deactivate"].append(key_id)
            new_journal["inactive"][key_id] = now
        inactive_since = new_journal["inactive"].setdefault(key_id, now)
        if now - inactive_since >= grace:
            result["delete"].append(key_id)
            del new_journal["inactive"][key_id]
        else:
            result["waiting"].append(f"{key_id} is inactive since {iso(inactive_since)}; it is deleted from {iso(inactive_since + grace)}")
    if not result["waiting"]:
        new_journal["switched"] = {}
    return result


def _still_needed(key_id, stored_key_id, last_used, since, now, margin):
    """Why the active old key ``key_id`` must stay active, or ``None`` when it may be deactivated."""
    used = last_used.get(key_id, (None, None))[0]
    if since is not None:
        if used is not None and used >= since:
            return (
                f"{key_id} was used at {iso(used)}, after every host had the new key {stored_key_id} ({iso(since)}):"
                " something outside the inventory still uses it, so it stays active"
            )
        if now < since + margin:
            return f"{key_id} stays active until {iso(since + margin)}: AWS reports a key's last use with a delay"
        return None
    new_used, new_service = last_used.get(stored_key_id, (None, None))
    if new_used is None or new_service in (None, "N/A", "sts"):
        return f"{key_id} stays active: the new key {stored_key_id} has not been used yet (give it to the key's consumers)"
    if used is not None and now - used < margin:
        return f"{key_id} stays active: it was used at {iso(used)}, within the last {int(margin.total_seconds() // 60)} minutes"
    return None
