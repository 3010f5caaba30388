# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access-key stores (module_utils/key_stores.py): file: and ssm:."""

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
from ansible_collections.observability.cloudwatch.plugins.module_utils import key_stores

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
RECORD = key_stores.make_record("agent", "AKIAEXAMPLE", "s3cr3t/value+", "2024-05-01T00:00:00+00:00")


def _stubbed(service):
    client = botocore.session.get_session().create_client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1)), stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def ssm():
    yield from _stubbed("ssm")


def test_make_record_has_the_documented_fields():
    assert RECORD == {
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "s3cr3t/value+",
        "user_name": "agent",
        "created": "2024-05-01T00:00:00+00:00",
    }
    assert key_stores.make_record("u", "id", "s")["created"].endswith("+00:00")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("ssm:/agent/key", ("ssm", "/agent/key")),
        ("ssm:agent-key", ("ssm", "agent-key")),
        ("file:/etc/agent.json", ("file", "/etc/agent.json")),
    ],
)
def test_parse_store(spec, expected):
    assert key_stores.parse_store(spec) == expected


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
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.parse_store(spec)
    assert message in error.value.message


def test_open_store_refuses_kms_for_files_and_builds_ssm_lazily():
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="kms_key_id applies to ssm: stores only"):
        key_stores.open_store("file:/tmp/x.json", kms_key_id="alias/k")
    assert isinstance(key_stores.open_store("file:/tmp/x.json", ssm_client_factory=None), key_stores.FileKeyStore)
    store = key_stores.open_store("ssm:/k", lambda: "client", "alias/k")
    assert (store.client, store.name, store.kms_key_id, store.spec) == ("client", "/k", "alias/k", "ssm:/k")


def test_ssm_store_names_within_parameter_store_limits():
    room = 1011 - len("arn:aws:ssm:eu-west-1:123456789012:parameter/")
    assert key_stores.parse_store("ssm:/" + "k" * room, region="eu-west-1") == ("ssm", "/" + "k" * room)
    for spec, message in [
        ("ssm:/" + "k" * (room + 1), f"{room} at most in eu-west-1"),
        ("ssm:/" + "/".join(["k"] * 16), "at most 15 levels"),
    ]:
        with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
            key_stores.parse_store(spec, region="eu-west-1")
        assert error.value.message.startswith("access_key_store") and message in error.value.message


def test_open_store_refuses_a_kms_key_id_that_is_no_key():
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="kms_key_id 'aws/ssm' is not a KMS key"):
        key_stores.open_store("ssm:/k", lambda: "client", "aws/ssm")
    assert key_stores.open_store("ssm:/k", lambda: "client", "alias/aws/ssm").kms_key_id == "alias/aws/ssm"


def private(path, text):
    """A file as the store writes one: this user's, mode 0600."""
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_file_store_round_trip_with_mode_0600(tmp_path):
    path = tmp_path / "key.json"
    store = key_stores.FileKeyStore(str(path))
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
    assert key_stores.FileKeyStore(str(path)).read() == RECORD
    assert store.delete() is True
    assert store.delete() is False and store.read() is None


def test_file_store_is_never_readable_by_others_while_written(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return real_replace(src, dst)

    monkeypatch.setattr(key_stores.os, "replace", replace)
    key_stores.FileKeyStore(str(tmp_path / "key.json")).write(RECORD)
    assert seen == [0o600]


def test_file_store_replaces_a_wider_file_with_0600(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(RECORD))
    path.chmod(0o644)
    key_stores.FileKeyStore(str(path)).write(RECORD)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_store_errors_never_quote_the_content(tmp_path):
    private(tmp_path / "junk.json", '{"secret_access_key": "leak-me"}')
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.FileKeyStore(str(tmp_path / "junk.json")).read()
    assert "does not hold an access key record" in error.value.message
    assert "leak-me" not in str(error.value)
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="directory .* does not exist"):
        key_stores.FileKeyStore(str(tmp_path / "missing" / "key.json")).check_writable()
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="is not a regular file"):
        key_stores.FileKeyStore(str(tmp_path)).check_writable()


def test_file_store_write_failure_is_reported(tmp_path):
    store = key_stores.FileKeyStore(str(tmp_path / "missing" / "key.json"))
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        store.write(RECORD)
    assert error.value.message.startswith(f"Cannot write file:{tmp_path}/missing/key.json")
    assert RECORD["secret_access_key"] not in str(error.value)


def test_file_store_refuses_a_symbolic_link(tmp_path):
    target = private(tmp_path / "real.json", json.dumps(RECORD))
    link = tmp_path / "key.json"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere.json")
    for path in (link, dangling):
        for action in ("read", "check_writable"):
            with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
                getattr(key_stores.FileKeyStore(str(path)), action)()
            assert error.value.message.startswith(f"file:{path} is a symbolic link; the file store never follows one")
            assert RECORD["secret_access_key"] not in str(error.value)
        with pytest.raises(key_stores.AnsibleKeyStoreError, match="is a symbolic link"):
            key_stores.FileKeyStore(str(path)).write(dict(RECORD, secret_access_key="new"))
        assert path.is_symlink()
    assert json.loads(target.read_text()) == RECORD, "the link's target is never written"
    assert not (tmp_path / "nowhere.json").exists()


def test_file_store_refuses_a_file_of_another_user(tmp_path, monkeypatch):
    path = private(tmp_path / "key.json", json.dumps(RECORD))
    # The file stays this user's; the store is told it runs as another one.
    monkeypatch.setattr(key_stores.os, "geteuid", lambda: os.getuid() + 4242)
    for action in ("read", "check_writable"):
        with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
            getattr(key_stores.FileKeyStore(str(path)), action)()
        message = error.value.message
        assert message.startswith(f"file:{path} is owned by user {key_stores._user_name(os.getuid())}, not by {os.getuid() + 4242}")
        assert f"chown {os.getuid() + 4242} {path}" in message and RECORD["secret_access_key"] not in message
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="refusing to use or replace it"):
        key_stores.FileKeyStore(str(path)).write(dict(RECORD, secret_access_key="new"))
    assert json.loads(path.read_text()) == RECORD


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o610], ids=lambda mode: f"{mode:04o}")
def test_file_store_refuses_a_file_open_to_group_or_others(tmp_path, mode):
    path = private(tmp_path / "key.json", json.dumps(RECORD))
    path.chmod(mode)
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.FileKeyStore(str(path)).read()
    assert error.value.message == (
        f"file:{path} has mode {mode:04o}: group or others may read or change it, so the key in it may have been "
        f"read; refusing to use it. Fix: chmod 600 {path}, then rotate the key."
    )


def test_file_store_accepts_only_0600_and_0400(tmp_path):
    path = private(tmp_path / "key.json", json.dumps(RECORD))
    assert key_stores.FileKeyStore(str(path)).read() == RECORD
    path.chmod(0o400)
    assert key_stores.FileKeyStore(str(path)).read() == RECORD
    path.chmod(0o700)  # the owner's bits do not matter
    assert key_stores.FileKeyStore(str(path)).read() == RECORD


def test_file_store_refuses_bytes_that_are_not_text(tmp_path):
    path = tmp_path / "key.json"
    path.write_bytes(b"\xff\xfe" + RECORD["secret_access_key"].encode())
    path.chmod(0o600)
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.FileKeyStore(str(path)).read()
    assert error.value.message == f"file:{path} is not UTF-8 text, so it holds no access key record"


def test_file_store_refuses_a_fifo_without_waiting(tmp_path):
    fifo = tmp_path / "key.json"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="is not a regular file"):
        key_stores.FileKeyStore(str(fifo)).read()


def test_file_store_checks_the_file_it_opened_without_following_links(tmp_path, monkeypatch):
    """The checks are made on the open file, not on the path: a file swapped in after the open changes nothing."""
    path = private(tmp_path / "key.json", json.dumps(RECORD))
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(dict(RECORD, access_key_id="AKIASWAPPED")))
    swapped.chmod(0o644)
    real_open, flags_seen = os.open, []

    def open_then_swap(name, flags, *args, **kwargs):
        handle = real_open(name, flags, *args, **kwargs)
        if name == str(path):
            flags_seen.append(flags)
            os.replace(swapped, path)
        return handle

    monkeypatch.setattr(key_stores.os, "open", open_then_swap)
    assert key_stores.FileKeyStore(str(path)).read() == RECORD
    assert flags_seen and flags_seen[0] & os.O_NOFOLLOW and not flags_seen[0] & (os.O_WRONLY | os.O_RDWR)


def test_file_store_syncs_the_directory_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_replace, real_fsync, real_unlink = os.replace, os.fsync, os.unlink

    def replace(src, dst):
        events.append(("replace", dst))
        return real_replace(src, dst)

    def unlink(name):
        events.append(("unlink", str(name)))
        return real_unlink(name)

    def fsync(handle):
        info = os.fstat(handle)
        events.append(("fsync directory" if stat.S_ISDIR(info.st_mode) else "fsync file", info.st_ino))
        return real_fsync(handle)

    monkeypatch.setattr(key_stores.os, "replace", replace)
    monkeypatch.setattr(key_stores.os, "fsync", fsync)
    monkeypatch.setattr(key_stores.os, "unlink", unlink)
    path = tmp_path / "key.json"
    store = key_stores.FileKeyStore(str(path))
    store.write(RECORD)
    directory = ("fsync directory", tmp_path.stat().st_ino)
    assert [event[0] for event in events] == ["fsync file", "replace", "fsync directory"]
    assert events[1:] == [("replace", str(path)), directory]
    events.clear()
    store.delete()
    assert events == [("unlink", str(path)), directory]


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
    store = key_stores.SSMKeyStore(client, "/k", "alias/agent")
    assert store.read() is None
    assert store.check_writable() is True  # the probe is the (cached) read
    assert store.write(RECORD) is True
    assert store.read() == RECORD


def test_ssm_store_reads_a_record(ssm):
    client, stubber = ssm
    stubber.add_response("get_parameter", _parameter(json.dumps(RECORD)))
    assert key_stores.SSMKeyStore(client, "/k").read() == RECORD


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
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.SSMKeyStore(client, "/k").check_writable()
    assert message in error.value.message
    assert RECORD["secret_access_key"] not in str(error.value)


def test_ssm_store_permission_error_on_probe(ssm):
    client, stubber = ssm
    stubber.add_client_error("get_parameter", "AccessDeniedException", "not allowed")
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.SSMKeyStore(client, "/k").check_writable()
    assert "Failed to read the access key parameter" in str(error.value)


def test_ssm_store_write_error_never_carries_the_secret(ssm):
    client, stubber = ssm
    stubber.add_client_error("put_parameter", "ValidationException", f"Value '{RECORD['secret_access_key']}' at 'value' failed")
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.SSMKeyStore(client, "/k").write(RECORD)
    assert "Cannot write ssm:/k" in error.value.message
    assert RECORD["secret_access_key"] not in str(error.value)
    assert error.value.exception is None and error.value.__cause__ is None


def test_ssm_store_delete(ssm):
    client, stubber = ssm
    stubber.add_response("delete_parameter", {}, {"Name": "/k"})
    stubber.add_client_error("delete_parameter", "ParameterNotFound")
    store = key_stores.SSMKeyStore(client, "/k")
    assert store.delete() is True
    assert store.delete() is False


# --- the store's KMS key ----------------------------------------------------------------------------

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_ARN = "arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"


def _key(arn=KEY_ARN, manager="CUSTOMER", state="Enabled", usage="ENCRYPT_DECRYPT", spec="SYMMETRIC_DEFAULT"):
    return {"KeyMetadata": {"KeyId": arn.rsplit("/", 1)[1], "Arn": arn, "KeyManager": manager, "KeyState": state,
                            "KeyUsage": usage, "KeySpec": spec}}


@pytest.fixture
def kms():
    yield from _stubbed("kms")


@pytest.mark.parametrize("kms_key_id", [None, "", "alias/aws/ssm", "arn:aws:kms:us-east-1:123456789012:alias/aws/ssm"])
def test_an_ssm_store_without_a_customer_key_is_refused_before_any_call(kms_key_id):
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.check_store_key("ssm:/k", kms_key_id, allow_aws_managed_key=False)
    assert "kms_key_id" in error.value.message and "allow_aws_managed_kms_key=true" in error.value.message
    key_stores.check_store_key("ssm:/k", kms_key_id, allow_aws_managed_key=True)  # the explicit opt-in
    key_stores.check_store_key("file:/k", None, allow_aws_managed_key=False)  # files are not encrypted by KMS


def test_a_new_ssm_store_checks_its_customer_key_before_the_write(ssm, kms):
    client, stubber = ssm
    kms_client, kms_stubber = kms
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    kms_stubber.add_response("describe_key", _key(), {"KeyId": "alias/agent-keys"})
    store = key_stores.SSMKeyStore(client, "/k", "alias/agent-keys", kms_client, allow_aws_managed_key=False)
    assert store.check_writable() is True


@pytest.mark.parametrize(
    "metadata, message",
    [
        (_key(manager="AWS"), "is an AWS managed key"),
        (_key(state="PendingDeletion"), "is PendingDeletion, not Enabled"),
        (_key(usage="SIGN_VERIFY", spec="RSA_2048"), "not a symmetric encryption key"),
    ],
)
def test_a_key_that_cannot_keep_the_secret_is_refused(ssm, kms, metadata, message):
    client, stubber = ssm
    kms_client, kms_stubber = kms
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    kms_stubber.add_response("describe_key", metadata)
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        key_stores.SSMKeyStore(client, "/k", "alias/agent-keys", kms_client, allow_aws_managed_key=False).check_writable()
    assert message in error.value.message and "Nothing was changed" in error.value.message


def test_a_missing_key_is_refused(ssm, kms):
    client, stubber = ssm
    kms_client, kms_stubber = kms
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    kms_stubber.add_client_error("describe_key", "NotFoundException")
    with pytest.raises(key_stores.AnsibleKeyStoreError, match="does not exist"):
        key_stores.SSMKeyStore(client, "/k", "alias/gone", kms_client, allow_aws_managed_key=False).check_writable()


def _described(key_id):
    return {"Parameters": [{"Name": "/k", "Type": "SecureString", "KeyId": key_id, "Version": 3}]}


@pytest.mark.parametrize("kms_key_id, wanted_arn", [("alias/other-keys", OTHER_ARN), (None, OTHER_ARN)])
def test_an_existing_store_is_never_moved_to_another_key(ssm, kms, kms_key_id, wanted_arn):
    client, stubber = ssm
    kms_client, kms_stubber = kms
    stubber.add_response("get_parameter", _parameter(json.dumps(RECORD)))
    kms_stubber.add_response("describe_key", _key(wanted_arn), {"KeyId": kms_key_id or "alias/aws/ssm"})
    stubber.add_response("describe_parameters", _described("alias/agent-keys"))
    kms_stubber.add_response("describe_key", _key(KEY_ARN), {"KeyId": "alias/agent-keys"})
    store = key_stores.SSMKeyStore(client, "/k", kms_key_id, kms_client, allow_aws_managed_key=True)
    with pytest.raises(key_stores.AnsibleKeyStoreError) as error:
        store.check_writable()
    assert "is encrypted with KMS key alias/agent-keys" in error.value.message
    assert "Set kms_key_id to alias/agent-keys" in error.value.message


def test_an_existing_store_under_the_same_key_is_written(ssm, kms):
    client, stubber = ssm
    kms_client, kms_stubber = kms
    stubber.add_response("get_parameter", _parameter(json.dumps(RECORD)))
    kms_stubber.add_response("describe_key", _key(), {"KeyId": KEY_ARN})
    stubber.add_response("describe_parameters", _described("alias/agent-keys"))
    kms_stubber.add_response("describe_key", _key(), {"KeyId": "alias/agent-keys"})
    assert key_stores.SSMKeyStore(client, "/k", KEY_ARN, kms_client, allow_aws_managed_key=False).check_writable() is True


# --- the key lifecycle ------------------------------------------------------------------------------
