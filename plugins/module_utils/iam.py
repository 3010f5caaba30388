# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's one place for IAM reconcile logic.

Every IAM module of the collection follows the same steps:

1. validate its input (``validate_*``), raising :class:`AnsibleIAMError` before any call;
2. read the current state once (``read_role_state``, ``read_user_state``);
3. compute the difference into a :class:`Plan` (``plan_*``), whose ``before``/``after`` views are
   the ``--diff`` and the check-mode prediction;
4. when the plan holds a change, run the pre-write checks: the root guard (one
   ``sts:GetCallerIdentity``), the existence of the managed policies it will attach, the key store;
5. apply the plan (unless in check mode), wait until IAM can read back what was created, and report.

Helpers take a boto3 client wrapped with ``retries.jittered_backoff()`` and plain values, never
the module; every AWS call passes ``aws_retry=True``.

Ownership: every resource the collection creates carries the tag ``OWNER_TAG_KEY: OWNER_TAG_VALUE``.
A role, user or instance profile that exists without it is not adopted silently: the modules may
update it (a warning says so, and the tag is not added unless the user puts it in ``tags``), but
``state=absent`` refuses to delete it.
"""

import copy
import datetime
import functools
import json
import re
import time
from urllib.parse import unquote

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import validate_iam_identifiers
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.observability.cloudwatch.plugins.module_utils.keys import make_record

# --- constants ------------------------------------------------------------------------------------

OWNER_TAG_KEY = "managed-by"
OWNER_TAG_VALUE = "observability.cloudwatch"

EC2_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

AWS_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/"
AGENT_POLICIES = {
    "server": AWS_MANAGED_POLICY_ARN + "CloudWatchAgentServerPolicy",
    "admin": AWS_MANAGED_POLICY_ARN + "CloudWatchAgentAdminPolicy",
}
SSM_CORE_POLICY = AWS_MANAGED_POLICY_ARN + "AmazonSSMManagedInstanceCore"
LEGACY_SSM_POLICY = AWS_MANAGED_POLICY_ARN + "service-role/AmazonEC2RoleforSSM"
# AWS managed policies whose existence is not checked before they are attached.
KNOWN_AWS_POLICIES = frozenset(list(AGENT_POLICIES.values()) + [SSM_CORE_POLICY])

MAX_SESSION_DURATION = (3600, 43200)
MAX_DESCRIPTION = 1000

_NAME_RE = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_POLICY_ARN_RE = re.compile(r"arn:(aws[a-z-]*):iam::(aws|\d{12}):policy/(?:[\x21-\x7e]+/)?[\w+=,.@-]{1,128}", re.ASCII)
_POLICY_PATH_NAME_RE = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}", re.ASCII)
_ROOT_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:root")
_DESCRIPTION_RE = re.compile("[\t\n\r\x20-\x7e\xa1-\xff]*")
_NAME_LENGTHS = {"role": 64, "user": 64, "instance profile": 128}

# The API names of the calls that differ between roles and users.
_PRINCIPALS = {
    "role": {
        "key": "RoleName",
        "list_attached": "list_attached_role_policies",
        "attach": "attach_role_policy",
        "detach": "detach_role_policy",
        "tag": "tag_role",
        "untag": "untag_role",
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
        "get_inline": "get_user_policy",
        "put_inline": "put_user_policy",
        "delete_inline": "delete_user_policy",
        "put_boundary": "put_user_permissions_boundary",
        "delete_boundary": "delete_user_permissions_boundary",
    },
}


# --- validation (no AWS calls; raise before anything is written) ---------------------------------


def _invalid(message):
    return AnsibleIAMError(message=message)


def validate_name(resource_type, name, option="name"):
    """IAM's name rule: ``[\\w+=,.@-]`` (ASCII), 64 characters for roles and users, 128 for profiles."""
    if not name:
        raise _invalid(f"{option} must not be empty")
    problem = validate_iam_identifiers(resource_type, name=name)
    limit = _NAME_LENGTHS.get(resource_type, 128)
    if problem or len(name) > limit or not _NAME_RE.fullmatch(name):
        raise _invalid(
            f"{option} {name!r} is not a valid IAM {resource_type} name: use 1 to {limit} characters "
            "from letters, digits and +=,.@_-"
        )


def validate_path(resource_type, path, option="path"):
    """An IAM path: ``/`` or ``/segment/.../``, at most 512 characters."""
    if path is None:
        return
    problem = validate_iam_identifiers(resource_type, path=path)
    if problem:
        raise _invalid(f"{option} {path!r} is not a valid IAM path: {problem}")


def validate_description(description, option="description"):
    if description is None:
        return
    if len(description) > MAX_DESCRIPTION or not _DESCRIPTION_RE.fullmatch(description):
        raise _invalid(
            f"{option} must be at most {MAX_DESCRIPTION} characters of printable Latin-1 text, "
            f"got {len(description)} characters"
        )


def validate_max_session_duration(seconds, option="max_session_duration"):
    if seconds is None:
        return
    low, high = MAX_SESSION_DURATION
    if not low <= seconds <= high:
        raise _invalid(f"{option} must be between {low} and {high} seconds, got {seconds}")


def validate_policy_arn(arn, option):
    if not _POLICY_ARN_RE.fullmatch(arn or ""):
        raise _invalid(
            f"{option} {arn!r} is not a managed policy ARN (arn:aws:iam::aws:policy/NAME or "
            "arn:aws:iam::ACCOUNT_ID:policy/PATH/NAME)"
        )


def validate_permissions_boundary(arn, option="permissions_boundary"):
    """``None`` leaves the boundary alone, ``""`` removes it, anything else must be a policy ARN."""
    if arn:
        validate_policy_arn(arn, option)


def validate_policy_reference(reference, option="managed_policies"):
    """A managed policy is named by its ARN, or by ``NAME`` or ``PATH/NAME`` (see :func:`resolve_policy_arn`)."""
    if reference.startswith("arn:"):
        validate_policy_arn(reference, option)
    elif not _POLICY_PATH_NAME_RE.fullmatch(reference.strip("/")):
        raise _invalid(f"{option}: {reference!r} is neither a managed policy ARN nor a policy name")


def validate_tags(tags, option="tags"):
    if not tags:
        return
    if len(tags) > 50:
        raise _invalid(f"{option}: IAM allows at most 50 tags per resource, got {len(tags)}")
    for key, value in tags.items():
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            raise _invalid(f"{option}: tag key {key!r} must be 1 to 128 characters and must not start with aws:")
        if len(to_text(value)) > 256:
            raise _invalid(f"{option}: the value of tag {key!r} is longer than 256 characters")


# --- ownership and the root guard ------------------------------------------------------------------


def owner_tags():
    return {OWNER_TAG_KEY: OWNER_TAG_VALUE}


def is_owned(tags):
    """Whether a resource's tags (a dict) mark it as created by this collection."""
    return (tags or {}).get(OWNER_TAG_KEY) == OWNER_TAG_VALUE


def desired_tags(current_tags, tags, owned):
    """The tags to reconcile towards; ``None`` means "leave the tags alone".

    On creation (``current_tags is None``) the owner tag is added to ``tags``. A resource that carries
    the owner tag keeps it whatever ``tags`` and ``purge_tags`` say. An existing resource without it
    is not adopted: its tags become exactly ``tags`` (which may name the owner tag explicitly).
    """
    if current_tags is None:
        return dict(tags or {}, **owner_tags())
    if tags is None:
        return None
    if owned:
        return dict(tags, **owner_tags())
    return dict(tags)


def check_root_guard(caller_arn, allow_root):
    """Fail on the account root user's credentials unless ``allow_root``."""
    if _ROOT_ARN_RE.fullmatch(caller_arn or "") and not allow_root:
        raise _invalid(
            f"Refusing to change IAM with the AWS account root user's credentials ({caller_arn}). "
            "Create an administrator (an IAM user or role with the permissions this task needs, or an "
            "IAM Identity Center user) and run the task with its credentials, or set allow_root=true "
            "to accept the risk."
        )


@IAMErrorHandler.common_error_handler("read the caller identity (sts:GetCallerIdentity)")
def get_caller_identity(sts_client):
    return sts_client.get_caller_identity(aws_retry=True)


class Caller:
    """The caller identity, read at most once (``sts:GetCallerIdentity``) and only when needed.

    It is needed when a write is due: for the root guard, and for the account id and partition of
    the ARNs a plan predicts and the customer managed policies it resolves.
    """

    def __init__(self, sts_client, allow_root=False):
        self._client = sts_client
        self.allow_root = allow_root
        self._identity = None

    @property
    def identity(self):
        if self._identity is None:
            self._identity = get_caller_identity(self._client)
        return self._identity

    @property
    def account_id(self):
        return self.identity["Account"]

    @property
    def partition(self):
        return self.identity["Arn"].split(":")[1]

    def arn(self, resource_type, path, name):
        return f"arn:{self.partition}:iam::{self.account_id}:{resource_type}{path or '/'}{name}"

    def guard(self):
        check_root_guard(self.identity["Arn"], self.allow_root)


# --- managed policy references ---------------------------------------------------------------------


def _policy_resource(arn):
    """``policy/PATH/NAME`` and the account field of a policy ARN."""
    parts = arn.split(":", 5)
    return parts[4], parts[5]


def policy_matches(arn, reference):
    """Whether the attached policy ``arn`` is the one ``reference`` names.

    An ARN reference matches the same ARN in any partition; ``PATH/NAME`` matches that path and
    name; a bare ``NAME`` matches a policy of that name on any path.
    """
    account, resource = _policy_resource(arn)
    if reference.startswith("arn:"):
        return (account, resource) == _policy_resource(reference)
    reference = reference.strip("/")
    if "/" in reference:
        return resource == "policy/" + reference
    return resource.rsplit("/", 1)[-1] == reference


def diff_attached_policies(current_arns, references, purge):
    """Return ``(to_attach, to_detach)``: references matching no attached policy, and attached ARNs
    no reference names (only when ``purge``). ``references`` always includes the required ones, so a
    purge never detaches them."""
    to_attach = []
    for reference in references:
        if not any(policy_matches(arn, reference) for arn in current_arns) and reference not in to_attach:
            to_attach.append(reference)
    to_detach = []
    if purge:
        to_detach = [arn for arn in current_arns if not any(policy_matches(arn, r) for r in references)]
    return to_attach, to_detach


@IAMErrorHandler.list_error_handler("get managed policy")
def get_policy(client, arn):
    return client.get_policy(PolicyArn=arn, aws_retry=True)["Policy"]


def resolve_policy_arn(client, reference, account_id, partition, known=KNOWN_AWS_POLICIES):
    """The ARN of the managed policy ``reference`` names, checked to exist.

    An ARN is checked as it is. A name (``NAME`` or ``PATH/NAME``, e.g. ``service-role/X``) is looked up
    first as an AWS managed policy (``arn:PARTITION:iam::aws:policy/...``), then as a customer managed
    policy of the caller's account (``arn:PARTITION:iam::ACCOUNT:policy/...``). ``known`` AWS managed
    ARNs are trusted without a call. Raises :class:`AnsibleIAMError` when no candidate exists.
    """
    if reference.startswith("arn:"):
        candidates = [reference]
    else:
        reference = reference.strip("/")
        candidates = [
            f"arn:{partition}:iam::aws:policy/{reference}",
            f"arn:{partition}:iam::{account_id}:policy/{reference}",
        ]
    for candidate in candidates:
        if "arn:aws:" + candidate.split(":", 2)[2] in known:
            return candidate
        if get_policy(client, candidate) is not None:
            return candidate
    raise _invalid(f"managed policy {reference!r} does not exist (looked for {', '.join(candidates)})")


def is_legacy_ssm_policy(reference):
    return policy_matches(LEGACY_SSM_POLICY, reference)


# --- reads ------------------------------------------------------------------------------------------


def _paginate(method, result_key, **kwargs):
    items = []
    while True:
        page = method(aws_retry=True, **kwargs)
        items.extend(page.get(result_key, []))
        if not page.get("IsTruncated"):
            return items
        kwargs["Marker"] = page["Marker"]


@IAMErrorHandler.list_error_handler("get role")
def get_role(client, name):
    """The role (with its tags and permissions boundary), or ``None``."""
    return client.get_role(RoleName=name, aws_retry=True)["Role"]


@IAMErrorHandler.list_error_handler("get user")
def get_user(client, name):
    """The user (with its tags and permissions boundary), or ``None``."""
    return client.get_user(UserName=name, aws_retry=True)["User"]


@IAMErrorHandler.list_error_handler("get instance profile")
def get_instance_profile(client, name):
    """The instance profile (with its roles and tags), or ``None``."""
    return client.get_instance_profile(InstanceProfileName=name, aws_retry=True)["InstanceProfile"]


@IAMErrorHandler.list_error_handler("list instance profiles for role", [])
def list_instance_profiles_for_role(client, role_name):
    return _paginate(client.list_instance_profiles_for_role, "InstanceProfiles", RoleName=role_name)


@IAMErrorHandler.list_error_handler("list attached policies", [])
def list_attached_policy_arns(client, kind, name):
    api = _PRINCIPALS[kind]
    attached = _paginate(getattr(client, api["list_attached"]), "AttachedPolicies", **{api["key"]: name})
    return sorted(p["PolicyArn"] for p in attached)


@IAMErrorHandler.list_error_handler("get inline policy")
def get_inline_policy(client, kind, name, policy_name):
    api = _PRINCIPALS[kind]
    document = getattr(client, api["get_inline"])(aws_retry=True, PolicyName=policy_name, **{api["key"]: name})
    return _policy_document(document["PolicyDocument"])


@IAMErrorHandler.list_error_handler("list access keys", [])
def list_access_keys(client, user_name):
    """The user's access keys (``AccessKeyId``, ``Status``, ``CreateDate``), oldest first."""
    keys = _paginate(client.list_access_keys, "AccessKeyMetadata", UserName=user_name)
    return sorted(keys, key=lambda k: k["CreateDate"])


# --- writes -----------------------------------------------------------------------------------------


def _principal_call(client, kind, call, name, **kwargs):
    api = _PRINCIPALS[kind]
    return getattr(client, api[call])(aws_retry=True, **{api["key"]: name}, **kwargs)


@IAMErrorHandler.common_error_handler("attach managed policy")
def attach_policy(client, kind, name, arn):
    _principal_call(client, kind, "attach", name, PolicyArn=arn)
    return True


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


@IAMErrorHandler.common_error_handler("create instance profile")
def create_instance_profile(client, name, path, tags):
    return client.create_instance_profile(
        InstanceProfileName=name, Path=path or "/", Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True
    )["InstanceProfile"]


@IAMErrorHandler.common_error_handler("add role to instance profile")
def add_role_to_instance_profile(client, profile_name, role_name):
    client.add_role_to_instance_profile(InstanceProfileName=profile_name, RoleName=role_name, aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("remove role from instance profile")
def remove_role_from_instance_profile(client, profile_name, role_name):
    client.remove_role_from_instance_profile(InstanceProfileName=profile_name, RoleName=role_name, aws_retry=True)
    return True


@IAMErrorHandler.common_error_handler("tag instance profile")
def tag_instance_profile(client, name, tags):
    client.tag_instance_profile(InstanceProfileName=name, Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)
    return True


@IAMErrorHandler.common_error_handler("untag instance profile")
def untag_instance_profile(client, name, keys):
    client.untag_instance_profile(InstanceProfileName=name, TagKeys=keys, aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("delete instance profile")
def delete_instance_profile(client, name):
    client.delete_instance_profile(InstanceProfileName=name, aws_retry=True)
    return True


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


@IAMErrorHandler.common_error_handler("create access key")
def create_access_key(client, user_name):
    """The new key, with its secret: the only time IAM returns it."""
    return client.create_access_key(UserName=user_name, aws_retry=True)["AccessKey"]


@IAMErrorHandler.common_error_handler("deactivate access key")
def deactivate_access_key(client, user_name, key_id):
    client.update_access_key(UserName=user_name, AccessKeyId=key_id, Status="Inactive", aws_retry=True)
    return True


@IAMErrorHandler.deletion_error_handler("delete access key")
def delete_access_key(client, user_name, key_id):
    client.delete_access_key(UserName=user_name, AccessKeyId=key_id, aws_retry=True)
    return True


# --- plan -> apply ----------------------------------------------------------------------------------


class Plan:
    """The changes computed from one read of the current state, applied in order.

    ``before`` is the state read, ``after`` the state predicted once the steps have run: together
    they are the ``--diff``, and ``after`` is what check mode returns. ``changes`` lists a one-line
    summary per step (never a secret). ``apply()`` runs the steps and returns the results of those
    added with a ``key``.
    """

    def __init__(self, before):
        self.before = before
        self.after = copy.deepcopy(before)
        self.warnings = []
        self._steps = []

    def add(self, summary, call, key=None):
        self._steps.append((summary, call, key))
        return True

    @property
    def changed(self):
        return bool(self._steps)

    @property
    def changes(self):
        return [summary for summary, _call, _key in self._steps]

    def apply(self):
        results = {}
        for _summary, call, key in self._steps:
            result = call()
            if key:
                results[key] = result
        return results

    def result(self, **extra):
        result = dict(changed=self.changed, changes=self.changes, diff=dict(before=self.before, after=self.after))
        result.update(self.after)
        result.update(extra)
        return result


def wait_until(check, timeout, what, delay=1.0, max_delay=5.0):
    """Call ``check()`` until it returns a true value, at most ``timeout`` seconds (polling backs off
    from ``delay`` to ``max_delay`` seconds); return that value or raise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() + delay > deadline:
            raise _invalid(f"Timed out after {timeout} seconds waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


# --- views (the snake_case dicts the modules return) -----------------------------------------------


def _policy_document(document):
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return document


def _date(value):
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


def _tags(resource):
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


def role_view(role, attached_arns, inline_policies=None):
    if role is None:
        return None
    view = dict(
        name=role["RoleName"],
        path=role.get("Path", "/"),
        arn=role.get("Arn"),
        role_id=role.get("RoleId"),
        create_date=_date(role.get("CreateDate")),
        description=role.get("Description", ""),
        max_session_duration=role.get("MaxSessionDuration", 3600),
        permissions_boundary=(role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        assume_role_policy_document=_policy_document(role.get("AssumeRolePolicyDocument")),
        attached_policies=sorted(attached_arns),
        tags=_tags(role),
    )
    if inline_policies is not None:
        view["inline_policies"] = inline_policies
    return view


def profile_view(profile):
    if profile is None:
        return None
    return dict(
        name=profile["InstanceProfileName"],
        path=profile.get("Path", "/"),
        arn=profile.get("Arn"),
        instance_profile_id=profile.get("InstanceProfileId"),
        create_date=_date(profile.get("CreateDate")),
        roles=[r["RoleName"] for r in profile.get("Roles", [])],
        tags=_tags(profile),
    )


def user_view(user, attached_arns, inline_policies=None):
    if user is None:
        return None
    view = dict(
        name=user["UserName"],
        path=user.get("Path", "/"),
        arn=user.get("Arn"),
        user_id=user.get("UserId"),
        create_date=_date(user.get("CreateDate")),
        permissions_boundary=(user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        attached_policies=sorted(attached_arns),
        tags=_tags(user),
    )
    if inline_policies is not None:
        view["inline_policies"] = inline_policies
    return view


def key_view(key):
    """An access key without its secret."""
    return dict(access_key_id=key["AccessKeyId"], status=key["Status"], create_date=_date(key.get("CreateDate")))


# --- specs ------------------------------------------------------------------------------------------


class PrincipalSpec:
    """What a role or user should look like; ``None`` for an attribute means "not managed".

    ``required_policies`` are attached whatever ``purge_policies`` says (e.g. the agent's purpose
    policy); ``managed_policies`` are the user's extra ARNs or names. ``inline_policies`` maps policy
    names to documents (for exporter_access); names not listed are left alone.
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

    @property
    def policy_references(self):
        return self.required_policies + list(self.managed_policies or [])

    def validate(self):
        validate_name(self.kind, self.name)
        validate_path(self.kind, self.path)
        validate_permissions_boundary(self.permissions_boundary)
        for reference in self.managed_policies or []:
            validate_policy_reference(reference)
        validate_tags(self.tags)
        for policy_name in self.inline_policies or {}:
            validate_name("policy", policy_name, option="inline policy name")


class RoleSpec(PrincipalSpec):
    """A role: ``trust_policy`` (a dict), ``description`` (``default_description`` is used on creation
    when it is ``None``), ``max_session_duration`` and, with ``instance_profile`` set to a name, an
    instance profile of that name holding the role."""

    kind = "role"

    def __init__(
        self,
        name,
        trust_policy,
        description=None,
        max_session_duration=None,
        instance_profile=None,
        default_description=None,
        **kwargs
    ):
        super().__init__(name, **kwargs)
        self.trust_policy = trust_policy
        self.description = description
        self.default_description = default_description
        self.max_session_duration = max_session_duration
        self.instance_profile = instance_profile

    def validate(self):
        super().validate()
        validate_description(self.description)
        validate_description(self.default_description)
        validate_max_session_duration(self.max_session_duration)
        if self.instance_profile:
            validate_name("instance profile", self.instance_profile, option="instance profile name")


class UserSpec(PrincipalSpec):
    kind = "user"


class KeySpec:
    """Access keys of a user: ``state`` is ``none``, ``present`` or ``rotate``; ``retire`` lists key
    ids to deactivate then delete; ``store`` is an opened key store (see keys.py) or ``None``."""

    def __init__(self, state="none", retire=None, store=None):
        self.state = state
        self.retire = list(retire or [])
        self.store = store

    def validate(self):
        if self.state in ("present", "rotate") and self.store is None:
            raise _invalid(f"access_key_store is required with access_key_state={self.state}")
        if self.retire and self.store is None:
            raise _invalid(
                "access_key_store is required with retire_access_keys, so that the key in the store is never retired"
            )


# --- shared principal planning ---------------------------------------------------------------------


class PolicyResolver:
    """Resolves policy references to ARNs when a plan attaches them (so only when a write is due)."""

    def __init__(self, client, caller, known=KNOWN_AWS_POLICIES):
        self.client = client
        self.caller = caller
        self.known = known

    def arn(self, reference):
        return resolve_policy_arn(self.client, reference, self.caller.account_id, self.caller.partition, self.known)

    def check_exists(self, arn, option):
        if "arn:aws:" + arn.split(":", 2)[2] not in self.known and get_policy(self.client, arn) is None:
            raise _invalid(f"{option} {arn!r} does not exist")


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


def plan_attached_policies(plan, view, client, spec, current_arns, resolver):
    """Attach what ``spec`` names and is missing; detach the rest when ``purge_policies``."""
    to_attach, to_detach = diff_attached_policies(current_arns, spec.policy_references, spec.purge_policies)
    arns = []
    for reference in to_attach:
        arn = resolver.arn(reference)
        if arn not in arns and arn not in current_arns:
            arns.append(arn)
    changed = False
    for arn in arns:
        changed |= plan.add(
            f"attach {arn} to {spec.kind} {spec.name}", functools.partial(attach_policy, client, spec.kind, spec.name, arn)
        )
    for arn in to_detach:
        changed |= plan.add(
            f"detach {arn} from {spec.kind} {spec.name}",
            functools.partial(detach_policy, client, spec.kind, spec.name, arn),
        )
    if changed:
        view["attached_policies"] = sorted(set(current_arns) - set(to_detach) | set(arns))
    return changed


def plan_new_principal_policies(plan, client, kind, name, arns, inline_policies):
    """A new role or user: attach its managed policies and put its inline ones."""
    for arn in arns:
        plan.add(f"attach {arn} to {kind} {name}", functools.partial(attach_policy, client, kind, name, arn))
    for policy_name, document in (inline_policies or {}).items():
        plan.add(
            f"put inline policy {policy_name} on {kind} {name}",
            functools.partial(put_inline_policy, client, kind, name, policy_name, document),
        )


def plan_remove_principal_policies(plan, client, kind, name, attached, inline_policies):
    """Before a role or user is deleted: detach its managed policies and delete the inline ones it owns."""
    for arn in attached:
        plan.add(f"detach {arn} from {kind} {name}", functools.partial(detach_policy, client, kind, name, arn))
    for policy_name in inline_policies or {}:
        plan.add(
            f"delete inline policy {policy_name} of {kind} {name}",
            functools.partial(delete_inline_policy, client, kind, name, policy_name),
        )


def plan_inline_policies(plan, view, client, spec, current):
    changed = False
    for policy_name, document in (spec.inline_policies or {}).items():
        existing = current.get(policy_name)
        if existing is None or compare_policies(existing, document):
            changed |= plan.add(
                f"put inline policy {policy_name} on {spec.kind} {spec.name}",
                functools.partial(put_inline_policy, client, spec.kind, spec.name, policy_name, document),
            )
            view.setdefault("inline_policies", {})[policy_name] = document
    return changed


def plan_permissions_boundary(plan, view, client, spec, current_arn, resolver):
    desired = spec.permissions_boundary
    if desired is None or (desired or None) == current_arn:
        return False
    if desired:
        resolver.check_exists(desired, "permissions_boundary")
        call = functools.partial(put_permissions_boundary, client, spec.kind, spec.name, desired)
        summary = f"set permissions boundary of {spec.kind} {spec.name} to {desired}"
    else:
        call = functools.partial(delete_permissions_boundary, client, spec.kind, spec.name)
        summary = f"remove permissions boundary of {spec.kind} {spec.name}"
    view["permissions_boundary"] = desired or None
    return plan.add(summary, call)


def _ownership_warning(resource_type, name):
    return (
        f"{resource_type} {name} exists without the tag {OWNER_TAG_KEY}={OWNER_TAG_VALUE}: it is updated, but "
        f"state=absent will not delete it. Add that tag to its tags to let the collection manage it fully."
    )


def _refuse_delete(resource_type, name):
    return _invalid(
        f"Refusing to delete {resource_type} {name}: it was not created by this collection (it lacks the tag "
        f"{OWNER_TAG_KEY}={OWNER_TAG_VALUE}). Delete it yourself, or add that tag first if the collection "
        "should own it. Nothing was changed."
    )


def _read_inline(client, kind, name, policy_names):
    current = {}
    for policy_name in policy_names:
        document = get_inline_policy(client, kind, name, policy_name)
        if document is not None:
            current[policy_name] = document
    return current


# --- roles (and their instance profile) -------------------------------------------------------------


def read_role_state(client, spec):
    """One read of everything a role spec manages: GetRole (tags and boundary included), then, if the
    role exists, ListAttachedRolePolicies (and GetRolePolicy per managed inline policy), and
    GetInstanceProfile when the spec has an instance profile."""
    role = get_role(client, spec.name)
    attached = list_attached_policy_arns(client, "role", spec.name) if role else []
    inline = _read_inline(client, "role", spec.name, spec.inline_policies or {}) if role else {}
    profile = get_instance_profile(client, spec.instance_profile) if spec.instance_profile else None
    return dict(role=role, attached=attached, inline=inline, profile=profile)


def check_profile_available(profile, role_name):
    """An instance profile holds one role: fail when the profile holds another one."""
    others = [r["RoleName"] for r in (profile or {}).get("Roles", []) if r["RoleName"] != role_name]
    if others:
        raise _invalid(
            f"Instance profile {profile['InstanceProfileName']} already holds role {others[0]}; an instance "
            f"profile holds a single role. Choose another name for role {role_name} (or set instance_profile=false). "
            "Nothing was changed."
        )


def plan_role_present(client, caller, spec, state, resolver=None):
    """Compute the plan that brings the role (and its instance profile) to ``spec``."""
    resolver = resolver or PolicyResolver(client, caller)
    role, profile = state["role"], state["profile"]
    inline_view = dict(state["inline"]) if spec.inline_policies is not None else None
    plan = Plan(dict(role=role_view(role, state["attached"], inline_view), instance_profile=profile_view(profile)))

    if spec.instance_profile:
        check_profile_available(profile, spec.name)
    if role and spec.path and role.get("Path", "/") != spec.path:
        raise _invalid(
            f"Role {spec.name} exists on path {role.get('Path')}; IAM cannot move a role to path {spec.path}. "
            "Delete it first (state=absent) or use its current path."
        )

    if role is None:
        _plan_create_role(plan, client, caller, spec, resolver)
    else:
        _plan_update_role(plan, client, spec, role, state, resolver)
    if spec.instance_profile:
        _plan_instance_profile(plan, client, caller, spec, profile, role)
    return plan


def _plan_create_role(plan, client, caller, spec, resolver):
    tags = desired_tags(None, spec.tags, owned=False)
    if spec.permissions_boundary:
        resolver.check_exists(spec.permissions_boundary, "permissions_boundary")
    arns = []
    for reference in spec.policy_references:
        arn = resolver.arn(reference)
        if arn not in arns:
            arns.append(arn)
    plan.add(
        f"create role {spec.name}",
        functools.partial(
            create_role,
            client,
            spec.name,
            spec.path,
            spec.trust_policy,
            spec.description or spec.default_description,
            spec.max_session_duration,
            spec.permissions_boundary,
            tags,
        ),
        key="role",
    )
    plan_new_principal_policies(plan, client, "role", spec.name, arns, spec.inline_policies)
    plan.after["role"] = dict(
        name=spec.name,
        path=spec.path or "/",
        arn=caller.arn("role", spec.path, spec.name),
        role_id=None,
        create_date=None,
        description=spec.description or spec.default_description or "",
        max_session_duration=spec.max_session_duration or 3600,
        permissions_boundary=spec.permissions_boundary or None,
        assume_role_policy_document=spec.trust_policy,
        attached_policies=sorted(arns),
        tags=tags,
    )
    if spec.inline_policies is not None:
        plan.after["role"]["inline_policies"] = dict(spec.inline_policies)


def _plan_update_role(plan, client, spec, role, state, resolver):
    view = plan.after["role"]
    current_tags = view["tags"]
    owned = is_owned(current_tags)
    if not owned:
        plan.warnings.append(_ownership_warning("Role", spec.name))

    if compare_policies(view["assume_role_policy_document"], spec.trust_policy):
        plan.add(f"update trust policy of role {spec.name}", functools.partial(update_trust_policy, client, spec.name, spec.trust_policy))
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
            functools.partial(update_role, client, spec.name, **updates),
        )

    plan_permissions_boundary(plan, view, client, spec, view["permissions_boundary"], resolver)
    plan_attached_policies(plan, view, client, spec, state["attached"], resolver)
    plan_inline_policies(plan, view, client, spec, state["inline"])
    plan_tags(
        plan,
        view,
        current_tags,
        desired_tags(current_tags, spec.tags, owned),
        spec.purge_tags,
        functools.partial(tag_principal, client, "role", spec.name),
        functools.partial(untag_principal, client, "role", spec.name),
        f"role {spec.name}",
    )


def _plan_instance_profile(plan, client, caller, spec, profile, role):
    name = spec.instance_profile
    if profile is None:
        tags = desired_tags(None, spec.tags, owned=False)
        path = role.get("Path", "/") if role else (spec.path or "/")
        plan.add(
            f"create instance profile {name}",
            functools.partial(create_instance_profile, client, name, path, tags),
            key="instance_profile",
        )
        plan.add(
            f"add role {spec.name} to instance profile {name}",
            functools.partial(add_role_to_instance_profile, client, name, spec.name),
        )
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
    if not owned:
        plan.warnings.append(_ownership_warning("Instance profile", name))
    if spec.name not in view["roles"]:
        plan.add(
            f"add role {spec.name} to instance profile {name}",
            functools.partial(add_role_to_instance_profile, client, name, spec.name),
        )
        view["roles"] = [spec.name]
    plan_tags(
        plan,
        view,
        view["tags"],
        desired_tags(view["tags"], spec.tags, owned),
        spec.purge_tags,
        functools.partial(tag_instance_profile, client, name),
        functools.partial(untag_instance_profile, client, name),
        f"instance profile {name}",
    )


def wait_for_role(client, role_name, profile_name, timeout):
    """Poll until IAM reads back the role: with a profile, GetInstanceProfile until it returns the
    profile holding the role (one call when IAM is already consistent); without, GetRole."""
    if profile_name:
        def check():
            profile = get_instance_profile(client, profile_name)
            return profile if profile and role_name in [r["RoleName"] for r in profile.get("Roles", [])] else None

        return wait_until(check, timeout, f"instance profile {profile_name} to hold role {role_name}")
    return wait_until(lambda: get_role(client, role_name), timeout, f"role {role_name}")


def ensure_role_present(client, caller, spec, check_mode=False, wait=True, wait_timeout=120):
    """Create or update a role (and its instance profile). Returns the module result: ``changed``,
    ``role``, ``instance_profile``, ``diff``, ``changes`` and ``warnings``.

    Calls: a no-op reads 3 (GetRole, ListAttachedRolePolicies, GetInstanceProfile); a create of a role
    with one policy and its profile makes 8 (those reads minus the list, GetCallerIdentity, CreateRole,
    AttachRolePolicy, CreateInstanceProfile, AddRoleToInstanceProfile, one GetInstanceProfile to wait).
    """
    spec.validate()
    state = read_role_state(client, spec)
    plan = plan_role_present(client, caller, spec, state)
    if plan.changed:
        caller.guard()
        if not check_mode:
            results = plan.apply()
            created = results.get("role")
            if created:
                plan.after["role"].update(arn=created["Arn"], role_id=created["RoleId"], create_date=_date(created["CreateDate"]))
            profile = results.get("instance_profile")
            if profile:
                plan.after["instance_profile"].update(
                    arn=profile["Arn"],
                    instance_profile_id=profile["InstanceProfileId"],
                    create_date=_date(profile["CreateDate"]),
                )
            added = spec.instance_profile and spec.name not in ((plan.before["instance_profile"] or {}).get("roles") or [])
            if wait and (created or added):
                wait_for_role(client, spec.name, spec.instance_profile, wait_timeout)
    return plan.result(warnings=plan.warnings)


def ensure_role_absent(client, caller, spec, check_mode=False):
    """Delete the role the collection owns: detach its managed policies, delete the inline policies the
    spec names, remove it from every instance profile, delete the profile of ``spec.instance_profile``
    when the collection owns it, then the role. Refuses (changing nothing) when the role lacks the
    owner tag. A no-op (nothing there) reads GetRole and GetInstanceProfile."""
    validate_name("role", spec.name)
    role = get_role(client, spec.name)
    profile = get_instance_profile(client, spec.instance_profile) if spec.instance_profile else None
    attached = list_attached_policy_arns(client, "role", spec.name) if role else []
    plan = Plan(dict(role=role_view(role, attached), instance_profile=profile_view(profile)))
    if role is not None and not is_owned(plan.before["role"]["tags"]):
        raise _refuse_delete("role", spec.name)
    profile_owned = profile is not None and is_owned(plan.before["instance_profile"]["tags"])

    if role is not None:
        plan_remove_principal_policies(plan, client, "role", spec.name, attached, spec.inline_policies)
        for held in list_instance_profiles_for_role(client, spec.name):
            profile_name = held["InstanceProfileName"]
            plan.add(
                f"remove role {spec.name} from instance profile {profile_name}",
                functools.partial(remove_role_from_instance_profile, client, profile_name, spec.name),
            )
    if profile_owned:
        for other in profile.get("Roles", []):
            if other["RoleName"] != spec.name:
                plan.add(
                    f"remove role {other['RoleName']} from instance profile {spec.instance_profile}",
                    functools.partial(remove_role_from_instance_profile, client, spec.instance_profile, other["RoleName"]),
                )
        plan.add(
            f"delete instance profile {spec.instance_profile}",
            functools.partial(delete_instance_profile, client, spec.instance_profile),
        )
        plan.after["instance_profile"] = None
    elif profile is not None:
        plan.warnings.append(
            f"Instance profile {spec.instance_profile} was not created by this collection (it lacks the tag "
            f"{OWNER_TAG_KEY}={OWNER_TAG_VALUE}) and is left in place."
        )
    if role is not None:
        plan.add(f"delete role {spec.name}", functools.partial(delete_role, client, spec.name))
        plan.after["role"] = None
        if plan.after["instance_profile"]:
            plan.after["instance_profile"]["roles"] = [r for r in plan.after["instance_profile"]["roles"] if r != spec.name]

    if plan.changed:
        caller.guard()
        if not check_mode:
            plan.apply()
    return plan.result(warnings=plan.warnings)


# --- users and their access keys --------------------------------------------------------------------


def read_user_state(client, spec):
    """One read: GetUser (tags and boundary included) and, if the user exists,
    ListAttachedUserPolicies, ListAccessKeys (and GetUserPolicy per managed inline policy)."""
    user = get_user(client, spec.name)
    attached = list_attached_policy_arns(client, "user", spec.name) if user else []
    inline = _read_inline(client, "user", spec.name, spec.inline_policies or {}) if user else {}
    keys = list_access_keys(client, spec.name) if user else []
    return dict(user=user, attached=attached, inline=inline, keys=keys)


def plan_access_keys(keys, state, retire, stored_key_id):
    """Decide what happens to a user's access keys (pure; raises on a state it must not touch).

    ``keys`` are the user's keys oldest first; ``stored_key_id`` the key id in the store (``None``
    when the store is empty or was not read). Returns a dict: ``retire`` (ids to deactivate then
    delete), ``delete`` (the oldest inactive key to delete to make room, or ``None``), ``create``
    (bool) and ``previous`` (ids of the keys that stay beside a new key).
    """
    ids = [k["AccessKeyId"] for k in keys]
    if stored_key_id and stored_key_id in retire:
        raise _invalid(
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
            raise _invalid(
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
            raise _invalid(
                f"The user already has the two access keys IAM allows and both are active ({', '.join(active)}). "
                "Retire one with retire_access_keys (it is deactivated, then deleted), then rotate. Nothing was changed."
            )
        delete = inactive[0]
    previous = [k["AccessKeyId"] for k in remaining if k["AccessKeyId"] != delete] if create else []
    return dict(retire=to_retire, delete=delete, create=create, previous=previous)


def create_and_store_access_key(client, user_name, store):
    """Create a key and persist it before returning. If persisting fails, delete the new key again
    and raise; the secret never appears in the error."""
    key = create_access_key(client, user_name)
    record = make_record(user_name, key["AccessKeyId"], key["SecretAccessKey"], key.get("CreateDate"))
    try:
        store.write(record)
    except Exception as e:  # pylint: disable=broad-except
        delete_access_key(client, user_name, key["AccessKeyId"])
        raise _invalid(
            f"Could not write the new access key of user {user_name} to {store.spec} ({getattr(e, 'message', None) or type(e).__name__}); "
            f"the new key {key['AccessKeyId']} was deleted again, so no secret is lost. Fix the store and run again."
        ) from None
    return key


def _store_record_for(store, user_name):
    """The store's record, refusing a store that holds another user's key (it would be overwritten)."""
    record = store.read()
    if record is not None and record.get("user_name") not in (None, user_name):
        raise _invalid(
            f"{store.spec} holds the access key of user {record.get('user_name')}, not {user_name}; refusing to "
            "overwrite it. Use another access_key_store. Nothing was changed."
        )
    return record


def plan_user_present(client, caller, spec, keys_spec, state, resolver=None):
    resolver = resolver or PolicyResolver(client, caller)
    user, keys = state["user"], state["keys"]
    inline_view = dict(state["inline"]) if spec.inline_policies is not None else None
    plan = Plan(dict(user=user_view(user, state["attached"], inline_view), access_keys=[key_view(k) for k in keys]))

    # Read the store only when its content matters: to know which key it holds (present with an
    # active key, or a retire list naming an existing key).
    store = keys_spec.store
    stored_key_id = None
    key_ids = [k["AccessKeyId"] for k in keys]
    needs_store = (keys_spec.state == "present" and any(k["Status"] == "Active" for k in keys)) or any(
        key_id in key_ids for key_id in keys_spec.retire
    )
    if store is not None and needs_store:
        record = _store_record_for(store, spec.name)
        stored_key_id = record.get("access_key_id") if record else None
    decision = plan_access_keys(keys, keys_spec.state, keys_spec.retire, stored_key_id)
    if decision["create"]:
        _store_record_for(store, spec.name)
        store.check_writable()

    if user is None:
        _plan_create_user(plan, client, caller, spec, resolver)
    else:
        _plan_update_user(plan, client, spec, user, state, resolver)

    key_views = plan.after["access_keys"]
    for key_id in decision["retire"]:
        plan.add(f"deactivate access key {key_id}", functools.partial(deactivate_access_key, client, spec.name, key_id))
        plan.add(f"delete access key {key_id}", functools.partial(delete_access_key, client, spec.name, key_id))
    if decision["delete"]:
        key_id = decision["delete"]
        plan.add(f"delete inactive access key {key_id}", functools.partial(delete_access_key, client, spec.name, key_id))
    gone = set(decision["retire"]) | {decision["delete"]}
    plan.after["access_keys"] = [k for k in key_views if k["access_key_id"] not in gone]
    if decision["create"]:
        plan.add(
            f"create an access key for user {spec.name} and write it to {store.spec}",
            functools.partial(create_and_store_access_key, client, spec.name, store),
            key="access_key",
        )
        plan.after["access_keys"].append(dict(access_key_id=None, status="Active", create_date=None))
    return plan, decision


def _plan_create_user(plan, client, caller, spec, resolver):
    tags = desired_tags(None, spec.tags, owned=False)
    if spec.permissions_boundary:
        resolver.check_exists(spec.permissions_boundary, "permissions_boundary")
    arns = []
    for reference in spec.policy_references:
        arn = resolver.arn(reference)
        if arn not in arns:
            arns.append(arn)
    plan.add(
        f"create user {spec.name}",
        functools.partial(create_user, client, spec.name, spec.path, spec.permissions_boundary, tags),
        key="user",
    )
    plan_new_principal_policies(plan, client, "user", spec.name, arns, spec.inline_policies)
    plan.after["user"] = dict(
        name=spec.name,
        path=spec.path or "/",
        arn=caller.arn("user", spec.path, spec.name),
        user_id=None,
        create_date=None,
        permissions_boundary=spec.permissions_boundary or None,
        attached_policies=sorted(arns),
        tags=tags,
    )
    if spec.inline_policies is not None:
        plan.after["user"]["inline_policies"] = dict(spec.inline_policies)


def _plan_update_user(plan, client, spec, user, state, resolver):
    view = plan.after["user"]
    current_tags = view["tags"]
    owned = is_owned(current_tags)
    if not owned:
        plan.warnings.append(_ownership_warning("User", spec.name))
    if spec.path and spec.path != view["path"]:
        plan.add(f"move user {spec.name} to path {spec.path}", functools.partial(update_user_path, client, spec.name, spec.path))
        view["path"] = spec.path
        view["arn"] = None if view["arn"] is None else view["arn"].split(":user/")[0] + f":user{spec.path}{spec.name}"
    plan_permissions_boundary(plan, view, client, spec, view["permissions_boundary"], resolver)
    plan_attached_policies(plan, view, client, spec, state["attached"], resolver)
    plan_inline_policies(plan, view, client, spec, state["inline"])
    plan_tags(
        plan,
        view,
        current_tags,
        desired_tags(current_tags, spec.tags, owned),
        spec.purge_tags,
        functools.partial(tag_principal, client, "user", spec.name),
        functools.partial(untag_principal, client, "user", spec.name),
        f"user {spec.name}",
    )


def ensure_user_present(client, caller, spec, keys_spec, check_mode=False, wait=True, wait_timeout=120, key_client=None):
    """Create or update a user and its access keys. Returns the module result: ``changed``, ``user``,
    ``access_keys``, ``previous_access_key_ids``, ``diff``, ``changes``, ``warnings`` and, only when a
    key was created, ``access_key`` (``access_key_id``, ``secret_access_key``).

    ``key_client(access_key_id, secret_access_key)`` returns an STS client signed with a new key: with
    ``wait``, the new key is tried with sts:GetCallerIdentity until AWS accepts it. Without a new key,
    ``wait`` polls GetUser after a create.
    """
    spec.validate()
    keys_spec.validate()
    state = read_user_state(client, spec)
    plan, decision = plan_user_present(client, caller, spec, keys_spec, state)
    extra = dict(previous_access_key_ids=decision["previous"], warnings=plan.warnings)
    if plan.changed:
        caller.guard()
        if not check_mode:
            results = plan.apply()
            created = results.get("user")
            if created:
                plan.after["user"].update(arn=created["Arn"], user_id=created["UserId"], create_date=_date(created["CreateDate"]))
            key = results.get("access_key")
            if key:
                plan.after["access_keys"][-1] = key_view(key)
                extra["access_key"] = dict(access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
                if wait and key_client is not None:
                    wait_for_access_key(key_client, key["AccessKeyId"], key["SecretAccessKey"], wait_timeout)
            elif wait and created:
                wait_until(lambda: get_user(client, spec.name), wait_timeout, f"user {spec.name}")
    return plan.result(**extra)


def wait_for_access_key(key_client, access_key_id, secret_access_key, timeout):
    """Poll sts:GetCallerIdentity signed with the new key until AWS accepts it (new keys take a few
    seconds to work everywhere)."""
    sts = key_client(access_key_id, secret_access_key)

    def check():
        try:
            return sts.get_caller_identity(aws_retry=True)
        except is_boto3_error_code(["InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"]):
            return None

    return wait_until(check, timeout, f"the new access key {access_key_id} to be accepted")


def ensure_user_absent(client, caller, spec, store=None, check_mode=False):
    """Delete a user the collection owns: its access keys, managed policy attachments, the inline
    policies the spec names, the user, and the store's record when it holds this user's key.
    Refuses (changing nothing) when the user lacks the owner tag."""
    validate_name("user", spec.name)
    user = get_user(client, spec.name)
    attached = list_attached_policy_arns(client, "user", spec.name) if user else []
    keys = list_access_keys(client, spec.name) if user else []
    plan = Plan(dict(user=user_view(user, attached), access_keys=[key_view(k) for k in keys]))
    if user is not None and not is_owned(plan.before["user"]["tags"]):
        raise _refuse_delete("user", spec.name)
    record = store.read() if store is not None else None
    if user is not None:
        for key in keys:
            key_id = key["AccessKeyId"]
            plan.add(f"delete access key {key_id}", functools.partial(delete_access_key, client, spec.name, key_id))
        plan_remove_principal_policies(plan, client, "user", spec.name, attached, spec.inline_policies)
        plan.add(f"delete user {spec.name}", functools.partial(delete_user, client, spec.name))
    key_ids = [k["AccessKeyId"] for k in keys]
    if record is not None and (record.get("user_name") == spec.name or record.get("access_key_id") in key_ids):
        plan.add(f"delete the access key record in {store.spec}", store.delete)
    plan.after = dict(user=None, access_keys=[])
    if plan.changed:
        caller.guard()
        if not check_mode:
            plan.apply()
    return plan.result(warnings=plan.warnings)


# --- the CloudWatch agent's identities (agent_iam_role, agent_iam_user) ----------------------------


def agent_policies(purpose, ssm_managed):
    """The policies an agent identity always has: its purpose policy, and AmazonSSMManagedInstanceCore
    when Systems Manager installs or configures the agent."""
    if purpose not in AGENT_POLICIES:
        raise _invalid(f"purpose must be one of {', '.join(sorted(AGENT_POLICIES))}, got {purpose!r}")
    return [AGENT_POLICIES[purpose]] + ([SSM_CORE_POLICY] if ssm_managed else [])


def agent_policy_warnings(managed_policies):
    if any(is_legacy_ssm_policy(reference) for reference in managed_policies or []):
        return [
            "AmazonEC2RoleforSSM is deprecated: AWS replaced it with AmazonSSMManagedInstanceCore. "
            "Set ssm_managed=true and remove AmazonEC2RoleforSSM from managed_policies."
        ]
    return []
