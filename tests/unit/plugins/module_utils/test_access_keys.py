# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access keys (module_utils/access_keys.py): the key lifecycle and the file: and ssm: stores."""

import datetime
import json
import os
import stat

import botocore.session
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import access_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils import plan as plan_core

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
RECORD = access_keys.make_record("agent", "AKIAEXAMPLE", "s3cr3t/value+", "2024-05-01T00:00:00+00:00")


@pytest.fixture
def ssm():
    client = botocore.session.get_session().create_client("ssm", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1)), stubber
        stubber.assert_no_pending_responses()


def test_make_record_has_the_documented_fields():
    assert RECORD == {
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "s3cr3t/value+",
        "user_name": "agent",
        "created": "2024-05-01T00:00:00+00:00",
    }
    assert access_keys.make_record("u", "id", "s")["created"].endswith("+00:00")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("ssm:/agent/key", ("ssm", "/agent/key")),
        ("ssm:agent-key", ("ssm", "agent-key")),
        ("file:/etc/agent.json", ("file", "/etc/agent.json")),
    ],
)
def test_parse_store(spec, expected):
    assert access_keys.parse_store(spec) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        (None, "access_key_store must be ssm:NAME"),
        ("agent-key", "access_key_store must be ssm:NAME (an SSM Parameter Store SecureString) or file:PATH"),
        ("s3:bucket", "access_key_store must be ssm:NAME"),
        ("ssm:", "access_key_store must be ssm:NAME"),
        ("ssm:AmazonCloudWatch-key", "readable by every host running the CloudWatch agent"),
        ("ssm:/AmazonCloudWatch-key", "readable by every host running the CloudWatch agent"),
        ("ssm:amazoncloudwatch-key", "readable by every host running the CloudWatch agent"),
        ("ssm:bad name", "is not a valid SSM parameter name"),
        ("ssm:a/b", "is not a valid SSM parameter name"),
        ("ssm:/aws/key", "may not start with aws or ssm"),
        ("file:relative.json", "needs an absolute path"),
    ],
)
def test_parse_store_errors_name_the_option_and_forms(spec, message):
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        access_keys.parse_store(spec)
    assert message in error.value.message


def test_open_store_refuses_kms_for_files_and_builds_ssm_lazily():
    with pytest.raises(access_keys.AnsibleKeyStoreError, match="kms_key_id applies to ssm: stores only"):
        access_keys.open_store("file:/tmp/x.json", kms_key_id="alias/k")
    assert isinstance(access_keys.open_store("file:/tmp/x.json", ssm_client_factory=None), access_keys.FileKeyStore)
    store = access_keys.open_store("ssm:/k", lambda: "client", "alias/k")
    assert (store.client, store.name, store.kms_key_id, store.spec) == ("client", "/k", "alias/k", "ssm:/k")


def test_file_store_round_trip_with_mode_0600(tmp_path):
    path = tmp_path / "key.json"
    store = access_keys.FileKeyStore(str(path))
    assert store.read() is None
    assert store.check_writable() is True
    old_umask = os.umask(0)
    try:
        assert store.write(RECORD) is True
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == RECORD
    assert os.listdir(tmp_path) == ["key.json"], "no temporary or probe file is left behind"
    assert access_keys.FileKeyStore(str(path)).read() == RECORD
    assert store.delete() is True
    assert store.delete() is False and store.read() is None


def test_file_store_is_never_readable_by_others_while_written(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return real_replace(src, dst)

    monkeypatch.setattr(access_keys.os, "replace", replace)
    access_keys.FileKeyStore(str(tmp_path / "key.json")).write(RECORD)
    assert seen == [0o600]


def test_file_store_replaces_a_wider_file_with_0600(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(RECORD))
    path.chmod(0o644)
    access_keys.FileKeyStore(str(path)).write(RECORD)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_store_errors_never_quote_the_content(tmp_path):
    (tmp_path / "junk.json").write_text('{"secret_access_key": "leak-me"}')
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        access_keys.FileKeyStore(str(tmp_path / "junk.json")).read()
    assert "does not hold an access key record" in error.value.message
    assert "leak-me" not in str(error.value)
    with pytest.raises(access_keys.AnsibleKeyStoreError, match="directory .* does not exist"):
        access_keys.FileKeyStore(str(tmp_path / "missing" / "key.json")).check_writable()
    with pytest.raises(access_keys.AnsibleKeyStoreError, match="is not a regular file"):
        access_keys.FileKeyStore(str(tmp_path)).check_writable()


def test_file_store_write_failure_is_reported(tmp_path):
    store = access_keys.FileKeyStore(str(tmp_path / "missing" / "key.json"))
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        store.write(RECORD)
    assert error.value.message.startswith(f"Cannot write file:{tmp_path}/missing/key.json")
    assert RECORD["secret_access_key"] not in str(error.value)


def _parameter(value, kind="SecureString"):
    return {"Parameter": {"Name": "/k", "Type": kind, "Value": value, "Version": 1}}


def test_ssm_store_reads_once_and_writes_a_secure_string(ssm):
    client, stubber = ssm
    stubber.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": "/k", "WithDecryption": True})
    stubber.add_response(
        "put_parameter",
        {"Version": 1},
        {
            "Name": "/k",
            "Value": json.dumps(RECORD, sort_keys=True),
            "Type": "SecureString",
            "Overwrite": True,
            "KeyId": "alias/agent",
            "Description": ANY,
        },
    )
    store = access_keys.SSMKeyStore(client, "/k", "alias/agent")
    assert store.read() is None
    assert store.check_writable() is True  # the probe is the (cached) read
    assert store.write(RECORD) is True
    assert store.read() == RECORD


def test_ssm_store_reads_a_record(ssm):
    client, stubber = ssm
    stubber.add_response("get_parameter", _parameter(json.dumps(RECORD)))
    assert access_keys.SSMKeyStore(client, "/k").read() == RECORD


@pytest.mark.parametrize(
    "parameter, message",
    [
        (_parameter(json.dumps(RECORD), kind="String"), "exists as a String parameter, not a SecureString"),
        (_parameter("plain text"), "does not hold an access key record"),
    ],
)
def test_ssm_store_refuses_what_is_not_a_secure_record(ssm, parameter, message):
    client, stubber = ssm
    stubber.add_response("get_parameter", parameter)
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        access_keys.SSMKeyStore(client, "/k").check_writable()
    assert message in error.value.message
    assert RECORD["secret_access_key"] not in str(error.value)


def test_ssm_store_permission_error_on_probe(ssm):
    client, stubber = ssm
    stubber.add_client_error("get_parameter", "AccessDeniedException", "not allowed")
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        access_keys.SSMKeyStore(client, "/k").check_writable()
    assert "Failed to read the access key parameter" in str(error.value)


def test_ssm_store_write_error_never_carries_the_secret(ssm):
    client, stubber = ssm
    stubber.add_client_error("put_parameter", "ValidationException", f"Value '{RECORD['secret_access_key']}' at 'value' failed")
    with pytest.raises(access_keys.AnsibleKeyStoreError) as error:
        access_keys.SSMKeyStore(client, "/k").write(RECORD)
    assert "Cannot write ssm:/k" in error.value.message
    assert RECORD["secret_access_key"] not in str(error.value)
    assert error.value.exception is None and error.value.__cause__ is None


def test_ssm_store_delete(ssm):
    client, stubber = ssm
    stubber.add_response("delete_parameter", {}, {"Name": "/k"})
    stubber.add_client_error("delete_parameter", "ParameterNotFound")
    store = access_keys.SSMKeyStore(client, "/k")
    assert store.delete() is True
    assert store.delete() is False


# --- the key lifecycle ------------------------------------------------------------------------------


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


def test_wait_for_access_key_retries_until_accepted(monkeypatch, stubs):
    _client_, _stub, sts, sts_stub = stubs
    monkeypatch.setattr(plan_core.time, "sleep", lambda seconds: None)
    sts_stub.add_client_error("get_caller_identity", "InvalidClientTokenId")
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    used = []
    identity = access_keys.wait_for_access_key(lambda key_id, secret: used.append(key_id) or sts, "AKIANEWEXAMPLE0001", "s", 30)
    assert identity["Arn"] == USER_IDENTITY["Arn"] and used == ["AKIANEWEXAMPLE0001"]
