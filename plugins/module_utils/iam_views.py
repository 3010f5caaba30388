# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The snake_case dicts the IAM modules return for roles, instance profiles, users and access keys.

``None`` stands for a resource that does not exist. A key view never holds a secret.
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import policy_document

# The fields of a role and a user view, in the order the modules return them.
VIEW_FIELDS = {
    "role": (
        "name",
        "path",
        "arn",
        "role_id",
        "create_date",
        "description",
        "max_session_duration",
        "permissions_boundary",
        "assume_role_policy_document",
        "attached_policies",
        "tags",
    ),
    "user": ("name", "path", "arn", "user_id", "create_date", "permissions_boundary", "attached_policies", "tags"),
}


def date_text(value):
    """A date as ISO 8601 text (other values as they are)."""
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


def _tags(resource):
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


def ordered_view(kind, view, inline_policies=None):
    """``view`` with the fields of a ``kind`` view in their order, then ``inline_policies`` when managed."""
    ordered = {field: view[field] for field in VIEW_FIELDS[kind]}
    if inline_policies is not None:
        ordered["inline_policies"] = inline_policies
    return ordered


def _principal_view(kind, resource, attached_arns, inline_policies, **extra):
    """The view of a role or user (``extra``: the role-only fields)."""
    key = kind.capitalize()
    view = dict(
        name=resource[f"{key}Name"],
        path=resource.get("Path", "/"),
        arn=resource.get("Arn"),
        create_date=date_text(resource.get("CreateDate")),
        permissions_boundary=(resource.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        attached_policies=sorted(attached_arns),
        tags=_tags(resource),
        **{f"{kind}_id": resource.get(f"{key}Id")},
        **extra,
    )
    return ordered_view(kind, view, inline_policies)


def role_view(role, attached_arns, inline_policies=None):
    if role is None:
        return None
    return _principal_view(
        "role",
        role,
        attached_arns,
        inline_policies,
        description=role.get("Description", ""),
        max_session_duration=role.get("MaxSessionDuration", 3600),
        assume_role_policy_document=policy_document(role.get("AssumeRolePolicyDocument")),
    )


def profile_view(profile):
    if profile is None:
        return None
    return dict(
        name=profile["InstanceProfileName"],
        path=profile.get("Path", "/"),
        arn=profile.get("Arn"),
        instance_profile_id=profile.get("InstanceProfileId"),
        create_date=date_text(profile.get("CreateDate")),
        roles=[r["RoleName"] for r in profile.get("Roles", [])],
        tags=_tags(profile),
    )


def user_view(user, attached_arns, inline_policies=None):
    if user is None:
        return None
    return _principal_view("user", user, attached_arns, inline_policies)


def key_view(key):
    """An access key without its secret."""
    return dict(access_key_id=key["AccessKeyId"], status=key["Status"], create_date=date_text(key.get("CreateDate")))
