# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What roles and users share: ownership, the specs, and one planner for both kinds.

Every IAM module of the collection follows the same steps:

1. validate its input (``iam_validate``), raising ``AnsibleIAMError`` before any call;
2. read the current state once (``iam_role.read_role_state``, ``iam_user.read_user_state``);
3. compute the difference into a ``plan.Plan``, whose ``before``/``after`` views are the ``--diff``
   and the check-mode prediction (:func:`plan_new_principal`, :func:`plan_principal_update`, with
   the role-only and user-only extras in ``iam_role`` and ``iam_user``);
4. when the plan holds a change, run the pre-write checks: the root guard (one
   ``sts:GetCallerIdentity``), the existence of the managed policies it will attach, the key store;
5. apply the plan (unless in check mode), wait until IAM can read back what was created, and report.

Ownership: every resource the collection creates carries the tag ``OWNER_TAG_KEY: OWNER_TAG_VALUE``.
A role, user or instance profile that exists without it is refused, before any write and in check mode,
unless the spec says ``adopt`` (``iam_adoption``). An adopted one is updated with a warning, its trust
policy is kept unless ``replace_trust_policy``, the owner tag is not added unless the user puts it in
``tags``, and ``state=absent`` refuses to delete it.
"""

import functools

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import GRANT_POLICY_NAMES
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import GRANT_TAG_KEY
from ansible_collections.observability.cloudwatch.plugins.module_utils.key_rotation import ROTATION_TAG_KEY
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_validate as checks
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import check_adoption
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import no_foreign_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_adoption import plan_foreign_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import diff_attached_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import policy_matches
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import date_text
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import ordered_view

OWNER_TAG_KEY = "managed-by"
OWNER_TAG_VALUE = "observability.cloudwatch"


# --- ownership --------------------------------------------------------------------------------------


def owner_tags():
    return {OWNER_TAG_KEY: OWNER_TAG_VALUE}


def is_owned(tags):
    """Whether a resource's tags (a dict) mark it as created by this collection."""
    return (tags or {}).get(OWNER_TAG_KEY) == OWNER_TAG_VALUE


def desired_tags(current_tags, tags, owned):
    """The tags to reconcile towards; ``None`` means "leave the tags alone".

    On creation (``current_tags is None``) the owner tag is added to ``tags``. A resource that carries
    the owner tag keeps it whatever ``tags`` and ``purge_tags`` say, and so do the collection's state tags
    (an admin grant's lease, a key rotation's journal). An existing resource without the owner tag (adopted)
    does not get it: its tags become exactly ``tags`` (which may name the owner tag explicitly), plus the state tags.
    """
    if current_tags is None:
        return dict(tags or {}, **owner_tags())
    if tags is None:
        return None
    # The lease of a running admin grant (module admin_grant) and a rotation's journal are never the tags' business.
    lease = {k: v for k, v in current_tags.items() if k in (GRANT_TAG_KEY, ROTATION_TAG_KEY)}
    if owned:
        return dict(tags, **owner_tags(), **lease)
    return dict(tags, **lease)


def refuse_delete(resource_type, name):
    return checks.iam_error(
        f"Refusing to delete {resource_type} {name}: it was not created by this collection (it lacks the tag "
        f"{OWNER_TAG_KEY}={OWNER_TAG_VALUE}). Delete it yourself, or add that tag first if the collection "
        "should own it. Nothing was changed."
    )


# --- specs ------------------------------------------------------------------------------------------


class PrincipalSpec:
    """What a role or user should look like; ``None`` for an attribute means "not managed".

    ``required_policies`` are attached whatever ``purge_policies`` says (e.g. the agent's purpose
    policy); ``managed_policies`` are the user's extra ARNs or names. ``inline_policies`` maps policy
    names to documents (for exporter_access); names not listed are left alone. ``adopt`` lets the
    modules manage an existing one without the owner tag; ``report_foreign`` (exporters) reports the
    policies the spec does not name, and removes them with ``purge_policies``.
    """

    kind = None

    def __init__(
        self,
        name,
        path=None,
        permissions_boundary=None,
        required_policies=(),
        managed_policies=None,
        purge_policies=True,
        tags=None,
        purge_tags=True,
        inline_policies=None,
        adopt=False,
        report_foreign=False,
        retired_inline_policies=(),
    ):
        self.name = name
        self.path = path
        self.permissions_boundary = permissions_boundary
        self.required_policies = list(required_policies)
        self.managed_policies = managed_policies
        self.purge_policies = purge_policies
        self.tags = tags
        self.purge_tags = purge_tags
        self.inline_policies = inline_policies
        self.adopt = adopt
        self.report_foreign = report_foreign
        self.retired_inline_policies = list(retired_inline_policies)

    @property
    def policy_references(self):
        return self.required_policies + list(self.managed_policies or [])

    @property
    def owned_inline_policies(self):
        """The inline policies a delete of the principal removes with it."""
        return list(self.inline_policies or {}) + self.retired_inline_policies

    def inline_policies_to_read(self, attached):
        """The inline policies the spec writes, and the retired ones while a required managed policy is missing
        (the scoped agent policy replaces the managed one, so while that is attached it is not looked for)."""
        missing = any(not any(policy_matches(arn, ref) for arn in attached) for ref in self.required_policies)
        return list(self.inline_policies or {}) + (self.retired_inline_policies if missing else [])

    def validate(self):
        checks.validate_name(self.kind, self.name)
        checks.validate_path(self.kind, self.path)
        checks.validate_permissions_boundary(self.permissions_boundary)
        for reference in self.managed_policies or []:
            checks.validate_policy_reference(reference)
        checks.validate_tags(self.tags, added=owner_tags())
        for policy_name in self.inline_policies or {}:
            checks.validate_name("policy", policy_name, option="inline policy name")


class RoleSpec(PrincipalSpec):
    """A role: ``trust_policy`` (a dict), ``description`` (``default_description`` is used on creation
    when it is ``None``), ``max_session_duration`` and, with ``instance_profile`` set to a name, an
    instance profile of that name holding the role. ``replace_trust_policy``: rewrite the trust policy
    of an adopted role too."""

    kind = "role"

    def __init__(
        self,
        name,
        trust_policy,
        description=None,
        max_session_duration=None,
        instance_profile=None,
        default_description=None,
        replace_trust_policy=False,
        **kwargs
    ):
        super().__init__(name, **kwargs)
        self.trust_policy = trust_policy
        self.description = description
        self.default_description = default_description
        self.max_session_duration = max_session_duration
        self.instance_profile = instance_profile
        self.replace_trust_policy = replace_trust_policy

    def validate(self):
        super().validate()
        checks.validate_description(self.description)
        checks.validate_description(self.default_description)
        checks.validate_max_session_duration(self.max_session_duration)
        if self.instance_profile:
            checks.validate_name("instance profile", self.instance_profile, option="instance profile name")


class UserSpec(PrincipalSpec):
    kind = "user"


# --- one planner for roles and users ----------------------------------------------------------------


def scope_inline_documents(spec, existing, caller):
    """Inline policies given as ``document(partition, account)`` become documents for the account of the
    existing role or user (no call), else for the caller's (read when a write is due anyway)."""
    policies = spec.inline_policies or {}
    if not any(callable(document) for document in policies.values()):
        return
    if existing:
        arn = parse_aws_arn(existing["Arn"])
        partition, account = arn["partition"], arn["account_id"]
    else:
        partition, account = caller.partition, caller.account_id
    spec.inline_policies = {name: d(partition, account) if callable(d) else d for name, d in policies.items()}


def read_inline(client, kind, name, policy_names):
    """The documents of the inline policies ``policy_names`` that exist (one GetRolePolicy/GetUserPolicy each)."""
    current = {}
    for policy_name in policy_names:
        document = iam_api.get_inline_policy(client, kind, name, policy_name)
        if document is not None:
            current[policy_name] = document
    return current


def plan_tags(plan, view, current_tags, tags, purge, tag_call, untag_call, what):
    """Reconcile tags (``tags=None``: not managed). Returns whether a change was planned."""
    if tags is None:
        return False
    to_set, to_unset = compare_aws_tags(current_tags, tags, purge_tags=purge)
    changed = False
    if to_set:
        changed |= plan.add(f"tag {what}: {', '.join(sorted(to_set))}", functools.partial(tag_call, to_set))
    if to_unset:
        changed |= plan.add(f"untag {what}: {', '.join(sorted(to_unset))}", functools.partial(untag_call, to_unset))
    if changed:
        new_tags = {k: v for k, v in current_tags.items() if k not in to_unset}
        new_tags.update({k: to_text(v) for k, v in to_set.items()})
        view["tags"] = new_tags
    return changed


def _plan_policy_writes(plan, client, kind, name, arns, inline_policies, write):
    """Attach (``write``) or detach ``arns``, then put or delete the inline policies."""
    for arn in arns:
        if write:
            plan.add(f"attach {arn} to {kind} {name}", functools.partial(iam_api.attach_policy, client, kind, name, arn))
        else:
            plan.add(f"detach {arn} from {kind} {name}", functools.partial(iam_api.detach_policy, client, kind, name, arn))
    for policy_name, document in (inline_policies or {}).items():
        if write:
            summary, call = f"put inline policy {policy_name} on {kind} {name}", iam_api.put_inline_policy
            plan.add(summary, functools.partial(call, client, kind, name, policy_name, document))
        else:
            summary, call = f"delete inline policy {policy_name} of {kind} {name}", iam_api.delete_inline_policy
            plan.add(summary, functools.partial(call, client, kind, name, policy_name))


def plan_remove_principal_policies(plan, client, kind, name, attached, inline_policies):
    """Before a role or user is deleted: detach its managed policies and delete the inline ones it owns,
    and those of admin grants (IAM refuses to delete a principal that still has inline policies)."""
    owned = {
        n: None for n in iam_api.list_inline_policy_names(client, kind, name) if n in GRANT_POLICY_NAMES or n in (inline_policies or {})
    }
    _plan_policy_writes(plan, client, kind, name, attached, owned, write=False)


def plan_new_principal(plan, client, caller, spec, resolver, create_call, extra_view=None):
    """A new role or user: ``create_call(tags=...)`` creates it (with its boundary), then its managed
    policies are attached and its inline ones put. ``extra_view`` holds the role-only fields of the
    predicted view."""
    checks.validate_documents(spec.kind, spec.inline_policies, getattr(spec, "trust_policy", None))
    tags = desired_tags(None, spec.tags, owned=False)
    if spec.permissions_boundary:
        resolver.check_exists(spec.permissions_boundary, "permissions_boundary")
    arns = []
    for reference in spec.policy_references:
        arn = resolver.arn(reference)
        if arn not in arns:
            arns.append(arn)
    plan.add(f"create {spec.kind} {spec.name}", functools.partial(create_call, tags=tags), key=spec.kind)
    _plan_policy_writes(plan, client, spec.kind, spec.name, arns, spec.inline_policies, write=True)
    view = dict(
        name=spec.name,
        path=spec.path or "/",
        arn=caller.arn(spec.kind, spec.path, spec.name),
        create_date=None,
        permissions_boundary=spec.permissions_boundary or None,
        attached_policies=sorted(arns),
        tags=tags,
        **{f"{spec.kind}_id": None},
        **(extra_view or {}),
    )
    inline = dict(spec.inline_policies) if spec.inline_policies is not None else None
    plan.after[spec.kind] = ordered_view(spec.kind, view, inline)
    if spec.report_foreign:
        plan.before["foreign_policies"] = plan.after["foreign_policies"] = no_foreign_policies()


def apply_plan(plan, caller, check_mode, kind=None):
    """When the plan holds a change: the root guard (also in check mode), then, unless in check mode,
    the steps. A ``kind`` (role, user) created by the plan gets its ARN, id and date in the view.
    Returns the results of the keyed steps, or ``None`` when nothing was applied."""
    results = None
    if plan.changed:
        caller.guard()
        if not check_mode:
            results = plan.apply()
            created = results.get(kind)
            if created:
                key = kind.capitalize()
                plan.after[kind].update(arn=created["Arn"], **{f"{kind}_id": created[f"{key}Id"]}, create_date=date_text(created["CreateDate"]))
    return results


def plan_principal_update(plan, client, spec, state, resolver, extra=None):
    """An existing role or user brought to ``spec``: ``extra(plan, view)`` plans the kind's own
    attributes, then the permissions boundary, managed and inline policies and tags follow."""
    checks.validate_documents(spec.kind, spec.inline_policies, getattr(spec, "trust_policy", None))
    view = plan.after[spec.kind]
    current_tags = view["tags"]
    owned = is_owned(current_tags)
    check_adoption(spec.kind, spec.name, owned, spec.adopt, plan.warnings)
    if extra is not None:
        extra(plan, view)
    _plan_permissions_boundary(plan, view, client, spec, view["permissions_boundary"], resolver)
    _plan_attached_policies(plan, view, client, spec, state["attached"], resolver)
    _plan_inline_policies(plan, view, client, spec, state["inline"])
    if spec.report_foreign:
        plan_foreign_policies(plan, client, spec, state)
    plan_tags(
        plan,
        view,
        current_tags,
        desired_tags(current_tags, spec.tags, owned),
        spec.purge_tags,
        functools.partial(iam_api.tag_principal, client, spec.kind, spec.name),
        functools.partial(iam_api.untag_principal, client, spec.kind, spec.name),
        f"{spec.kind} {spec.name}",
    )


def _plan_attached_policies(plan, view, client, spec, current_arns, resolver):
    """Attach what ``spec`` names and is missing; detach the rest when ``purge_policies``."""
    to_attach, to_detach = diff_attached_policies(current_arns, spec.policy_references, spec.purge_policies)
    arns = []
    for reference in to_attach:
        arn = resolver.arn(reference)
        if arn not in arns and arn not in current_arns:
            arns.append(arn)
    _plan_policy_writes(plan, client, spec.kind, spec.name, arns, None, write=True)
    _plan_policy_writes(plan, client, spec.kind, spec.name, to_detach, None, write=False)
    if arns or to_detach:
        view["attached_policies"] = sorted(set(current_arns) - set(to_detach) | set(arns))


def _plan_inline_policies(plan, view, client, spec, current):
    """Put the inline policies that differ; delete the retired ones that exist."""
    retired = [policy_name for policy_name in spec.retired_inline_policies if policy_name in current]
    _plan_policy_writes(plan, client, spec.kind, spec.name, (), dict.fromkeys(retired), write=False)
    for policy_name, document in (spec.inline_policies or {}).items():
        existing = current.get(policy_name)
        if existing is None or compare_policies(existing, document):
            _plan_policy_writes(plan, client, spec.kind, spec.name, (), {policy_name: document}, write=True)
            view.setdefault("inline_policies", {})[policy_name] = document


def _plan_permissions_boundary(plan, view, client, spec, current_arn, resolver):
    desired = spec.permissions_boundary
    if desired is None or (desired or None) == current_arn:
        return
    if desired:
        resolver.check_exists(desired, "permissions_boundary")
        call = functools.partial(iam_api.put_permissions_boundary, client, spec.kind, spec.name, desired)
        summary = f"set permissions boundary of {spec.kind} {spec.name} to {desired}"
    else:
        call = functools.partial(iam_api.delete_permissions_boundary, client, spec.kind, spec.name)
        summary = f"remove permissions boundary of {spec.kind} {spec.name}"
    view["permissions_boundary"] = desired or None
    plan.add(summary, call)
