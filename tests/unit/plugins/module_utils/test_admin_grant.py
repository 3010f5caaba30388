# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin grant's lease and deny policies, on an in-memory IAM with a clock the tests move."""

import datetime
import json

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.observability.cloudwatch.plugins.module_utils import admin_grant

T0 = datetime.datetime(2026, 11, 30, 10, 0, 0, 250000, tzinfo=datetime.timezone.utc)


class FakeIAM:
    """Just the IAM calls the grant makes, for one role and one user; ``on_sleep`` lets a test act meanwhile."""

    def __init__(self):
        self.principals = {
            ("role", "CloudWatchAgentAdminRole"): {"tags": {}, "policies": {}},
            ("user", "cloudwatch-agent-admin"): {"tags": {}, "policies": {}, "keys": []},
        }
        self.writes = []

    def _p(self, kwargs):
        kind, name = ("role", kwargs["RoleName"]) if "RoleName" in kwargs else ("user", kwargs["UserName"])
        return kind, name, self.principals[(kind, name)]

    def _entity(self, kind, **kwargs):
        _kind, name, p = self._p(kwargs)
        tags = [{"Key": k, "Value": v} for k, v in p["tags"].items()]
        return {kind.capitalize(): {"Arn": f"arn:aws:iam::123456789012:{kind}/{name}", "Tags": tags}}

    def get_role(self, **kwargs):
        return self._entity("role", **kwargs)

    def get_user(self, **kwargs):
        return self._entity("user", **kwargs)

    def _get_policy(self, **kwargs):
        _kind, _name, p = self._p(kwargs)
        if kwargs["PolicyName"] not in p["policies"]:
            raise _no_such_entity()
        return {"PolicyDocument": p["policies"][kwargs["PolicyName"]]}

    get_role_policy = get_user_policy = _get_policy

    def _put_policy(self, **kwargs):
        kind, name, p = self._p(kwargs)
        p["policies"][kwargs["PolicyName"]] = json.loads(kwargs["PolicyDocument"])
        self.writes.append(("put", kind, kwargs["PolicyName"]))
        return {}

    put_role_policy = put_user_policy = _put_policy

    def _tag(self, **kwargs):
        kind, _name, p = self._p(kwargs)
        p["tags"].update({t["Key"]: t["Value"] for t in kwargs["Tags"]})
        self.writes.append(("tag", kind))
        return {}

    tag_role = tag_user = _tag

    def _untag(self, **kwargs):
        kind, _name, p = self._p(kwargs)
        for key in kwargs["TagKeys"]:
            p["tags"].pop(key, None)
        self.writes.append(("untag", kind))
        return {}

    untag_role = untag_user = _untag

    def list_access_keys(self, **kwargs):
        _kind, _name, p = self._p(kwargs)
        return {"AccessKeyMetadata": [dict(k) for k in p["keys"]], "IsTruncated": False}

    def delete_access_key(self, **kwargs):
        _kind, _name, p = self._p(kwargs)
        p["keys"] = [k for k in p["keys"] if k["AccessKeyId"] != kwargs["AccessKeyId"]]
        self.writes.append(("delete key", kwargs["AccessKeyId"]))
        return {}

    # helpers for the tests
    def policy(self, kind, policy_name):
        name = "CloudWatchAgentAdminRole" if kind == "role" else "cloudwatch-agent-admin"
        return self.principals[(kind, name)]["policies"].get(policy_name)

    def tags(self, kind):
        name = "CloudWatchAgentAdminRole" if kind == "role" else "cloudwatch-agent-admin"
        return self.principals[(kind, name)]["tags"]


def _no_such_entity():
    import botocore.exceptions

    return botocore.exceptions.ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetRolePolicy")


class Clock:
    def __init__(self, start=T0):
        self.now = start
        self.on_sleep = None

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        if self.on_sleep:
            self.on_sleep()
        self.now += datetime.timedelta(seconds=seconds)


NAMES = {"role": "CloudWatchAgentAdminRole", "user": "cloudwatch-agent-admin"}


def condition_date(document):
    return next(iter(next(iter(document["Statement"][0]["Condition"].values())).values()))


@pytest.fixture
def iam():
    return FakeIAM()


@pytest.fixture
def clock():
    return Clock()


def acquire(iam, clock, kind, holder="run-a", minutes=15, wait=0):
    return admin_grant.acquire_grant(iam, kind, NAMES[kind], holder, minutes, wait, clock=clock, sleep=clock.sleep)


def release(iam, clock, kind, holder=None, check_mode=False):
    return admin_grant.release_grant(iam, kind, NAMES[kind], holder, check_mode=check_mode, clock=clock)


@pytest.mark.parametrize("kind", ["role", "user"])
def test_recovery_sets_up_the_deny_on_a_new_principal_once(iam, clock, kind):
    first = release(iam, clock, kind)
    assert first["changed"]
    assert condition_date(iam.policy(kind, "CloudWatchAgentAdminGrantExpiry")) == "2026-11-30T10:00:00Z"
    if kind == "role":
        # Sessions issued up to the next whole second are revoked.
        assert condition_date(iam.policy(kind, "CloudWatchAgentAdminRevokeOlderSessions")) == "2026-11-30T10:00:01Z"
    else:
        assert iam.policy(kind, "CloudWatchAgentAdminRevokeOlderSessions") is None
    clock.now += datetime.timedelta(hours=1)
    iam.writes.clear()
    again = release(iam, clock, kind)
    assert not again["changed"] and again["changes"] == [] and iam.writes == []


@pytest.mark.parametrize("kind", ["role", "user"])
def test_a_grant_ends_at_its_bound_and_names_its_holder(iam, clock, kind):
    result = acquire(iam, clock, kind, holder="ops@ctl 17", minutes=15)
    assert result["grant"]["expires"] == "2026-11-30T10:15:00Z"
    assert condition_date(iam.policy(kind, "CloudWatchAgentAdminGrantExpiry")) == "2026-11-30T10:15:00Z"
    assert iam.tags(kind) == {"cloudwatch-admin-grant": "ops@ctl 17 until 2026-11-30T10:15:00Z"}


def test_a_live_grant_of_another_run_fails_at_once_naming_it(iam, clock):
    acquire(iam, clock, "user", holder="run-a")
    iam.writes.clear()
    with pytest.raises(AnsibleAWSError) as failure:
        acquire(iam, clock, "user", holder="run-b", wait=0)
    assert "granted to run-a until 2026-11-30T10:15:00Z" in failure.value.message
    assert iam.writes == []
    assert iam.tags("user")["cloudwatch-admin-grant"].startswith("run-a ")


def test_a_waiting_run_takes_the_grant_once_the_other_is_released(iam, clock):
    acquire(iam, clock, "role", holder="run-a")
    polls = []

    def release_on_second_poll():
        polls.append(clock())
        if len(polls) == 3:  # settle of nothing, then two polls
            release(iam, clock, "role", holder="run-a")

    clock.on_sleep = release_on_second_poll
    result = acquire(iam, clock, "role", holder="run-b", wait=60)
    assert result["grant"]["holder"] == "run-b"
    assert result["waited_for"] == {"holder": "run-a", "expires": "2026-11-30T10:15:00Z"}
    assert iam.tags("role")["cloudwatch-admin-grant"].startswith("run-b until ")


def test_waiting_is_bounded(iam, clock):
    acquire(iam, clock, "role", holder="run-a")
    start = clock()
    with pytest.raises(AnsibleAWSError) as failure:
        acquire(iam, clock, "role", holder="run-b", wait=30)
    assert "run-a" in failure.value.message and "after waiting" in failure.value.message
    assert (clock() - start).total_seconds() <= 30 + admin_grant.SETTLE_SECONDS


def test_an_expired_grant_of_a_dead_run_does_not_block(iam, clock):
    acquire(iam, clock, "user", holder="run-a", minutes=15)
    clock.now += datetime.timedelta(minutes=16)
    result = acquire(iam, clock, "user", holder="run-b")
    assert result["grant"]["holder"] == "run-b"


def test_of_two_runs_writing_at_once_the_later_lease_holds(iam, clock):
    # run-b writes its lease while run-a waits for its write to settle: run-a reads run-b's lease back.
    def run_b_writes():
        clock.on_sleep = None
        ends = clock() + datetime.timedelta(minutes=15)
        iam.put_role_policy(RoleName=NAMES["role"], PolicyName="CloudWatchAgentAdminGrantExpiry", PolicyDocument=json.dumps(admin_grant.expiry_policy(ends)))
        iam.tag_role(RoleName=NAMES["role"], Tags=[{"Key": "cloudwatch-admin-grant", "Value": admin_grant.lease_value("run-b", ends)}])

    clock.on_sleep = run_b_writes
    with pytest.raises(AnsibleAWSError) as failure:
        acquire(iam, clock, "role", holder="run-a", wait=0)
    assert "granted to run-b" in failure.value.message
    assert iam.tags("role")["cloudwatch-admin-grant"].startswith("run-b until ")


def test_the_winner_of_a_race_keeps_its_own_end(iam, clock):
    # run-b read no lease and writes its end after run-a's, but its tag lands before run-a's: run-a holds.
    def run_b_writes_policy_then_tag():
        clock.on_sleep = None
        ends = clock() + datetime.timedelta(minutes=60)
        iam.put_role_policy(RoleName=NAMES["role"], PolicyName="CloudWatchAgentAdminGrantExpiry", PolicyDocument=json.dumps(admin_grant.expiry_policy(ends)))

    clock.on_sleep = run_b_writes_policy_then_tag
    result = acquire(iam, clock, "role", holder="run-a", minutes=15)
    assert condition_date(iam.policy("role", "CloudWatchAgentAdminGrantExpiry")) == result["grant"]["expires"] == "2026-11-30T10:15:00Z"


def test_release_ends_the_grant_revokes_sessions_and_frees_the_lease(iam, clock):
    acquire(iam, clock, "role", holder="run-a")
    clock.now += datetime.timedelta(minutes=2)
    result = release(iam, clock, "role", holder="run-a")
    assert result["changed"]
    assert condition_date(iam.policy("role", "CloudWatchAgentAdminGrantExpiry")) == "2026-11-30T10:02:03Z"
    assert condition_date(iam.policy("role", "CloudWatchAgentAdminRevokeOlderSessions")) == "2026-11-30T10:02:04Z"
    assert iam.tags("role") == {}


def test_release_deletes_the_admin_users_keys(iam, clock):
    acquire(iam, clock, "user", holder="run-a")
    iam.principals[("user", NAMES["user"])]["keys"] = [{"AccessKeyId": "AKIAEPHEMERAL", "Status": "Active", "CreateDate": T0}]
    release(iam, clock, "user", holder="run-a")
    assert iam.principals[("user", NAMES["user"])]["keys"] == []
    assert ("delete key", "AKIAEPHEMERAL") in iam.writes


def test_no_run_releases_another_runs_live_grant(iam, clock):
    acquire(iam, clock, "user", holder="run-a")
    iam.principals[("user", NAMES["user"])]["keys"] = [{"AccessKeyId": "AKIARUNA", "Status": "Active", "CreateDate": T0}]
    iam.writes.clear()
    by_holder = release(iam, clock, "user", holder="run-b")
    recovered = release(iam, clock, "user")
    assert iam.writes == []
    assert by_holder["held_by"] == recovered["held_by"] == {"holder": "run-a", "expires": "2026-11-30T10:15:00Z"}
    assert "held by run-a" in by_holder["warnings"][0]
    assert not recovered["changed"]


def test_recovery_after_a_dead_run_cleans_up_once_the_grant_expired(iam, clock):
    acquire(iam, clock, "role", holder="run-a")
    clock.now += datetime.timedelta(minutes=20)
    result = release(iam, clock, "role")
    assert result["changed"]
    assert iam.tags("role") == {}
    # The sessions handed out during the dead run's grant (taken after its 3-second settle) stay revoked.
    assert condition_date(iam.policy("role", "CloudWatchAgentAdminRevokeOlderSessions")) == "2026-11-30T10:20:04Z"


def test_check_mode_changes_nothing(iam, clock):
    acquire(iam, clock, "user", holder="run-a")
    clock.now += datetime.timedelta(minutes=20)
    iam.writes.clear()
    result = release(iam, clock, "user", check_mode=True)
    assert result["changed"] and iam.writes == []
    predicted = admin_grant.acquire_grant(iam, "user", NAMES["user"], "run-b", 15, 0, check_mode=True, clock=clock, sleep=clock.sleep)
    assert predicted["changed"] and iam.writes == []


@pytest.mark.parametrize("holder", ["", "a" * 129, "x until y", "semi;colon", "ünïcode"])
def test_a_holder_that_cannot_be_a_tag_value_is_refused(holder):
    with pytest.raises(AnsibleAWSError) as failure:
        admin_grant.validate_holder(holder)
    assert failure.value.message.startswith("holder must be")


@pytest.mark.parametrize("minutes", [0, 721])
def test_the_bound_is_limited(minutes):
    with pytest.raises(AnsibleAWSError, match="duration_minutes must be between 1 and 720"):
        admin_grant.validate_duration(minutes)


def test_a_new_grant_first_finishes_a_dead_runs_grant(iam, clock):
    acquire(iam, clock, "user", holder="run-a")
    iam.principals[("user", NAMES["user"])]["keys"] = [{"AccessKeyId": "AKIALEFTOVER", "Status": "Active", "CreateDate": T0}]
    clock.now += datetime.timedelta(minutes=16)
    result = acquire(iam, clock, "user", holder="run-b")
    assert ("delete key", "AKIALEFTOVER") in iam.writes
    assert result["grant"]["holder"] == "run-b" and result["waited_for"] is None
