# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The access-key lifecycle: what happens to a user's keys, and how a new one is created and stored
(in a store of ``key_stores.py``) before anyone sees it.

One code path for every module that manages keys: ``access_key`` (keys only, for an existing user),
``agent_iam_user`` and ``exporter_access`` (through ``iam_user.py``).
"""

import datetime
import functools

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.observability.cloudwatch.plugins.module_utils import aws_limits
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_key_create import create_access_key_once
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import apply_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_name
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import key_view
from ansible_collections.observability.cloudwatch.plugins.module_utils import key_rotation
from ansible_collections.observability.cloudwatch.plugins.module_utils.key_stores import make_record
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import wait_until


class KeySpec:
    """Access keys of a user: ``state`` is ``none``, ``present`` or ``rotate``; ``retire`` lists key
    ids to deactivate then delete; ``store`` is an opened key store (``key_stores.open_store``) or
    ``None``; with ``rotate``, ``max_age_days`` is the age an active key must reach first (``None``:
    rotate whatever the keys)."""

    def __init__(self, state="none", retire=None, store=None, max_age_days=None):
        self.state = state
        self.retire = list(retire or [])
        self.store = store
        self.max_age_days = max_age_days

    def validate(self):
        if self.state in ("present", "rotate") and self.store is None:
            raise iam_error(f"access_key_store is required with access_key_state={self.state}")
        if self.retire and self.store is None:
            raise iam_error(
                "access_key_store is required with retire_access_keys, so that the key in the store is never retired"
            )
        if self.max_age_days is not None and self.max_age_days < 0:
            raise iam_error(f"max_age_days must be 0 or more, got {self.max_age_days}")
        for key_id in self.retire:
            problem = aws_limits.access_key_id_problem(key_id, "retire_access_keys")
            if problem:
                raise iam_error(problem)


def rotation_due(keys, max_age_days, now=None):
    """Whether one of ``keys``, active or not, is at least ``max_age_days`` whole days old (``None``: always;
    0: when the user has a key). An inactive key counts: a user whose only key was deactivated needs a new one."""
    if max_age_days is None:
        return True
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return any((now - k["CreateDate"]).days >= max_age_days for k in keys)


def rotation_in_progress(keys, stored_key_id):
    """Whether an earlier rotation is unfinished: the store holds the user's newest key and older ones remain.
    Such a rotation goes on to delivery and retirement; it never makes another key."""
    return len(keys) > 1 and stored_key_id is not None and keys[-1]["AccessKeyId"] == stored_key_id


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


def create_and_store_access_key(client, user_name, store, known_key_ids=(), warnings=None):
    """Create a key and persist it before returning. If persisting fails, delete the new key again
    and raise; the secret never appears in the error. ``known_key_ids``: the user's keys listed before;
    a key lost with an unanswered create is removed (see ``access_key_create``), with a warning
    appended to ``warnings``."""

    def stored_key_id():
        return (store.read() or {}).get("access_key_id")

    key = create_access_key_once(client, user_name, known_key_ids, stored_key_id, warnings if warnings is not None else [])
    record = make_record(user_name, key["AccessKeyId"], key["SecretAccessKey"], key.get("CreateDate"))
    try:
        store.write(record)
    except Exception as e:  # pylint: disable=broad-except
        iam_api.delete_access_key(client, user_name, key["AccessKeyId"])
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


# --- planning shared by every module that manages keys ---------------------------------------------


def decide_keys(user_name, keys, keys_spec):
    """What ``keys_spec`` asks for the user's ``keys``: the decision of :func:`plan_access_keys`, after
    the store checks, with ``stored`` (the key id in the store, when it was read) and ``in_progress``
    (:func:`rotation_in_progress`). Raises before anything is written."""
    state = keys_spec.state
    # Read the store only when its content matters: to know which key it holds (rotate, present with an
    # active key, or a retire list naming an existing key).
    store = keys_spec.store
    stored_key_id = None
    key_ids = [k["AccessKeyId"] for k in keys]
    needs_store = (
        state == "rotate"
        or (state == "present" and any(k["Status"] == "Active" for k in keys))
        or any(key_id in key_ids for key_id in keys_spec.retire)
    )
    if store is not None and needs_store:
        record = store_record_for(store, user_name)
        stored_key_id = record.get("access_key_id") if record else None
    in_progress = state == "rotate" and rotation_in_progress(keys, stored_key_id)
    if state == "rotate" and (in_progress or not rotation_due(keys, keys_spec.max_age_days)):
        state = "none"
    decision = plan_access_keys(keys, state, keys_spec.retire, stored_key_id)
    if decision["create"]:
        store_record_for(store, user_name)
        store.check_writable()
    decision.update(stored=stored_key_id, in_progress=in_progress)
    if in_progress:
        decision["previous"] = [key_id for key_id in key_ids if key_id != stored_key_id]
    return decision


def plan_key_steps(plan, client, user_name, decision, store):
    """Add the steps of a :func:`decide_keys` decision to ``plan`` (whose ``after`` holds ``access_keys``)."""
    key_views = plan.after["access_keys"]
    for key_id in decision["retire"]:
        plan.add(f"deactivate access key {key_id}", functools.partial(iam_api.deactivate_access_key, client, user_name, key_id))
        plan.add(f"delete access key {key_id}", functools.partial(iam_api.delete_access_key, client, user_name, key_id))
    if decision["delete"]:
        key_id = decision["delete"]
        plan.add(f"delete inactive access key {key_id}", functools.partial(iam_api.delete_access_key, client, user_name, key_id))
    gone = set(decision["retire"]) | {decision["delete"]}
    plan.after["access_keys"] = [k for k in key_views if k["access_key_id"] not in gone]
    if decision["create"]:
        plan.add(
            f"create an access key for user {user_name} and write it to {store.spec}",
            functools.partial(create_and_store_access_key, client, user_name, store, [k["access_key_id"] for k in plan.before["access_keys"]], plan.warnings),
            key="access_key",
        )
        plan.after["access_keys"].append(dict(access_key_id=None, status="Active", create_date=None))


def record_new_key(plan, results, wait, wait_timeout, key_client):
    """After the plan ran: the new key (if any) in the view, and, with ``wait``, AWS accepting it.
    Returns the new key as IAM gave it (with its secret), or ``None``."""
    key = (results or {}).get("access_key")
    if key:
        plan.after["access_keys"][-1] = key_view(key)
        if wait and key_client is not None:
            wait_for_access_key(key_client, key["AccessKeyId"], key["SecretAccessKey"], wait_timeout)
    return key


def plan_delete_keys(plan, client, user_name, keys):
    for key in keys:
        key_id = key["AccessKeyId"]
        plan.add(f"delete access key {key_id}", functools.partial(iam_api.delete_access_key, client, user_name, key_id))


def plan_delete_record(plan, store, user_name, keys):
    """Delete the store's record when it holds this user's key (or one of ``keys``), never another's."""
    record = store.read() if store is not None else None
    key_ids = [k["AccessKeyId"] for k in keys]
    if record is not None and (record.get("user_name") == user_name or record.get("access_key_id") in key_ids):
        plan.add(f"delete the access key record in {store.spec}", store.delete)


# --- the keys of an existing user (module access_key) ----------------------------------------------


def read_user_keys(client, user_name):
    """The user's keys; when it has none, one GetUser tells an empty user from a missing one."""
    keys = iam_api.list_access_keys(client, user_name)
    if not keys and iam_api.get_user(client, user_name) is None:
        raise iam_error(
            f"user {user_name} does not exist; create it first (agent_iam_user or exporter_access). Nothing was changed."
        )
    return keys


def ensure_access_keys(client, caller, user_name, keys_spec, check_mode=False, wait=True, wait_timeout=120, key_client=None):
    """Bring an existing user's keys to ``keys_spec``. Returns the module result: ``changed``,
    ``access_keys``, ``previous_access_key_ids``, ``changes``, ``diff``, when a key was created,
    ``access_key_id`` (never a secret: the secret is in the store) and, with ``rotate``,
    ``stored_access_key_id`` and ``rotation_in_progress``."""
    validate_name("user", user_name, option="user_name")
    keys_spec.validate()
    keys = read_user_keys(client, user_name)
    plan = Plan(dict(access_keys=[key_view(k) for k in keys]))
    decision = decide_keys(user_name, keys, keys_spec)
    plan_key_steps(plan, client, user_name, decision, keys_spec.store)
    extra = dict(previous_access_key_ids=decision["previous"], warnings=plan.warnings)
    results = apply_plan(plan, caller, check_mode)
    key = record_new_key(plan, results, wait, wait_timeout, key_client)
    if key:
        extra["access_key_id"] = key["AccessKeyId"]
    if keys_spec.state == "rotate":
        # In check mode a key that would be created has no id yet.
        extra["stored_access_key_id"] = key["AccessKeyId"] if key else (None if decision["create"] else decision["stored"])
        extra["rotation_in_progress"] = decision["in_progress"]
    return plan.result(**extra)


def ensure_access_keys_absent(client, caller, user_name, store=None, check_mode=False):
    """Delete every key of the user and the store's record when it holds this user's key; the user stays."""
    validate_name("user", user_name, option="user_name")
    keys = iam_api.list_access_keys(client, user_name)
    plan = Plan(dict(access_keys=[key_view(k) for k in keys]))
    plan_delete_keys(plan, client, user_name, keys)
    plan_delete_record(plan, store, user_name, keys)
    plan.after["access_keys"] = []
    apply_plan(plan, caller, check_mode)
    return plan.result(previous_access_key_ids=[])


def ensure_old_keys_retired(client, caller, user_name, store, retirement, check_mode=False, now=None):
    """The end of a rotation (:mod:`key_rotation`): deactivate the user's old keys nothing uses any more,
    delete those inactive for the grace period, keep the journal on the user. ``retirement`` holds
    ``switched``, ``margin_minutes`` and ``grace_days``. The key in the store is never touched. Returns the
    module result with ``stored_access_key_id``, ``waiting`` and ``warnings``."""
    validate_name("user", user_name, option="user_name")
    user = iam_api.get_user(client, user_name)
    if user is None:
        raise iam_error(f"user {user_name} does not exist. Nothing was changed.")
    keys = iam_api.list_access_keys(client, user_name)
    record = store_record_for(store, user_name)
    stored = record.get("access_key_id") if record else None
    if stored not in [k["AccessKeyId"] for k in keys]:
        raise iam_error(
            f"{store.spec} holds no key of user {user_name} that IAM knows ({stored or 'it is empty'}): no key is retired, "
            "since the one in use is unknown. Rotate first (state=rotate). Nothing was changed."
        )
    last_used = {k["AccessKeyId"]: iam_api.get_access_key_last_used(client, k["AccessKeyId"]) for k in keys}  # (date, service)
    tags = boto3_tag_list_to_ansible_dict(user.get("Tags") or [])
    journal = key_rotation.parse_journal(tags.get(key_rotation.ROTATION_TAG_KEY))
    now = now or key_rotation.utc_now()
    decision = key_rotation.plan_retirement(keys, stored, last_used, journal, now, **retirement)

    plan = Plan(dict(access_keys=[key_view(k) for k in keys]))
    for key_id in decision["deactivate"]:
        plan.add(f"deactivate access key {key_id}", functools.partial(iam_api.deactivate_access_key, client, user_name, key_id))
    for key_id in decision["delete"]:
        plan.add(f"delete access key {key_id}", functools.partial(iam_api.delete_access_key, client, user_name, key_id))
    value = key_rotation.format_journal(decision["journal"])
    if value != tags.get(key_rotation.ROTATION_TAG_KEY):
        if value:
            tag = functools.partial(iam_api.tag_principal, client, "user", user_name, {key_rotation.ROTATION_TAG_KEY: value})
        else:
            tag = functools.partial(iam_api.untag_principal, client, "user", user_name, [key_rotation.ROTATION_TAG_KEY])
        plan.add(f"record the rotation on user {user_name}: {value or 'done'}", tag)
    after = [dict(v, status="Inactive") if v["access_key_id"] in decision["deactivate"] else v for v in plan.after["access_keys"]]
    plan.after["access_keys"] = [v for v in after if v["access_key_id"] not in decision["delete"]]
    apply_plan(plan, caller, check_mode)
    return plan.result(stored_access_key_id=stored, waiting=decision["waiting"], warnings=decision["warnings"])
