# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A role and its instance profile: read, plan, apply, wait, delete.

The parts a role shares with a user are planned in ``iam_principal``; the role-only ones (trust
policy, description, maximum session duration, instance profile) here.
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import add_role_to_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.iam import create_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.iam import delete_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.amazon.aws.plugins.module_utils.iam import remove_role_from_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.iam import tag_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.iam import untag_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import check_adoption
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import kept_trust_warning
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import refuse_unless_adopted
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import PolicyResolver
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import desired_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import is_owned
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import OWNER_TAG_KEY
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import OWNER_TAG_VALUE
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_new_principal
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import apply_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_principal_update
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_remove_principal_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import plan_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import read_inline
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import scope_inline_documents
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import refuse_delete
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_name
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import date_text
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import profile_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import role_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import wait_until


def read_role_state(client, spec):
    """One read of everything a role spec manages: GetRole (tags and boundary included), then, if the
    role exists, ListAttachedRolePolicies (and GetRolePolicy per managed inline policy, ListRolePolicies
    to report the others when the spec says so), and GetInstanceProfile when the spec has an instance
    profile."""
    role = get_iam_role(client, spec.name)
    attached = iam_api.list_attached_policy_arns(client, "role", spec.name) if role else []
    inline = read_inline(client, "role", spec.name, spec.inline_policies_to_read(attached)) if role else {}
    inline_names = iam_api.list_inline_policy_names(client, "role", spec.name) if role and spec.report_foreign else []
    profile = iam_api.get_instance_profile(client, spec.instance_profile) if spec.instance_profile else None
    return dict(role=role, attached=attached, inline=inline, inline_names=inline_names, profile=profile)


def _before(spec, role, attached, profile, inline=None):
    """The state read; ``instance_profile`` only when the spec manages one."""
    before = dict(role=role_view(role, attached, inline))
    if spec.instance_profile:
        before["instance_profile"] = profile_view(profile)
    return before


def check_profile_available(profile, role_name):
    """An instance profile holds one role: fail when the profile holds another one."""
    others = [r["RoleName"] for r in (profile or {}).get("Roles", []) if r["RoleName"] != role_name]
    if others:
        raise iam_error(
            f"Instance profile {profile['InstanceProfileName']} already holds role {others[0]}; an instance "
            f"profile holds a single role. Choose another name for role {role_name} (or set instance_profile=false). "
            "Nothing was changed."
        )


def plan_role_present(client, caller, spec, state, resolver=None):
    """Compute the plan that brings the role (and its instance profile, when the spec names one) to ``spec``."""
    resolver = resolver or PolicyResolver(client, caller)
    role, profile = state["role"], state["profile"]
    inline_view = dict(state["inline"]) if spec.inline_policies is not None else None
    plan = Plan(_before(spec, role, state["attached"], profile, inline_view))

    if spec.instance_profile:
        check_profile_available(profile, spec.name)
        if profile is not None:
            # Before anything else is read for the plan.
            refuse_unless_adopted("instance profile", spec.instance_profile, is_owned(plan.before["instance_profile"]["tags"]), spec.adopt)
    if role and spec.path and role.get("Path", "/") != spec.path:
        raise iam_error(
            f"Role {spec.name} exists on path {role.get('Path')}; IAM cannot move a role to path {spec.path}. "
            "Delete it first (state=absent) or use its current path."
        )

    if role is None:
        description = spec.description or spec.default_description
        create = functools.partial(
            iam_api.create_role,
            client,
            spec.name,
            spec.path,
            spec.trust_policy,
            description,
            spec.max_session_duration,
            spec.permissions_boundary,
        )
        extra_view = dict(
            description=description or "",
            max_session_duration=spec.max_session_duration or 3600,
            assume_role_policy_document=spec.trust_policy,
        )
        plan_new_principal(plan, client, caller, spec, resolver, create, extra_view)
    else:
        plan_principal_update(plan, client, spec, state, resolver, functools.partial(_plan_role_attributes, client, spec))
    if spec.instance_profile:
        _plan_instance_profile(plan, client, caller, spec, profile, role)
    return plan


def _plan_role_attributes(client, spec, plan, view):
    """The role-only attributes of an existing role: trust policy (of an adopted role only with
    ``replace_trust_policy``), description, maximum session duration."""
    current_trust = view["assume_role_policy_document"]
    trust_differs = compare_policies(current_trust, spec.trust_policy)
    if trust_differs and not is_owned(view["tags"]) and not spec.replace_trust_policy:
        # Whom someone else's role trusts is theirs to decide: rewriting it could lock out its users.
        plan.warnings.append(kept_trust_warning(spec.name, current_trust, spec.trust_policy))
    elif trust_differs:
        plan.add(
            f"update trust policy of role {spec.name}",
            functools.partial(iam_api.update_trust_policy, client, spec.name, spec.trust_policy),
        )
        view["assume_role_policy_document"] = spec.trust_policy

    updates = {}
    if spec.description is not None and spec.description != view["description"]:
        updates["Description"] = spec.description
        view["description"] = spec.description
    if spec.max_session_duration is not None and spec.max_session_duration != view["max_session_duration"]:
        updates["MaxSessionDuration"] = spec.max_session_duration
        view["max_session_duration"] = spec.max_session_duration
    if updates:
        plan.add(
            f"update {' and '.join(sorted(updates))} of role {spec.name}",
            functools.partial(iam_api.update_role, client, spec.name, **updates),
        )


def _plan_instance_profile(plan, client, caller, spec, profile, role):
    name = spec.instance_profile
    add_role = functools.partial(add_role_to_iam_instance_profile, client, name, spec.name)
    if profile is None:
        tags = desired_tags(None, spec.tags, owned=False)
        path = role.get("Path", "/") if role else (spec.path or "/")
        plan.add(
            f"create instance profile {name}",
            functools.partial(create_iam_instance_profile, client, name, path, tags),
            key="instance_profile",
        )
        plan.add(f"add role {spec.name} to instance profile {name}", add_role)
        plan.after["instance_profile"] = dict(
            name=name,
            path=path,
            arn=caller.arn("instance-profile", path, name),
            instance_profile_id=None,
            create_date=None,
            roles=[spec.name],
            tags=tags,
        )
        return
    view = plan.after["instance_profile"]
    owned = is_owned(view["tags"])
    check_adoption("instance profile", name, owned, spec.adopt, plan.warnings)
    if spec.name not in view["roles"]:
        plan.add(f"add role {spec.name} to instance profile {name}", add_role)
        view["roles"] = [spec.name]
    plan_tags(
        plan,
        view,
        view["tags"],
        desired_tags(view["tags"], spec.tags, owned),
        spec.purge_tags,
        functools.partial(tag_iam_instance_profile, client, name),
        functools.partial(untag_iam_instance_profile, client, name),
        f"instance profile {name}",
    )


def wait_for_role(client, role_name, profile_name, timeout):
    """Poll until IAM reads back the role: with a profile, GetInstanceProfile until it returns the
    profile holding the role (one call when IAM is already consistent); without, GetRole."""
    if profile_name:

        def check():
            profile = iam_api.get_instance_profile(client, profile_name)
            return profile if profile and role_name in [r["RoleName"] for r in profile.get("Roles", [])] else None

        return wait_until(check, timeout, f"instance profile {profile_name} to hold role {role_name}", error=AnsibleIAMError)
    return wait_until(lambda: get_iam_role(client, role_name), timeout, f"role {role_name}", error=AnsibleIAMError)


def ensure_role_present(client, caller, spec, check_mode=False, wait=True, wait_timeout=120):
    """Create or update a role (and its instance profile). Returns the module result: ``changed``,
    ``role``, ``instance_profile`` (only when ``spec.instance_profile`` names one), ``diff``,
    ``changes`` and ``warnings``.

    Calls: a no-op reads 3 (GetRole, ListAttachedRolePolicies, GetInstanceProfile); a create of a role
    with one policy and its profile makes 8 (those reads minus the list, GetCallerIdentity, CreateRole,
    AttachRolePolicy, CreateInstanceProfile, AddRoleToInstanceProfile, one GetInstanceProfile to wait).
    """
    spec.validate()
    state = read_role_state(client, spec)
    scope_inline_documents(spec, state["role"], caller)
    plan = plan_role_present(client, caller, spec, state)
    results = apply_plan(plan, caller, check_mode, "role")
    if results is None:
        return plan.result(warnings=plan.warnings)
    profile = results.get("instance_profile")
    if profile:
        plan.after["instance_profile"].update(
            arn=profile["Arn"],
            instance_profile_id=profile["InstanceProfileId"],
            create_date=date_text(profile["CreateDate"]),
        )
    added = spec.instance_profile and spec.name not in ((plan.before["instance_profile"] or {}).get("roles") or [])
    if wait and (results.get("role") or added):
        wait_for_role(client, spec.name, spec.instance_profile, wait_timeout)
    return plan.result(warnings=plan.warnings)


def ensure_role_absent(client, caller, spec, check_mode=False):
    """Delete the role the collection owns: detach its managed policies, delete the inline policies the
    spec names, remove it from every instance profile, delete the profile of ``spec.instance_profile``
    when the collection owns it, then the role. Refuses (changing nothing) when the role lacks the
    owner tag. A no-op (nothing there) reads GetRole and GetInstanceProfile."""
    validate_name("role", spec.name)
    role = get_iam_role(client, spec.name)
    profile = iam_api.get_instance_profile(client, spec.instance_profile) if spec.instance_profile else None
    attached = iam_api.list_attached_policy_arns(client, "role", spec.name) if role else []
    plan = Plan(_before(spec, role, attached, profile))
    if role is not None and not is_owned(plan.before["role"]["tags"]):
        raise refuse_delete("role", spec.name)
    profile_owned = profile is not None and is_owned(plan.before["instance_profile"]["tags"])

    if role is not None:
        plan_remove_principal_policies(plan, client, "role", spec.name, attached, spec.owned_inline_policies)
        for held in iam_api.list_instance_profiles_for_role(client, spec.name):
            profile_name = held["InstanceProfileName"]
            plan.add(
                f"remove role {spec.name} from instance profile {profile_name}",
                functools.partial(remove_role_from_iam_instance_profile, client, profile_name, spec.name),
            )
    if profile_owned:
        for other in profile.get("Roles", []):
            if other["RoleName"] != spec.name:
                plan.add(
                    f"remove role {other['RoleName']} from instance profile {spec.instance_profile}",
                    functools.partial(remove_role_from_iam_instance_profile, client, spec.instance_profile, other["RoleName"]),
                )
        plan.add(
            f"delete instance profile {spec.instance_profile}",
            functools.partial(delete_iam_instance_profile, client, spec.instance_profile),
        )
        plan.after["instance_profile"] = None
    elif profile is not None:
        plan.warnings.append(
            f"Instance profile {spec.instance_profile} was not created by this collection (it lacks the tag "
            f"{OWNER_TAG_KEY}={OWNER_TAG_VALUE}) and is left in place."
        )
    if role is not None:
        plan.add(f"delete role {spec.name}", functools.partial(iam_api.delete_role, client, spec.name))
        plan.after["role"] = None
        if plan.after.get("instance_profile"):
            plan.after["instance_profile"]["roles"] = [r for r in plan.after["instance_profile"]["roles"] if r != spec.name]
    apply_plan(plan, caller, check_mode)
    return plan.result(warnings=plan.warnings)
