# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Access keys: their lifecycle (what happens to a user's keys, how a new one is created and stored)
and the stores that keep them, the one place that reads and writes a stored IAM access key.

Used by the ``agent_iam_user`` module, the ``access_key`` lookup and ``exporter_access``. A store is
named like the agent names its configuration:

- ``ssm:NAME``: an SSM Parameter Store ``SecureString`` (encrypted with ``kms_key_id`` when given,
  else the account's ``aws/ssm`` key). Names starting with ``AmazonCloudWatch-`` are refused: the
  agent's own policies let every agent host read those.
- ``file:PATH``: a file (absolute path; its directory must exist) written atomically and created
  with mode 0600, so it is never readable by others, not even for a moment.

Both hold one JSON object, a *record*: ``access_key_id``, ``secret_access_key``, ``user_name``
and ``created``. Errors never carry a secret: messages name the store and the cause, not the value.
"""

import datetime
import json
import os
import re
import tempfile

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.observability.cloudwatch.plugins.module_utils import ssm
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import create_access_key
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import delete_access_key
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import wait_until

STORE_OPTION = "access_key_store"
STORE_FORMS = "ssm:NAME (an SSM Parameter Store SecureString) or file:PATH (an absolute path on the controller)"
RESERVED_SSM_PREFIX = ssm.CONFIG_NAME_PREFIX

_SSM_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-/]{1,1011}")


class AnsibleKeyStoreError(AnsibleAWSError):
    pass


def _error(message):
    return AnsibleKeyStoreError(message=message)


def make_record(user_name, access_key_id, secret_access_key, created=None):
    """The JSON object a store holds for one access key."""
    if isinstance(created, (datetime.date, datetime.datetime)):
        created = created.isoformat()
    if not created:
        created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return dict(
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        user_name=user_name,
        created=created,
    )


def parse_record(text, spec):
    """Parse a stored record; the error never quotes the content."""
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not record.get("access_key_id") or not record.get("secret_access_key"):
        raise _error(
            f"{spec} does not hold an access key record (a JSON object with access_key_id and "
            "secret_access_key); refusing to use or overwrite it"
        )
    return record


def parse_store(spec, option=STORE_OPTION):
    """Split ``ssm:NAME`` / ``file:PATH`` into ``(kind, location)``; raise a clear error otherwise."""
    kind, sep, location = (spec or "").partition(":")
    if not sep or kind not in ("ssm", "file") or not location:
        raise _error(f"{option} must be {STORE_FORMS}, got {spec!r}")
    if kind == "ssm":
        bare = location.lstrip("/")
        if bare.lower().startswith(RESERVED_SSM_PREFIX.lower()):
            raise _error(
                f"{option}: refusing {spec!r}. Parameters whose name starts with {RESERVED_SSM_PREFIX} are "
                "readable by every host running the CloudWatch agent (CloudWatchAgentServerPolicy), so a "
                "secret must not live there. Choose another name, e.g. ssm:/cloudwatch-agent/keys/USER."
            )
        if not _SSM_NAME_RE.fullmatch(location) or ("/" in location and not location.startswith("/")):
            raise _error(
                f"{option}: {location!r} is not a valid SSM parameter name (letters, digits and _.-/ only; a "
                "hierarchical name starts with /)"
            )
        if bare.lower().startswith(("aws", "ssm")):
            raise _error(f"{option}: SSM parameter names may not start with aws or ssm, got {location!r}")
    else:
        location = os.path.expanduser(location)
        if not os.path.isabs(location):
            raise _error(f"{option}: file:PATH needs an absolute path, got {spec!r}")
    return kind, location


def open_store(spec, ssm_client_factory=None, kms_key_id=None, option=STORE_OPTION):
    """The store ``spec`` names. ``ssm_client_factory()`` returns an SSM client (wrapped with
    ``retries.jittered_backoff()``); it is only called for an ``ssm:`` store."""
    kind, location = parse_store(spec, option)
    if kind == "file":
        if kms_key_id:
            raise _error(f"kms_key_id applies to ssm: stores only, not to {spec!r}")
        return FileKeyStore(location)
    return SSMKeyStore(ssm_client_factory(), location, kms_key_id)


class _Store:
    """Shared behaviour: ``read()`` is cached, so one run reads a store at most once."""

    spec = None

    def __init__(self):
        self._loaded = False
        self._record = None

    def read(self):
        """The stored record (a dict), or ``None`` when nothing is stored."""
        if not self._loaded:
            self._record = self._read()
            self._loaded = True
        return self._record

    def _remember(self, record):
        self._record = record
        self._loaded = True


class FileKeyStore(_Store):
    def __init__(self, path):
        super().__init__()
        self.path = path
        self.spec = f"file:{path}"

    def _read(self):
        if not os.path.lexists(self.path):
            return None
        if not os.path.isfile(self.path):
            raise _error(f"{self.spec} is not a regular file")
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as e:
            raise _error(f"Cannot read {self.spec}: {e.strerror}") from None
        return parse_record(text, self.spec)

    def check_writable(self):
        """Prove the file can be replaced: its directory exists and accepts a new file (a probe file
        is created and removed there), and an existing path is a regular file holding a record."""
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise _error(f"Cannot write {self.spec}: directory {directory} does not exist")
        self.read()
        try:
            handle, probe = tempfile.mkstemp(dir=directory, prefix=".access-key-probe-")
            os.close(handle)
            os.unlink(probe)
        except OSError as e:
            raise _error(f"Cannot write {self.spec}: {e.strerror}") from None
        return True

    def write(self, record):
        """Write atomically: a temporary file created with mode 0600 in the same directory, flushed to
        disk, then renamed over the path."""
        directory = os.path.dirname(self.path)
        temporary = None
        try:
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".access-key-")
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out, indent=2, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
            temporary = None
        except OSError as e:
            raise _error(f"Cannot write {self.spec}: {e.strerror}") from None
        finally:
            if temporary and os.path.exists(temporary):
                os.unlink(temporary)
        self._remember(record)
        return True

    def delete(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        except OSError as e:
            raise _error(f"Cannot delete {self.spec}: {e.strerror}") from None
        self._remember(None)
        return True


class SSMKeyStore(_Store):
    def __init__(self, client, name, kms_key_id=None):
        super().__init__()
        self.client = client
        self.name = name
        self.kms_key_id = kms_key_id
        self.spec = f"ssm:{name}"

    def _call(self, helper, *args, **kwargs):
        """An ssm.py helper, its error raised as the store's (same message, same AWS error)."""
        try:
            return helper(self.client, self.name, *args, **kwargs)
        except ssm.AnsibleSSMError as e:
            raise AnsibleKeyStoreError(message=e.message, exception=e.exception) from e.exception

    def _read(self):
        parameter = self._call(ssm.get_secure_string)
        if parameter is None:
            return None
        if parameter.get("Type") != "SecureString":
            raise _error(f"{self.spec} exists as a {parameter.get('Type')} parameter, not a SecureString; refusing to use it")
        return parse_record(parameter["Value"], self.spec)

    def check_writable(self):
        """The harmless probe: GetParameter with decryption (the read a run needs anyway). It proves the
        credentials reach SSM in this region, the caller may read and decrypt the parameter, and an
        existing parameter is a SecureString holding a record (not something else that would be
        overwritten). It cannot prove ssm:PutParameter or kms:Encrypt rights without writing: if the
        write still fails, the caller deletes the key it created (see create_and_store_access_key)."""
        self.read()
        return True

    def write(self, record):
        self._call(
            ssm.put_secure_string,
            json.dumps(record, sort_keys=True),
            f"Access key of IAM user {record.get('user_name')} (observability.cloudwatch)",
            kms_key_id=self.kms_key_id,
            secret=record.get("secret_access_key"),
        )
        self._remember(record)
        return True

    def delete(self):
        deleted = self._call(ssm.delete_secure_string)
        self._remember(None)
        return bool(deleted)


# --- the key lifecycle ------------------------------------------------------------------------------


class KeySpec:
    """Access keys of a user: ``state`` is ``none``, ``present`` or ``rotate``; ``retire`` lists key
    ids to deactivate then delete; ``store`` is an opened key store (:func:`open_store`) or ``None``."""

    def __init__(self, state="none", retire=None, store=None):
        self.state = state
        self.retire = list(retire or [])
        self.store = store

    def validate(self):
        if self.state in ("present", "rotate") and self.store is None:
            raise iam_error(f"access_key_store is required with access_key_state={self.state}")
        if self.retire and self.store is None:
            raise iam_error(
                "access_key_store is required with retire_access_keys, so that the key in the store is never retired"
            )


def plan_access_keys(keys, state, retire, stored_key_id):
    """Decide what happens to a user's access keys (pure; raises on a state it must not touch).

    ``keys`` are the user's keys oldest first; ``stored_key_id`` the key id in the store (``None``
    when the store is empty or was not read). Returns a dict: ``retire`` (ids to deactivate then
    delete), ``delete`` (the oldest inactive key to delete to make room, or ``None``), ``create``
    (bool) and ``previous`` (ids of the keys that stay beside a new key).
    """
    ids = [k["AccessKeyId"] for k in keys]
    if stored_key_id and stored_key_id in retire:
        raise iam_error(
            f"retire_access_keys lists {stored_key_id}, the key held in the access key store: rotate first "
            "(access_key_state=rotate), then retire the old key. Nothing was changed."
        )
    to_retire = [key_id for key_id in ids if key_id in retire]
    remaining = [k for k in keys if k["AccessKeyId"] not in to_retire]
    active = [k["AccessKeyId"] for k in remaining if k["Status"] == "Active"]

    create = False
    if state == "rotate":
        create = True
    elif state == "present":
        if stored_key_id in active:
            create = False
        elif active:
            raise iam_error(
                f"The user has an active access key ({', '.join(active)}) whose secret is not in the access key "
                "store, and a secret cannot be read back from IAM. Use access_key_state=rotate to create a new key "
                "and store it (the old key stays active until you retire it). Nothing was changed."
            )
        else:
            create = True

    delete = None
    if create and len(remaining) >= 2:
        inactive = [k["AccessKeyId"] for k in remaining if k["Status"] != "Active"]
        if not inactive:
            raise iam_error(
                f"The user already has the two access keys IAM allows and both are active ({', '.join(active)}). "
                "Retire one with retire_access_keys (it is deactivated, then deleted), then rotate. Nothing was changed."
            )
        delete = inactive[0]
    previous = [k["AccessKeyId"] for k in remaining if k["AccessKeyId"] != delete] if create else []
    return dict(retire=to_retire, delete=delete, create=create, previous=previous)


def store_record_for(store, user_name):
    """The store's record, refusing a store that holds another user's key (it would be overwritten)."""
    record = store.read()
    if record is not None and record.get("user_name") not in (None, user_name):
        raise iam_error(
            f"{store.spec} holds the access key of user {record.get('user_name')}, not {user_name}; refusing to "
            "overwrite it. Use another access_key_store. Nothing was changed."
        )
    return record


def create_and_store_access_key(client, user_name, store):
    """Create a key and persist it before returning. If persisting fails, delete the new key again
    and raise; the secret never appears in the error."""
    key = create_access_key(client, user_name)
    record = make_record(user_name, key["AccessKeyId"], key["SecretAccessKey"], key.get("CreateDate"))
    try:
        store.write(record)
    except Exception as e:  # pylint: disable=broad-except
        delete_access_key(client, user_name, key["AccessKeyId"])
        raise iam_error(
            f"Could not write the new access key of user {user_name} to {store.spec} ({getattr(e, 'message', None) or type(e).__name__}); "
            f"the new key {key['AccessKeyId']} was deleted again, so no secret is lost. Fix the store and run again."
        ) from None
    return key


def wait_for_access_key(key_client, access_key_id, secret_access_key, timeout):
    """Poll sts:GetCallerIdentity signed with the new key until AWS accepts it (new keys take a few
    seconds to work everywhere)."""
    sts = key_client(access_key_id, secret_access_key)

    def check():
        try:
            return sts.get_caller_identity(aws_retry=True)
        except is_boto3_error_code(["InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"]):
            return None

    return wait_until(check, timeout, f"the new access key {access_key_id} to be accepted", error=AnsibleIAMError)
