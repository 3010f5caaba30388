# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A create whose answer is lost (module_utils/access_key_create.py): the key it made is removed, no other."""

import datetime
import json

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import access_key_create
from ansible_collections.observability.cloudwatch.plugins.module_utils import access_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils import key_stores

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEWSECRET"
NEW = "AKIANEWEXAMPLE000001"
LOST = "AKIALOSTEXAMPLE00001"


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def meta(key_id, created, status="Active"):
    return {"UserName": "u", "AccessKeyId": key_id, "Status": status, "CreateDate": created}


def new_key():
    return {"AccessKey": dict(meta(NEW, _now()), SecretAccessKey=SECRET)}


def unanswered(stub, times=1):
    """The next ``times`` CreateAccessKey get a 500 (AWS may have made the key)."""
    for _attempt in range(times):
        stub.add_client_error("create_access_key", "ServiceFailure", "internal", http_status_code=500, expected_params={"UserName": "u"})


def listed(stub, *keys):
    stub.add_response("list_access_keys", {"AccessKeyMetadata": list(keys)}, {"UserName": "u"})


def removed(stub, key_id):
    stub.add_response("update_access_key", {}, {"UserName": "u", "AccessKeyId": key_id, "Status": "Inactive"})
    stub.add_response("delete_access_key", {}, {"UserName": "u", "AccessKeyId": key_id})


def create(client, known=(), stored=None):
    warnings = []
    key = access_key_create.create_access_key_once(client, "u", list(known), lambda: stored, warnings)
    return key, warnings


def test_a_key_made_during_an_unanswered_create_is_removed_and_the_key_made_again(stubs):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    listed(stub, meta("AKIAOLDEXAMPLE000001", _now() - datetime.timedelta(days=40)), meta(LOST, _now()))
    removed(stub, LOST)
    stub.add_response("create_access_key", new_key(), {"UserName": "u"})
    key, warnings = create(client, known=["AKIAOLDEXAMPLE000001"])
    assert key["AccessKeyId"] == NEW
    assert len(warnings) == 1 and LOST in warnings[0] and "HTTP 500 ServiceFailure" in warnings[0]
    assert SECRET not in json.dumps(warnings)


@pytest.mark.parametrize(
    "other, known, stored",
    [
        (meta("AKIAOTHEREXAMPLE0001", _now() - datetime.timedelta(hours=1)), [], None),  # made before the call's window
        (meta("AKIAOTHEREXAMPLE0001", _now() + datetime.timedelta(hours=1)), [], None),  # after it (another run, later)
        (meta("AKIAOTHEREXAMPLE0001", _now()), ["AKIAOTHEREXAMPLE0001"], None),  # in the window, but listed before the call
        (meta("AKIAOTHEREXAMPLE0001", _now()), [], "AKIAOTHEREXAMPLE0001"),  # in the window, but the key in the store
    ],
)
def test_a_key_another_run_made_is_never_touched(stubs, other, known, stored):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    listed(stub, other)  # the stubber fails on any UpdateAccessKey or DeleteAccessKey
    stub.add_response("create_access_key", new_key(), {"UserName": "u"})
    listed(stub, other, meta(NEW, _now()))  # looked at again, once the new key is in hand
    key, warnings = create(client, known, stored)
    assert key["AccessKeyId"] == NEW and warnings == []


def test_a_lost_key_the_first_listing_missed_is_removed_once_the_new_key_is_made(stubs):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    listed(stub)  # IAM is eventually consistent: the lost key does not show yet
    stub.add_response("create_access_key", new_key(), {"UserName": "u"})
    listed(stub, meta(LOST, _now()), meta(NEW, _now()))
    removed(stub, LOST)
    key, warnings = create(client)
    assert key["AccessKeyId"] == NEW and len(warnings) == 1 and LOST in warnings[0]


def test_two_keys_that_could_be_the_lost_one_are_left_alone_and_the_run_fails(stubs):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    listed(stub, meta(LOST, _now()), meta("AKIALOSTEXAMPLE00002", _now()))
    with pytest.raises(AnsibleIAMError) as error:
        create(client)
    assert f"({LOST}, AKIALOSTEXAMPLE00002)" in error.value.message
    assert "None was touched" in error.value.message


@pytest.mark.parametrize("code, status", [("LimitExceeded", 409), ("NoSuchEntity", 404), ("AccessDenied", 403), ("Throttling", 400)])
def test_an_error_answer_says_no_key_was_made_so_nothing_is_listed_or_removed(stubs, code, status):
    client, stub, _sts, _sts_stub = stubs
    stub.add_client_error("create_access_key", code, "no", http_status_code=status, expected_params={"UserName": "u"})
    with pytest.raises(AnsibleIAMError) as error:
        create(client)
    assert error.value.exception.response["Error"]["Code"] == code


def test_two_unanswered_creates_leave_nothing_behind_and_fail(stubs):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    listed(stub, meta(LOST, _now()))
    removed(stub, LOST)
    unanswered(stub)
    listed(stub, meta("AKIALOSTEXAMPLE00002", _now()))
    removed(stub, "AKIALOSTEXAMPLE00002")
    with pytest.raises(AnsibleIAMError) as error:
        create(client)
    message = error.value.message
    assert "got no answer twice" in message and "No key is left behind" in message and "run again" in message
    assert LOST in message and "AKIALOSTEXAMPLE00002" in message


class DropsFirstCreate:
    """The client, but the first CreateAccessKey loses its connection."""

    def __init__(self, client):
        self.client = client
        self.dropped = False

    def __getattr__(self, name):
        return getattr(self.client, name)

    def create_access_key(self, **kwargs):
        if not self.dropped:
            self.dropped = True
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://iam.amazonaws.com/")
        return self.client.create_access_key(**kwargs)


def test_a_dropped_connection_is_an_unknown_outcome_too(stubs):
    client, stub, _sts, _sts_stub = stubs
    dropping = DropsFirstCreate(client)
    listed(stub)  # AWS made nothing: nothing to remove
    stub.add_response("create_access_key", new_key(), {"UserName": "u"})
    listed(stub, meta(NEW, _now()))
    key, warnings = create(dropping)
    assert key["AccessKeyId"] == NEW and dropping.dropped and warnings == []


def test_when_the_keys_cannot_be_listed_the_error_says_what_to_look_for(stubs):
    client, stub, _sts, _sts_stub = stubs
    unanswered(stub)
    stub.add_client_error("list_access_keys", "AccessDenied", "no", http_status_code=403, expected_params={"UserName": "u"})
    with pytest.raises(AnsibleIAMError) as error:
        create(client)
    assert "could not be listed" in error.value.message and "not in the access key store" in error.value.message


@pytest.mark.parametrize(
    "cause, unknown",
    [
        (botocore.exceptions.ConnectionClosedError(endpoint_url="u"), True),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="u"), True),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="u"), True),
        (botocore.exceptions.ClientError({"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "CreateAccessKey"), True),
        (botocore.exceptions.ClientError({"Error": {"Code": "LimitExceeded"}, "ResponseMetadata": {"HTTPStatusCode": 409}}, "CreateAccessKey"), False),
        (botocore.exceptions.NoCredentialsError(), False),
    ],
)
def test_outcome_unknown(cause, unknown):
    assert access_key_create.outcome_unknown(AnsibleIAMError(message="Failed to create access key", exception=cause)) is unknown


def test_through_the_store_a_lost_key_is_removed_and_the_new_one_stored(stubs, tmp_path):
    client, stub, _sts, _sts_stub = stubs
    store = key_stores.open_store(f"file:{tmp_path}/u.json", None)
    unanswered(stub)
    listed(stub, meta(LOST, _now()))
    removed(stub, LOST)
    stub.add_response("create_access_key", new_key(), {"UserName": "u"})
    warnings = []
    key = access_keys.create_and_store_access_key(client, "u", store, [], warnings)
    assert key["AccessKeyId"] == NEW and store.read()["access_key_id"] == NEW
    assert LOST in warnings[0] and SECRET not in json.dumps(warnings)
