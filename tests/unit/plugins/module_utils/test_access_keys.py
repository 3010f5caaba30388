# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access-key lifecycle (module_utils/access_keys.py): what happens to a user's keys."""

import datetime

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import access_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils import key_stores
from ansible_collections.observability.cloudwatch.plugins.module_utils import plan as plan_core

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
RECORD = key_stores.make_record("agent", "AKIAEXAMPLE", "s3cr3t/value+", "2024-05-01T00:00:00+00:00")


def key(key_id, status="Active", minute=0):
    return {"AccessKeyId": key_id, "Status": status, "CreateDate": NOW + datetime.timedelta(minutes=minute)}


@pytest.mark.parametrize(
    "keys, state, retire, stored, expected",
    [
        ([], "present", [], None, dict(retire=[], delete=None, create=True, previous=[])),
        ([key("A")], "present", [], "A", dict(retire=[], delete=None, create=False, previous=[])),
        ([key("A", "Inactive")], "present", [], None, dict(retire=[], delete=None, create=True, previous=["A"])),
        ([key("A")], "rotate", [], "A", dict(retire=[], delete=None, create=True, previous=["A"])),
        (
            [key("A", "Inactive", 0), key("B", "Active", 1)],
            "rotate",
            [],
            "B",
            dict(retire=[], delete="A", create=True, previous=["B"]),
        ),
        ([key("A", minute=0), key("B", minute=1)], "rotate", ["A"], "B", dict(retire=["A"], delete=None, create=True, previous=["B"])),
        ([key("A"), key("B")], "none", ["A", "Z"], "B", dict(retire=["A"], delete=None, create=False, previous=[])),
        ([key("A")], "none", [], None, dict(retire=[], delete=None, create=False, previous=[])),
    ],
)
def test_plan_access_keys(keys, state, retire, stored, expected):
    assert access_keys.plan_access_keys(keys, state, retire, stored) == expected


@pytest.mark.parametrize(
    "keys, state, retire, stored, message",
    [
        ([key("A"), key("B", minute=1)], "rotate", [], "B", "both are active (A, B)"),
        ([key("A")], "present", [], None, "Use access_key_state=rotate"),
        ([key("A")], "present", [], "OTHER", "whose secret is not in the access key store"),
        ([key("A")], "none", ["A"], "A", "retire_access_keys lists A, the key held in the access key store"),
    ],
)
def test_plan_access_keys_refuses(keys, state, retire, stored, message):
    with pytest.raises(AnsibleIAMError) as error:
        access_keys.plan_access_keys(keys, state, retire, stored)
    assert message in error.value.message


class FailingStore:
    spec = "ssm:/k"

    def write(self, record):
        raise AnsibleIAMError(message="Cannot write ssm:/k: AccessDenied")


def test_new_key_is_deleted_when_it_cannot_be_stored(stubs):
    client, stub, _sts, _sts_stub = stubs
    new_key = {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001", "SecretAccessKey": "very-secret", "Status": "Active", "CreateDate": NOW}
    stub.add_response("create_access_key", {"AccessKey": new_key}, {"UserName": "u"})
    stub.add_response("delete_access_key", {}, {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001"})
    with pytest.raises(AnsibleIAMError) as error:
        access_keys.create_and_store_access_key(client, "u", FailingStore())
    assert "the new key AKIANEWEXAMPLE0001 was deleted again" in error.value.message
    assert "AccessDenied" in error.value.message
    assert "very-secret" not in str(error.value)


def test_key_spec_requires_a_store():
    with pytest.raises(AnsibleIAMError, match="access_key_store is required with access_key_state=present"):
        access_keys.KeySpec("present").validate()
    with pytest.raises(AnsibleIAMError, match="access_key_store is required with retire_access_keys"):
        access_keys.KeySpec("none", retire=["AKIA"]).validate()


def test_key_spec_refuses_ids_that_are_no_access_key_ids():
    access_keys.KeySpec("none", retire=["AKIAIOSFODNN7EXAMPLE"], store=object()).validate()
    with pytest.raises(AnsibleIAMError, match=r"retire_access_keys: 'AKIA IOSFODNN7' is not an access key id \(16 to 128"):
        access_keys.KeySpec("none", retire=["AKIAIOSFODNN7EXAMPLE", "AKIA IOSFODNN7"], store=object()).validate()


def test_wait_for_access_key_retries_until_accepted(monkeypatch, stubs):
    _client_, _stub, sts, sts_stub = stubs
    monkeypatch.setattr(plan_core.time, "sleep", lambda seconds: None)
    sts_stub.add_client_error("get_caller_identity", "InvalidClientTokenId")
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    used = []
    identity = access_keys.wait_for_access_key(lambda key_id, secret: used.append(key_id) or sts, "AKIANEWEXAMPLE0001", "s", 30)
    assert identity["Arn"] == USER_IDENTITY["Arn"] and used == ["AKIANEWEXAMPLE0001"]


@pytest.mark.parametrize(
    "ages, max_age_days, due",
    [
        ([29], 30, False),
        ([30], 30, True),
        ([1, 45], 30, True),
        ([], 30, False),
        ([0], 0, True),
        ([], 0, False),
        ([], None, True),
    ],
)
def test_rotation_is_due_when_a_key_reaches_the_age(ages, max_age_days, due):
    keys = [dict(AccessKeyId=f"AKIA{i}", Status="Active", CreateDate=NOW - datetime.timedelta(days=age, hours=1)) for i, age in enumerate(ages)]
    assert access_keys.rotation_due(keys, max_age_days, now=NOW) is due


def test_an_old_inactive_key_counts_towards_the_age():
    """A user whose only key was deactivated, long ago, needs a new one."""
    keys = [dict(AccessKeyId="AKIA0", Status="Inactive", CreateDate=NOW - datetime.timedelta(days=400))]
    assert access_keys.rotation_due(keys, 30, now=NOW) is True


def key(key_id, days, status="Active"):
    return dict(AccessKeyId=key_id, Status=status, CreateDate=NOW - datetime.timedelta(days=days))


@pytest.mark.parametrize("keys, stored, expected", [
    # The store holds the newest key, an older one remains: a rotation stopped before its end.
    ([key("AKIAOLD", 100), key("AKIANEW", 1)], "AKIANEW", True),
    ([key("AKIAOLD", 100, "Inactive"), key("AKIANEW", 1)], "AKIANEW", True),
    # The store holds the older key: the newer one is someone else's, not this rotation's.
    ([key("AKIAOLD", 100), key("AKIANEW", 1)], "AKIAOLD", False),
    ([key("AKIANEW", 1)], "AKIANEW", False),
    ([key("AKIAOLD", 100), key("AKIANEW", 1)], None, False),
])
def test_rotation_in_progress(keys, stored, expected):
    assert access_keys.rotation_in_progress(keys, stored) is expected


class Store:
    spec = "file:/keys/onprem.json"

    def __init__(self, key_id):
        self.record = dict(access_key_id=key_id, user_name="onprem") if key_id else None

    def read(self):
        return self.record

    def check_writable(self):
        return True


def test_a_rerun_after_a_stopped_rotation_makes_no_key_and_names_the_old_ones():
    keys = [key("AKIAOLD", 100), key("AKIANEW", 1)]
    decision = access_keys.decide_keys("onprem", keys, access_keys.KeySpec("rotate", store=Store("AKIANEW"), max_age_days=90))
    assert decision["create"] is False and decision["in_progress"] is True
    assert decision["stored"] == "AKIANEW" and decision["previous"] == ["AKIAOLD"]


def test_two_active_keys_neither_of_the_rotation_are_still_refused():
    keys = [key("AKIAOLD", 100), key("AKIANEW", 1)]
    with pytest.raises(AnsibleIAMError, match="both are active"):
        access_keys.decide_keys("onprem", keys, access_keys.KeySpec("rotate", store=Store("AKIAOLD"), max_age_days=90))


def test_max_age_days_must_not_be_negative():
    with pytest.raises(AnsibleIAMError, match="max_age_days must be 0 or more"):
        access_keys.KeySpec("rotate", store=object(), max_age_days=-1).validate()
