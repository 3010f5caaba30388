# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A user and its access keys: read, plan, apply, wait, delete.

The parts a user shares with a role are planned in ``iam_principal``, the user-only one (moving it
to another path) here; what happens to its keys is decided in ``access_keys``.
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import decide_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import plan_delete_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import plan_delete_record
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import plan_key_steps
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import record_new_key
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import refuse_unless_adopted
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import PolicyResolver
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import is_owned
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_new_principal
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import apply_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_principal_update
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_remove_principal_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import read_inline
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import scope_inline_documents
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import refuse_delete
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_name
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import key_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import user_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import wait_until


def read_user_state(client, spec):
    """One read: GetUser (tags and boundary included) and, if the user exists,
    ListAttachedUserPolicies, ListAccessKeys (and GetUserPolicy per managed inline policy,
    ListUserPolicies to report the others when the spec says so)."""
    user = iam_api.get_user(client, spec.name)
    attached = iam_api.list_attached_policy_arns(client, "user", spec.name) if user else []
    inline = read_inline(client, "user", spec.name, spec.inline_policies_to_read(attached)) if user else {}
    inline_names = iam_api.list_inline_policy_names(client, "user", spec.name) if user and spec.report_foreign else []
    keys = iam_api.list_access_keys(client, spec.name) if user else []
    return dict(user=user, attached=attached, inline=inline, inline_names=inline_names, keys=keys)


def plan_user_present(client, caller, spec, keys_spec, state, resolver=None):
    resolver = resolver or PolicyResolver(client, caller)
    user, keys = state["user"], state["keys"]
    inline_view = dict(state["inline"]) if spec.inline_policies is not None else None
    plan = Plan(dict(user=user_view(user, state["attached"], inline_view), access_keys=[key_view(k) for k in keys]))
    if user is not None:
        # Before the key store is read or probed.
        refuse_unless_adopted("user", spec.name, is_owned(plan.before["user"]["tags"]), spec.adopt)
    decision = decide_keys(spec.name, keys, keys_spec)
    if user is None:
        create = functools.partial(iam_api.create_user, client, spec.name, spec.path, spec.permissions_boundary)
        plan_new_principal(plan, client, caller, spec, resolver, create)
    else:
        plan_principal_update(plan, client, spec, state, resolver, functools.partial(_plan_user_path, client, spec))

    plan_key_steps(plan, client, spec.name, decision, keys_spec.store)
    return plan, decision


def _plan_user_path(client, spec, plan, view):
    """The user-only attribute of an existing user: IAM can move a user to another path."""
    if spec.path and spec.path != view["path"]:
        plan.add(f"move user {spec.name} to path {spec.path}", functools.partial(iam_api.update_user_path, client, spec.name, spec.path))
        view["path"] = spec.path
        view["arn"] = None if view["arn"] is None else view["arn"].split(":user/")[0] + f":user{spec.path}{spec.name}"


def ensure_user_present(client, caller, spec, keys_spec, check_mode=False, wait=True, wait_timeout=120, key_client=None):
    """Create or update a user and its access keys. Returns the module result: ``changed``, ``user``,
    ``access_keys``, ``previous_access_key_ids``, ``diff``, ``changes``, ``warnings`` and, only when a
    key was created, ``access_key_id`` (never the secret: it is in the store, and only there).

    ``key_client(access_key_id, secret_access_key)`` returns an STS client signed with a new key: with
    ``wait``, the new key is tried with sts:GetCallerIdentity until AWS accepts it. Without a new key,
    ``wait`` polls GetUser after a create.
    """
    spec.validate()
    keys_spec.validate()
    state = read_user_state(client, spec)
    scope_inline_documents(spec, state["user"], caller)
    plan, decision = plan_user_present(client, caller, spec, keys_spec, state)
    extra = dict(previous_access_key_ids=decision["previous"], warnings=plan.warnings)
    results = apply_plan(plan, caller, check_mode, "user") or {}
    key = record_new_key(plan, results, wait, wait_timeout, key_client)
    if key:
        extra["access_key_id"] = key["AccessKeyId"]
    elif wait and results.get("user"):
        wait_until(lambda: iam_api.get_user(client, spec.name), wait_timeout, f"user {spec.name}", error=AnsibleIAMError)
    return plan.result(**extra)


def ensure_user_absent(client, caller, spec, store=None, check_mode=False):
    """Delete a user the collection owns: its access keys, managed policy attachments, the inline
    policies the spec names, the user, and the store's record when it holds this user's key.
    Refuses (changing nothing) when the user lacks the owner tag."""
    validate_name("user", spec.name)
    user = iam_api.get_user(client, spec.name)
    attached = iam_api.list_attached_policy_arns(client, "user", spec.name) if user else []
    keys = iam_api.list_access_keys(client, spec.name) if user else []
    plan = Plan(dict(user=user_view(user, attached), access_keys=[key_view(k) for k in keys]))
    if user is not None and not is_owned(plan.before["user"]["tags"]):
        raise refuse_delete("user", spec.name)
    if user is not None:
        plan_delete_keys(plan, client, spec.name, keys)
        plan_remove_principal_policies(plan, client, "user", spec.name, attached, spec.owned_inline_policies)
        plan.add(f"delete user {spec.name}", functools.partial(iam_api.delete_user, client, spec.name))
    plan_delete_record(plan, store, spec.name, keys)
    plan.after = dict(user=None, access_keys=[])
    apply_plan(plan, caller, check_mode)
    return plan.result(warnings=plan.warnings)
