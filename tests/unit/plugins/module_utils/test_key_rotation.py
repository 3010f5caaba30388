# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When a rotation's old keys are deactivated and deleted: plain data."""

import datetime

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils import key_rotation as kr

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)
OLD, NEW = "AKIAOLDKEY0000000000", "AKIANEWKEY0000000000"


def minutes(n):
    return datetime.timedelta(minutes=n)


def keys(old_status="Active"):
    return [dict(AccessKeyId=OLD, Status=old_status), dict(AccessKeyId=NEW, Status="Active")]


def empty():
    return {"switched": {}, "inactive": {}}


def retire(old_status="Active", last_used=None, journal=None, now=NOW, **options):
    """``last_used`` maps key ids to a time (a CloudWatch call) or to ``(time, service)``."""
    options.setdefault("margin_minutes", 0)
    options.setdefault("grace_days", 0)
    uses = {k: v if isinstance(v, tuple) else (v, "monitoring") for k, v in (last_used or {}).items()}
    return kr.plan_retirement(keys(old_status), NEW, uses, journal or empty(), now, **options)


def test_journal_round_trip_and_damage_is_ignored():
    journal = {"switched": {NEW: NOW}, "inactive": {OLD: NOW - minutes(5)}}
    value = kr.format_journal(journal)
    assert value == f"switched {NEW} 2026-11-30T12:00:00Z inactive {OLD} 2026-11-30T11:55:00Z"
    assert kr.parse_journal(value) == journal
    assert kr.parse_journal("switched AKIA yesterday inactive") == empty()
    assert kr.format_journal(empty()) is None


def test_all_hosts_switched_without_margin_or_grace_retires_at_once():
    decision = retire(switched=True, last_used={OLD: NOW - minutes(1), NEW: NOW})
    assert decision["deactivate"] == [OLD] and decision["delete"] == [OLD]
    assert decision["waiting"] == [] and decision["journal"] == empty()


def test_the_margin_keeps_the_old_key_active_and_the_switch_is_recorded_once():
    first = retire(switched=True, margin_minutes=240, last_used={OLD: NOW - minutes(1)})
    assert first["deactivate"] == [] and first["journal"]["switched"] == {NEW: NOW}
    assert first["waiting"] == [f"{OLD} stays active until 2026-11-30T16:00:00Z: AWS reports a key's last use with a delay"]
    # A rerun an hour later reports its own switch, but the first one counts.
    later = retire(switched=True, margin_minutes=240, journal=first["journal"], now=NOW + minutes(60))
    assert later["deactivate"] == [] and later["journal"]["switched"] == {NEW: NOW}
    done = retire(switched=True, margin_minutes=240, grace_days=7, journal=first["journal"], now=NOW + minutes(240))
    assert done["deactivate"] == [OLD] and done["delete"] == []
    assert done["journal"]["inactive"] == {OLD: NOW + minutes(240)}


def test_an_old_key_used_after_the_switch_stays_active_with_a_warning():
    decision = retire(switched=True, last_used={OLD: NOW + minutes(1)}, now=NOW + minutes(2), journal={"switched": {NEW: NOW}, "inactive": {}})
    assert decision["deactivate"] == [] and decision["delete"] == []
    assert decision["warnings"] and decision["warnings"][0].startswith(f"{OLD} was used at 2026-11-30T12:01:00Z, after every host")


def test_an_inactive_key_is_deleted_only_after_the_grace_period():
    seen = retire(old_status="Inactive", grace_days=7)
    assert seen["delete"] == [] and seen["journal"]["inactive"] == {OLD: NOW}
    assert seen["waiting"] == [f"{OLD} is inactive since 2026-11-30T12:00:00Z; it is deleted from 2026-12-07T12:00:00Z"]
    early = retire(old_status="Inactive", grace_days=7, journal=seen["journal"], now=NOW + datetime.timedelta(days=6))
    assert early["delete"] == []
    late = retire(old_status="Inactive", grace_days=7, journal=seen["journal"], now=NOW + datetime.timedelta(days=7))
    assert late["delete"] == [OLD] and late["journal"] == empty()


def test_a_reactivated_key_goes_through_the_last_use_rule_again():
    journal = {"switched": {NEW: NOW}, "inactive": {OLD: NOW - datetime.timedelta(days=30)}}
    decision = retire(switched=True, journal=journal, grace_days=7, last_used={OLD: NOW + minutes(5)}, now=NOW + minutes(10))
    assert decision["deactivate"] == [] and decision["delete"] == []


@pytest.mark.parametrize(
    "last_used, retired",
    [
        # The exporter's owner has not picked the new key up yet.
        ({OLD: NOW - minutes(500)}, False),
        # Both in use: the owner is switching.
        ({OLD: NOW - minutes(5), NEW: NOW}, False),
        # The new key is in use and the old one idle for the margin.
        ({OLD: NOW - minutes(300), NEW: NOW}, True),
        ({NEW: NOW}, True),
        # The collection's own check of the new key (sts:GetCallerIdentity) is not the owner's use.
        ({NEW: (NOW, "sts")}, False),
    ],
)
def test_without_a_switch_the_new_key_must_be_in_use_and_the_old_one_idle(last_used, retired):
    decision = retire(margin_minutes=240, last_used=last_used)
    assert (decision["deactivate"] == [OLD]) is retired
    assert decision["warnings"] == []


def test_the_stored_key_is_never_retired():
    decision = kr.plan_retirement([dict(AccessKeyId=NEW, Status="Inactive")], NEW, {}, empty(), NOW, switched=True, margin_minutes=0, grace_days=0)
    assert decision["deactivate"] == [] and decision["delete"] == []
