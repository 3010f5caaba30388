# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Roles, users and instance profiles that exist without the collection's owner tag.

Such a resource is refused, before any write and in check mode too, unless the task says ``adopt=true``.
An adopted one is managed like one the collection created, except that its trust policy is kept unless
``replace_trust_policy=true``, and that the owner tag is added only when ``tags`` names it (so
``state=absent`` still refuses to delete it).

An exporter's identity must hold nothing but the collection's policy: the attached managed policies and the
inline policies that are not the collection's are its "foreign" policies, reported, and removed on request.
"""

import functools

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import GRANT_POLICY_NAMES
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import policy_matches
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error

OWNER_TAG = "managed-by=observability.cloudwatch"
ROLE_VARIABLE = "cloudwatch_iam_adopt: true, or adopt: true on its entry"
TRUST_VARIABLE = "cloudwatch_iam_replace_trust_policy: true, or replace_trust_policy: true on its entry"


def _what_adopt_does(resource_type):
    if resource_type == "instance profile":
        return "the role is then added to it and its tags are brought to the task's tags"
    words = (
        f"its managed policies, the inline policies the module manages and its tags are then brought to what the task "
        f"says, as for a {resource_type} the collection created (purge_policies applies)"
    )
    if resource_type == "role":
        words += (
            f"; its trust policy is kept unless you also set replace_trust_policy=true (in the role "
            f"observability.cloudwatch.iam: {TRUST_VARIABLE})"
        )
    return words


def refuse_unowned(resource_type, name):
    """The error for an existing resource without the owner tag, when ``adopt`` is not set."""
    return iam_error(
        f"{resource_type.capitalize()} {name} already exists and was not created by this collection: it lacks the tag "
        f"{OWNER_TAG}. Nothing was changed. If it is the one to use (for example a {resource_type} created by hand "
        f"from AWS's documentation), set adopt=true (in the role observability.cloudwatch.iam: {ROLE_VARIABLE}): "
        f"{_what_adopt_does(resource_type)}. The tag is not added unless you put it in tags, so state=absent still "
        f"refuses to delete it. Otherwise give the module another name."
    )


def adoption_warning(resource_type, name):
    return (
        f"{resource_type.capitalize()} {name} exists without the tag {OWNER_TAG} and is managed because adopt=true; "
        f"state=absent will not delete it. Add that tag to its tags to let the collection own it fully."
    )


def refuse_unless_adopted(resource_type, name, owned, adopt):
    if not owned and not adopt:
        raise refuse_unowned(resource_type, name)


def check_adoption(resource_type, name, owned, adopt, warnings):
    """Refuse an unowned resource unless ``adopt``; an adopted one gets a warning."""
    refuse_unless_adopted(resource_type, name, owned, adopt)
    if not owned:
        warnings.append(adoption_warning(resource_type, name))


def trust_principals(document):
    """A short account of who a trust policy lets in: ``Service ec2.amazonaws.com``, ``AWS ARN`` ..."""
    principals = []
    statements = (document or {}).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        for principal_type, values in sorted((statement.get("Principal") or {}).items()):
            for value in values if isinstance(values, list) else [values]:
                principals.append(f"{principal_type} {value}")
    return ", ".join(principals) or "nobody"


def kept_trust_warning(name, current, desired):
    return (
        f"Role {name} was adopted (adopt=true) and its trust policy is kept: it trusts {trust_principals(current)}, "
        f"where the module would trust {trust_principals(desired)}. Set replace_trust_policy=true to replace it."
    )


def find_foreign_policies(attached, is_named, inline_names, own_inline):
    """The policies of an identity that the collection did not put there: the attached ARNs ``is_named(arn)``
    rejects, and the inline policy names neither in ``own_inline`` nor an admin grant's."""
    return dict(
        attached=sorted(arn for arn in attached if not is_named(arn)),
        inline=sorted(n for n in inline_names if n not in (own_inline or {}) and n not in GRANT_POLICY_NAMES),
    )


def foreign_warning(kind, name, foreign):
    held = [f"attached {arn}" for arn in foreign["attached"]] + [f"inline {n}" for n in foreign["inline"]]
    return (
        f"The {kind} {name} is not CloudWatch-only: it also holds policies this collection did not put there "
        f"({', '.join(held)}). Set purge_policies=true to remove them."
    )


def no_foreign_policies():
    return dict(attached=[], inline=[])


def plan_foreign_policies(plan, client, spec, state):
    """Report, as ``foreign_policies`` of the views, the policies ``spec`` does not name. With
    ``purge_policies`` the inline ones are deleted here (the attached ones are detached with the other
    managed policies), and none are left."""
    foreign = find_foreign_policies(
        state["attached"],
        lambda arn: any(policy_matches(arn, reference) for reference in spec.policy_references),
        state["inline_names"],
        spec.inline_policies,
    )
    plan.before["foreign_policies"] = foreign
    if spec.purge_policies:
        for policy_name in foreign["inline"]:
            plan.add(
                f"delete inline policy {policy_name} of {spec.kind} {spec.name}",
                functools.partial(iam_api.delete_inline_policy, client, spec.kind, spec.name, policy_name),
            )
        plan.after["foreign_policies"] = no_foreign_policies()
    else:
        plan.after["foreign_policies"] = foreign
        if foreign["attached"] or foreign["inline"]:
            plan.warnings.append(foreign_warning(spec.kind, spec.name, foreign))
