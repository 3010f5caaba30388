# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM calls amazon.aws's ``module_utils.iam`` lacks, for roles and users alike.

Each helper takes a client wrapped with ``retries.jittered_backoff()`` and plain values, passes
``aws_retry=True`` (all but ``create_access_key``: see there), and raises ``AnsibleIAMError``
(readers return ``None`` or ``[]`` for what does not exist; deleters return ``False`` when it was
already gone). The calls amazon.aws has with the
same request and error message (``get_iam_role``, ``get_iam_user``, the instance profile writes) are
used from there. Some look alike but are kept here: amazon.aws's would change the error message a
user reads when the call fails (its descriptions differ), or skip pagination.
"""

import json
from urllib.parse import unquote

try:
    import botocore.exceptions
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_user
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

# The API names of the calls that differ between roles and users.
_PRINCIPALS = {
    "role": {
        "key": "RoleName",
        "list_attached": "list_attached_role_policies",
        "attach": "attach_role_policy",
        "detach": "detach_role_policy",
        "tag": "tag_role",
        "untag": "untag_role",
        "list_inline": "list_role_policies",
        "get_inline": "get_role_policy",
        "put_inline": "put_role_policy",
        "delete_inline": "delete_role_policy",
        "put_boundary": "put_role_permissions_boundary",
        "delete_boundary": "delete_role_permissions_boundary",
    },
    "user": {
        "key": "UserName",
        "list_attached": "list_attached_user_policies",
        "attach": "attach_user_policy",
        "detach": "detach_user_policy",
        "tag": "tag_user",
        "untag": "untag_user",
        "list_inline": "list_user_policies",
        "get_inline": "get_user_policy",
        "put_inline": "put_user_policy",
        "delete_inline": "delete_user_policy",
        "put_boundary": "put_user_permissions_boundary",
        "delete_boundary": "delete_user_permissions_boundary",
    },
}


def policy_document(document):
    """A policy document as IAM returns it (URL-encoded JSON, or already parsed) as a dict."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return document


def _paginate(method, result_key, **kwargs):
    items = []
    while True:
        page = method(aws_retry=True, **kwargs)
        items.extend(page.get(result_key, []))
        if not page.get("IsTruncated"):
            return items
        kwargs["Marker"] = page["Marker"]


def _principal_call(client, kind, call, name, **kwargs):
    api = _PRINCIPALS[kind]
    return getattr(client, api[call])(aws_retry=True, **{api["key"]: name}, **kwargs)


# --- reads ------------------------------------------------------------------------------------------


def get_user(client, name):
    """The user (with its tags and permissions boundary) as IAM returns it, or ``None``."""
    return get_iam_user(client, name, normalize=False)


# amazon.aws's list_iam_instance_profiles(name=...) fails with "list instance profiles".
@IAMErrorHandler.list_error_handler("get instance profile")
def get_instance_profile(client, name):
    """The instance profile (with its roles and tags), or ``None``."""
    return client.get_instance_profile(InstanceProfileName=name, aws_retry=True)["InstanceProfile"]


# amazon.aws's list_iam_instance_profiles(role=...) fails with "list instance profiles".
@IAMErrorHandler.list_error_handler("list instance profiles for role", [])
def list_instance_profiles_for_role(client, role_name):
    return _paginate(client.list_instance_profiles_for_role, "InstanceProfiles", RoleName=role_name)


# amazon.aws's list_iam_role_attached_policies fails with "list policies attached to role" and has
# no user counterpart.
@IAMErrorHandler.list_error_handler("list attached policies", [])
def list_attached_policy_arns(client, kind, name):
    api = _PRINCIPALS[kind]
    attached = _paginate(getattr(client, api["list_attached"]), "AttachedPolicies", **{api["key"]: name})
    return sorted(p["PolicyArn"] for p in attached)


@IAMErrorHandler.list_error_handler("list inline policies", [])
def list_inline_policy_names(client, kind, name):
    api = _PRINCIPALS[kind]
    return _paginate(getattr(client, api["list_inline"]), "PolicyNames", **{api["key"]: name})


@IAMErrorHandler.list_error_handler("get inline policy")
def get_inline_policy(client, kind, name, policy_name):
    api = _PRINCIPALS[kind]
    document = getattr(client, api["get_inline"])(aws_retry=True, PolicyName=policy_name, **{api["key"]: name})
    return policy_document(document["PolicyDocument"])


# amazon.aws's get_iam_access_keys fails with "get access keys for user" and returns snake_case keys.
@IAMErrorHandler.list_error_handler("list access keys", [])
def list_access_keys(client, user_name):
    """The user's access keys (``AccessKeyId``, ``Status``, ``CreateDate``), oldest first."""
    keys = _paginate(client.list_access_keys, "AccessKeyMetadata", UserName=user_name)
    return sorted(keys, key=lambda k: k["CreateDate"])


@IAMErrorHandler.list_error_handler("get managed policy")
def get_policy(client, arn):
    return client.get_policy(PolicyArn=arn, aws_retry=True)["Policy"]


# --- writes on a role or a user ---------------------------------------------------------------------


@IAMErrorHandler.common_error_handler("attach managed policy")
def attach_policy(client, kind, name, arn):
    _principal_call(client, kind, "attach", name, PolicyArn=arn)
    return True


# amazon.aws's detach_iam_role_policy fails with "detach role policy".
@IAMErrorHandler.deletion_error_handler("detach managed policy")
def detach_policy(client, kind, name, arn):
    _principal_call(client, kind, "detach", name, PolicyArn=arn)
    return True


@IAMErrorHandler.common_error_handler("tag resource")
def tag_principal(client, kind, name, tags):
    _principal_call(client, kind, "tag", name, Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@IAMErrorHandler.common_error_handler("untag resource")
def untag_principal(client, kind, name, keys):
    _principal_call(client, kind, "untag", name, TagKeys=keys)
    return True


@IAMErrorHandler.common_error_handler("put inline policy")
def put_inline_policy(client, kind, name, policy_name, document):
    _principal_call(client, kind, "put_inline", name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return True


@IAMErrorHandler.deletion_error_handler("delete inline policy")
def delete_inline_policy(client, kind, name, policy_name):
    _principal_call(client, kind, "delete_inline", name, PolicyName=policy_name)
    return True


@IAMErrorHandler.common_error_handler("put permissions boundary")
def put_permissions_boundary(client, kind, name, arn):
    _principal_call(client, kind, "put_boundary", name, PermissionsBoundary=arn)
    return True


@IAMErrorHandler.deletion_error_handler("delete permissions boundary")
def delete_permissions_boundary(client, kind, name):
    _principal_call(client, kind, "delete_boundary", name)
    return True


# --- roles ------------------------------------------------------------------------------------------


@IAMErrorHandler.common_error_handler("create role")
def create_role(client, name, path, trust_policy, description, max_session_duration, permissions_boundary, tags):
    params = dict(
        RoleName=name,
        Path=path or "/",
        AssumeRolePolicyDocument=json.dumps(trust_policy),
        Tags=ansible_dict_to_boto3_tag_list(tags),
    )
    if description:
        params["Description"] = description
    if max_session_duration:
        params["MaxSessionDuration"] = max_session_duration
    if permissions_boundary:
        params["PermissionsBoundary"] = permissions_boundary
    return client.create_role(aws_retry=True, **params)["Role"]


@IAMErrorHandler.common_error_handler("update role")
def update_role(client, name, **params):
    client.update_role(RoleName=name, aws_retry=True, **params)
    return True


@IAMErrorHandler.common_error_handler("update trust policy")
def update_trust_policy(client, name, document):
    client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document), aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("delete role")
def delete_role(client, name):
    client.delete_role(RoleName=name, aws_retry=True)
    return True


# --- users and their access keys --------------------------------------------------------------------


@IAMErrorHandler.common_error_handler("create user")
def create_user(client, name, path, permissions_boundary, tags):
    params = dict(UserName=name, Path=path or "/", Tags=ansible_dict_to_boto3_tag_list(tags))
    if permissions_boundary:
        params["PermissionsBoundary"] = permissions_boundary
    return client.create_user(aws_retry=True, **params)["User"]


@IAMErrorHandler.common_error_handler("update user")
def update_user_path(client, name, path):
    client.update_user(UserName=name, NewPath=path, aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("delete user")
def delete_user(client, name):
    client.delete_user(UserName=name, aws_retry=True)
    return True


def _no_resend_after_unknown_outcome(caught_exception=None, response=None, **kwargs):
    """botocore's ``needs-retry`` hook for CreateAccessKey, called before its own retry handler: after a
    dropped connection, a timeout or a server error AWS may have made the key, and a resent request would
    make a second one, so the error is raised at once. A throttled request was not carried out: botocore
    may resend it."""
    if caught_exception is not None:
        raise caught_exception
    if response is not None and response[0].status_code >= 500:
        raise botocore.exceptions.ClientError(response[1], "CreateAccessKey")
    return None


@IAMErrorHandler.common_error_handler("create access key")
def create_access_key(client, user_name):
    """The new key, with its secret: the only time IAM returns it. CreateAccessKey is not idempotent:
    no ``aws_retry``, and botocore never resends it after an answer that may hide a made key (see
    ``access_key_create`` for what follows such an answer)."""
    client.meta.events.register_first(
        "needs-retry.iam.CreateAccessKey", _no_resend_after_unknown_outcome, unique_id="observability.cloudwatch:create-access-key-once"
    )
    return client.create_access_key(UserName=user_name)["AccessKey"]


@IAMErrorHandler.common_error_handler("get access key last used")
def get_access_key_last_used(client, key_id):
    """``(LastUsedDate, ServiceName)`` of the key's last use; the date is ``None`` when never (AWS updates it with a delay)."""
    used = client.get_access_key_last_used(AccessKeyId=key_id, aws_retry=True)["AccessKeyLastUsed"]
    return used.get("LastUsedDate"), used.get("ServiceName")


@IAMErrorHandler.common_error_handler("deactivate access key")
def deactivate_access_key(client, user_name, key_id):
    client.update_access_key(UserName=user_name, AccessKeyId=key_id, Status="Inactive", aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("delete access key")
def delete_access_key(client, user_name, key_id):
    client.delete_access_key(UserName=user_name, AccessKeyId=key_id, aws_retry=True)
    return True
