# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The access-key stores: the one place that reads and writes a stored IAM access key.

Used by the key lifecycle (``access_keys.py``) and the ``access_key`` lookup. A store is
named like the agent names its configuration:

- ``ssm:NAME``: an SSM Parameter Store ``SecureString`` encrypted with ``kms_key_id``, a customer
  managed key (the account's ``aws/ssm`` key only when the user accepts it: every principal that may
  read the parameter may decrypt with that key). A store is never re-encrypted with another key.
  Names starting with ``AmazonCloudWatch-`` are refused: the agent's own policies let every agent
  host read those.
- ``file:PATH``: a file (absolute path; its directory must exist) written atomically and created
  with mode 0600, so it is never readable by others, not even for a moment; the directory is synced
  after the rename, so a crash cannot lose a new key. It is refused when PATH itself is a symbolic
  link, not a regular file, owned by another user than the one running, or open to group or others
  (mode & 0o077). The checks are made on the opened file (``O_NOFOLLOW``, then ``fstat``), so the
  file cannot be swapped between check and read. Links in the directories above PATH are followed.

Both hold one JSON object, a *record*: ``access_key_id``, ``secret_access_key``, ``user_name``
and ``created``. Errors never carry a secret: messages name the store and the cause, not the value.
"""

import datetime
import json
import os
import pwd
import stat
import tempfile

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.observability.cloudwatch.plugins.module_utils import aws_limits
from ansible_collections.observability.cloudwatch.plugins.module_utils import kms
from ansible_collections.observability.cloudwatch.plugins.module_utils import ssm

STORE_OPTION = "access_key_store"
STORE_FORMS = "ssm:NAME (an SSM Parameter Store SecureString) or file:PATH (an absolute path on the controller)"
RESERVED_SSM_PREFIX = ssm.CONFIG_NAME_PREFIX


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


def parse_store(spec, option=STORE_OPTION, region=None):
    """Split ``ssm:NAME`` / ``file:PATH`` into ``(kind, location)``; raise a clear error otherwise.
    ``region`` is where an ``ssm:`` store lives: its parameter ARN counts towards the name's length."""
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
        problem = aws_limits.parameter_name_problem(location, option, region)
        if problem:
            raise _error(problem)
    else:
        location = os.path.expanduser(location)
        if not os.path.isabs(location):
            raise _error(f"{option}: file:PATH needs an absolute path, got {spec!r}")
    return kind, location


def check_store_key(spec, kms_key_id, allow_aws_managed_key):
    """Before any call, for a store a run may write: an ``ssm:`` store names a customer managed key,
    unless the user accepts the account's ``aws/ssm`` key."""
    if allow_aws_managed_key or not spec.startswith("ssm:"):
        return
    if not kms_key_id or kms.names_aws_managed_key(kms_key_id):
        raise _error(
            f"{STORE_OPTION} {spec} needs kms_key_id, a customer managed KMS key whose key policy lets only the "
            f"controller decrypt: with {kms_key_id or 'the default key aws/ssm'}, every principal of the account that "
            "may read the parameter could decrypt the secret (AmazonSSMManagedInstanceCore grants ssm:GetParameter "
            "on every parameter). To accept that, set allow_aws_managed_kms_key=true. Nothing was changed."
        )


def open_store(spec, ssm_client_factory=None, kms_key_id=None, option=STORE_OPTION, kms_client_factory=None,
               allow_aws_managed_key=True, region=None):
    """The store ``spec`` names. ``ssm_client_factory()`` returns an SSM client (wrapped with
    ``retries.jittered_backoff()``); it is only called for an ``ssm:`` store. A store that will be written
    gets ``kms_client_factory`` (its key is then checked before the write) and ``allow_aws_managed_key``."""
    kind, location = parse_store(spec, option, region)
    problem = aws_limits.kms_key_id_problem(kms_key_id)
    if problem:
        raise _error(problem)
    if kind == "file":
        if kms_key_id:
            raise _error(f"kms_key_id applies to ssm: stores only, not to {spec!r}")
        return FileKeyStore(location)
    kms_client = kms_client_factory() if kms_client_factory else None
    return SSMKeyStore(ssm_client_factory(), location, kms_key_id, kms_client, allow_aws_managed_key)


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


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


class FileKeyStore(_Store):
    def __init__(self, path):
        super().__init__()
        self.path = path
        self.spec = f"file:{path}"

    def _refuse_link(self):
        return _error(
            f"{self.spec} is a symbolic link; the file store never follows one (it could send the key elsewhere). "
            "Name the file itself, not a link to it."
        )

    def _check_owner(self, info):
        """An existing file must be this user's: another user could have planted it, or could change it."""
        if info.st_uid != os.geteuid():
            me = _user_name(os.geteuid())
            raise _error(
                f"{self.spec} is owned by user {_user_name(info.st_uid)}, not by {me} who runs this task; refusing to "
                f"use or replace it. Fix: chown {me} {self.path}, or use a store of your own."
            )

    def _check(self, info):
        if not stat.S_ISREG(info.st_mode):
            raise _error(f"{self.spec} is not a regular file")
        self._check_owner(info)
        if info.st_mode & 0o077:
            raise _error(
                f"{self.spec} has mode {stat.S_IMODE(info.st_mode):04o}: group or others may read or change it, so the key "
                f"in it may have been read; refusing to use it. Fix: chmod 600 {self.path}, then rotate the key."
            )

    def _read(self):
        # O_NOFOLLOW: a link as the last component fails (ELOOP) instead of being followed; O_NONBLOCK: a FIFO
        # does not hang the run (fstat then refuses it).
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            handle = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        except OSError as e:
            if os.path.islink(self.path):
                raise self._refuse_link() from None
            raise _error(f"Cannot read {self.spec}: {e.strerror}") from None
        try:
            self._check(os.fstat(handle))
            with os.fdopen(handle, "rb", closefd=False) as source:
                text = source.read().decode("utf-8")
        except OSError as e:
            raise _error(f"Cannot read {self.spec}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise _error(f"{self.spec} is not UTF-8 text, so it holds no access key record") from None
        finally:
            os.close(handle)
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

    def _check_replaceable(self):
        """What is at the path may be replaced: nothing, or this user's regular file (never a link)."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            raise self._refuse_link()
        if not stat.S_ISREG(info.st_mode):
            raise _error(f"{self.spec} is not a regular file")
        self._check_owner(info)

    def _sync_directory(self):
        """Make the rename (or unlink) durable: without it a crash can bring back the old directory entry."""
        handle = os.open(os.path.dirname(self.path), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

    def write(self, record):
        """Write atomically: a temporary file created with mode 0600 in the same directory, flushed to
        disk, renamed over the path, then the directory synced."""
        self._check_replaceable()
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
            self._sync_directory()
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
            self._sync_directory()
        except FileNotFoundError:
            return False
        except OSError as e:
            raise _error(f"Cannot delete {self.spec}: {e.strerror}") from None
        self._remember(None)
        return True


class SSMKeyStore(_Store):
    def __init__(self, client, name, kms_key_id=None, kms_client=None, allow_aws_managed_key=True):
        super().__init__()
        self.client = client
        self.name = name
        self.kms_key_id = kms_key_id
        self.kms_client = kms_client
        self.allow_aws_managed_key = allow_aws_managed_key
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
        write still fails, the caller deletes the key it created (see create_and_store_access_key).

        With a KMS client, the key is checked too (kms:DescribeKey), and an existing parameter's key
        (ssm:DescribeParameters) must be the same key: a write never moves a secret to another key."""
        record = self.read()
        if self.kms_client is not None:
            self._check_key(record is not None)
        return True

    def _check_key(self, exists):
        key_id = self.kms_key_id or kms.SSM_DEFAULT_KEY
        wanted = kms.describe_key(self.kms_client, key_id)
        problem = kms.key_problem(wanted, key_id, self.allow_aws_managed_key)
        if problem:
            raise _error(f"{self.spec}: {problem}. Nothing was changed.")
        if not exists:
            return
        current_id = (self._call(ssm.describe_parameter) or {}).get("KeyId") or kms.SSM_DEFAULT_KEY
        current = kms.describe_key(self.kms_client, current_id)
        if current is None or current["Arn"] != wanted["Arn"]:
            raise _error(
                f"{self.spec} is encrypted with KMS key {current_id}, not {key_id}: a new key would be stored under "
                f"another key than the one its readers were granted. Set kms_key_id to {current_id}, or store the key "
                "under a new name with the new KMS key. Nothing was changed."
            )

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
