# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input validation of the IAM modules: no AWS calls, raised before anything is written.

Every check raises :class:`AnsibleIAMError` with a message that names the option.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import validate_iam_identifiers

from ansible_collections.observability.cloudwatch.plugins.module_utils import aws_limits

MAX_SESSION_DURATION = (3600, 43200)
MAX_DESCRIPTION = 1000

_NAME_RE = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_POLICY_ARN_RE = re.compile(r"arn:(aws[a-z-]*):iam::(aws|\d{12}):policy/(?:[\x21-\x7e]+/)?[\w+=,.@-]{1,128}", re.ASCII)
_POLICY_PATH_NAME_RE = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}", re.ASCII)
_ROOT_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:root")
_FEDERATED_ARN_RE = re.compile(r"arn:aws[a-z-]*:sts::\d{12}:federated-user/.+")
_DESCRIPTION_RE = re.compile("[\t\n\r\x20-\x7e\xa1-\xff]*")
_NAME_LENGTHS = {"role": 64, "user": 64, "instance profile": 128}


def iam_error(message):
    """The error every IAM helper of the collection raises for a refusal of its own."""
    return AnsibleIAMError(message=message)


def validate_name(resource_type, name, option="name"):
    """IAM's name rule: ``[\\w+=,.@-]`` (ASCII), 64 characters for roles and users, 128 for profiles."""
    if not name:
        raise iam_error(f"{option} must not be empty")
    problem = validate_iam_identifiers(resource_type, name=name)
    limit = _NAME_LENGTHS.get(resource_type, 128)
    if problem or len(name) > limit or not _NAME_RE.fullmatch(name):
        raise iam_error(
            f"{option} {name!r} is not a valid IAM {resource_type} name: use 1 to {limit} characters "
            "from letters, digits and +=,.@_-"
        )


def validate_path(resource_type, path, option="path"):
    """An IAM path: ``/`` or ``/segment/.../``, at most 512 characters."""
    if path is None:
        return
    problem = validate_iam_identifiers(resource_type, path=path)
    if problem:
        raise iam_error(f"{option} {path!r} is not a valid IAM path: {problem}")


def validate_description(description, option="description"):
    if description is None:
        return
    if len(description) > MAX_DESCRIPTION or not _DESCRIPTION_RE.fullmatch(description):
        raise iam_error(
            f"{option} must be at most {MAX_DESCRIPTION} characters of printable Latin-1 text, "
            f"got {len(description)} characters"
        )


def validate_max_session_duration(seconds, option="max_session_duration"):
    if seconds is None:
        return
    low, high = MAX_SESSION_DURATION
    if not low <= seconds <= high:
        raise iam_error(f"{option} must be between {low} and {high} seconds, got {seconds}")


def validate_policy_arn(arn, option):
    if not _POLICY_ARN_RE.fullmatch(arn or ""):
        raise iam_error(
            f"{option} {arn!r} is not a managed policy ARN (arn:aws:iam::aws:policy/NAME or "
            "arn:aws:iam::ACCOUNT_ID:policy/PATH/NAME)"
        )


def validate_permissions_boundary(arn, option="permissions_boundary"):
    """``None`` leaves the boundary alone, ``""`` removes it, anything else must be a policy ARN."""
    if arn:
        validate_policy_arn(arn, option)


def validate_policy_reference(reference, option="managed_policies"):
    """A managed policy is named by its ARN, or by ``NAME`` or ``PATH/NAME`` (see ``iam_policies.resolve_policy_arn``)."""
    if reference.startswith("arn:"):
        validate_policy_arn(reference, option)
    elif not _POLICY_PATH_NAME_RE.fullmatch(reference.strip("/")):
        raise iam_error(f"{option}: {reference!r} is neither a managed policy ARN nor a policy name")


def validate_tags(tags, option="tags", added=None):
    _refuse(aws_limits.tags_problem(tags, option, added))


def validate_documents(kind, inline_policies, trust_policy=None, inline_option="inline policies", trust_option="trust policy"):
    """The sizes IAM allows the documents of a role or user: all its inline policies together, and the
    trust policy. Only the policies the collection manages are counted: others a principal has already
    count towards the same limit, so IAM may still refuse a write that passes here."""
    documents = {k: v for k, v in (inline_policies or {}).items() if v is not None}
    _refuse(aws_limits.inline_policies_problem(kind, documents, inline_option))
    _refuse(aws_limits.trust_policy_problem(trust_policy, trust_option))


def _refuse(problem):
    if problem:
        raise iam_error(problem)


def check_root_guard(caller_arn, allow_root, allow_federated_user=False):
    """Fail on the account root user's credentials unless ``allow_root``, and on a federated user's unless
    ``allow_federated_user``: the root user can make those (sts:GetFederationToken), and their ARN does not say who did."""
    if _ROOT_ARN_RE.fullmatch(caller_arn or "") and not allow_root:
        raise iam_error(
            f"Refusing to write to AWS with the AWS account root user's credentials ({caller_arn}). "
            "Create an administrator (an IAM user or role with the permissions this task needs, or an "
            "IAM Identity Center user) and run the task with its credentials, or set allow_root=true "
            "to accept the risk."
        )
    if _FEDERATED_ARN_RE.fullmatch(caller_arn or "") and not allow_federated_user:
        raise iam_error(
            f"Refusing to write to AWS with the credentials of the federated user {caller_arn}: they come from "
            "sts:GetFederationToken, which the account root user may have called, and the ARN does not say who did. "
            "Use the credentials of an IAM role or user, or set allow_federated_user=true if you know who made them."
        )
