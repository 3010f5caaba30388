# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM Parameter Store helpers for the agent configuration.

Every helper takes a client built with ``retry_decorator=retries.jittered_backoff()`` and plain
values, never a module, and raises ``AnsibleSSMError``. When AWS refuses a call for lack of rights,
the error names the IAM permission the call needs: the AWS managed policy CloudWatchAgentAdminPolicy
grants only ``ssm:GetParameter`` and ``ssm:PutParameter`` (on ``AmazonCloudWatch-*``), so every other
call is an extra permission a user has to grant on purpose.

The tier rules (``choose_tier``) are pure functions, so they can be tested without AWS.
"""

import functools

try:
    import botocore
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# The managed policies grant agents read access, and admins write access, to these names only.
CONFIG_NAME_PREFIX = "AmazonCloudWatch-"

STANDARD = "Standard"
ADVANCED = "Advanced"
INTELLIGENT_TIERING = "Intelligent-Tiering"
AUTO = "auto"
TIER_CHOICES = [AUTO, STANDARD, ADVANCED, INTELLIGENT_TIERING]

# Parameter Store's value size limits, in bytes of the stored value.
STANDARD_TIER_LIMIT = 4096
ADVANCED_TIER_LIMIT = 8192

PARAMETER_TYPE = "String"

_ACCESS_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")


class AnsibleSSMError(AnsibleAWSError):
    pass


class AnsibleSSMTierDowngradeError(AnsibleSSMError):
    """Parameter Store refused to write a Standard value over an Advanced parameter."""


class TierError(ValueError):
    """A value cannot be stored with the tier asked for (raised before anything is written)."""


class SSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleSSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["ParameterNotFound", "ParameterVersionNotFound"])


def requires_permission(permission, description):
    """Turn AccessDenied into an error that names the IAM permission the call needs.

    Apply below the SSMErrorHandler decorator, so the named error passes through it unchanged.
    """

    def wrapper(func):
        @functools.wraps(func)
        def handler(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except is_boto3_error_code(list(_ACCESS_DENIED)) as e:
                raise AnsibleSSMError(
                    message=f"Failed to {description}: access denied, this needs the IAM permission {permission}",
                    exception=e,
                ) from e

        return handler

    return wrapper


@SSMErrorHandler.list_error_handler("get parameter")
@requires_permission("ssm:GetParameter", "get parameter")
def get_parameter(client, name, version=None):
    """Return the parameter (``Name``, ``Type``, ``Value``, ``Version``, ...) or None if it does not exist.

    ``version`` reads an earlier version (the ``NAME:VERSION`` selector of GetParameter, which needs
    ``ssm:GetParameter`` only); None is also returned when that version does not exist.
    GetParameter does not return the tier or the description: see ``describe_parameter``.
    """
    selector = name if version is None else f"{name}:{int(version)}"
    return client.get_parameter(Name=selector, WithDecryption=False, aws_retry=True)["Parameter"]


@SSMErrorHandler.list_error_handler("describe parameter")
@requires_permission("ssm:DescribeParameters", "describe parameter (to read its tier and description)")
def describe_parameter(client, name):
    """Return the parameter's metadata (``Tier``, ``Description``, ``Version``, ...) or None."""
    params = {"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": [name]}]}
    while True:
        page = client.describe_parameters(aws_retry=True, **params)
        for parameter in page.get("Parameters", []):
            if parameter["Name"] == name:
                return parameter
        if not page.get("NextToken"):
            return None
        params["NextToken"] = page["NextToken"]


@SSMErrorHandler.common_error_handler("put parameter")
@requires_permission("ssm:PutParameter", "put parameter")
def _put_parameter(client, **params):
    return client.put_parameter(aws_retry=True, **params)


def put_parameter(client, name, value, tier=None, description=None, tags=None, overwrite=True, keep_advanced=False):
    """Write a String parameter; return ``{"version": int, "tier": str}`` as Parameter Store reports them.

    ``tags`` may only be given when creating (``overwrite=False``): Parameter Store refuses tags with
    Overwrite; existing parameters get their tags with ``update_parameter_tags``.

    When Parameter Store refuses to move an Advanced parameter back to Standard, this raises
    ``AnsibleSSMTierDowngradeError``, or with ``keep_advanced=True`` writes again with the advanced tier:
    GetParameter does not tell the tier, so a small value may be headed for an advanced parameter.
    """
    params = {"Name": name, "Value": value, "Type": PARAMETER_TYPE, "Overwrite": overwrite}
    if tier is not None:
        params["Tier"] = tier
    if description is not None:
        params["Description"] = description
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    try:
        response = _put_parameter(client, **params)
    except AnsibleSSMError as e:
        if not _is_downgrade_refusal(e.exception):
            raise
        if not keep_advanced:
            raise AnsibleSSMTierDowngradeError(
                message=f"Failed to put parameter: {name} uses the advanced tier, which cannot go back to Standard",
                exception=e.exception,
            ) from e
        params["Tier"] = ADVANCED
        response = _put_parameter(client, **params)
    return {"version": response["Version"], "tier": response.get("Tier", params.get("Tier"))}


def _is_downgrade_refusal(exception):
    if not isinstance(exception, botocore.exceptions.ClientError):
        return False
    error = exception.response.get("Error", {})
    return error.get("Code") == "ValidationException" and "downgrade" in error.get("Message", "").lower()


@SSMErrorHandler.list_error_handler("list parameter tags", {})
@requires_permission("ssm:ListTagsForResource", "list parameter tags")
def list_parameter_tags(client, name):
    response = client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name, aws_retry=True)
    return boto3_tag_list_to_ansible_dict(response.get("TagList", []))


@SSMErrorHandler.common_error_handler("tag parameter")
@requires_permission("ssm:AddTagsToResource", "tag parameter")
def add_parameter_tags(client, name, tags):
    client.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name, Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True
    )
    return True


@SSMErrorHandler.common_error_handler("untag parameter")
@requires_permission("ssm:RemoveTagsFromResource", "untag parameter")
def remove_parameter_tags(client, name, keys):
    client.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=list(keys), aws_retry=True)
    return True


def update_parameter_tags(client, name, tags_to_set, tags_to_unset):
    """Apply a tag difference (from ``compare_aws_tags``); return True when anything was sent."""
    changed = False
    if tags_to_unset:
        changed |= remove_parameter_tags(client, name, tags_to_unset)
    if tags_to_set:
        changed |= add_parameter_tags(client, name, tags_to_set)
    return changed


@SSMErrorHandler.deletion_error_handler("delete parameter")
@requires_permission("ssm:DeleteParameter", "delete parameter")
def delete_parameter(client, name):
    """Delete the parameter and its history; False when it was already gone."""
    client.delete_parameter(Name=name, aws_retry=True)
    return True


# ---- tier rules --------------------------------------------------------------------------------


def value_size(value):
    """Size of a parameter value as Parameter Store counts it: UTF-8 bytes."""
    return len(value.encode("utf-8"))


def known_tier(current_value=None, described_tier=None):
    """The tier an existing parameter certainly has, or None when it cannot be told.

    GetParameter does not return the tier. ``described_tier`` (from DescribeParameters) is used
    when it was read; otherwise a stored value above the Standard limit proves the advanced tier.
    """
    if described_tier in (STANDARD, ADVANCED):
        return described_tier
    if current_value is not None and value_size(current_value) > STANDARD_TIER_LIMIT:
        return ADVANCED
    return None


def choose_tier(requested, size, current_tier=None):
    """Return the tier to write a value of ``size`` bytes with.

    ``requested`` is one of TIER_CHOICES; ``current_tier`` is the tier the parameter has now when
    known (``known_tier``), None for a new parameter or when unknown. With ``auto``: Standard when
    the value fits in 4096 bytes, Advanced when it must, and never back from Advanced to Standard.
    Raises TierError when the value cannot be stored as asked.
    """
    if size > ADVANCED_TIER_LIMIT:
        raise TierError(
            f"the configuration (config or content) is {size} bytes as stored (compact JSON), above Parameter Store's"
            f" limit of {ADVANCED_TIER_LIMIT} bytes (advanced tier); split it into several configurations"
            " (the agent can append them with fetch-config -o append-config)"
        )
    if requested == AUTO:
        if size > STANDARD_TIER_LIMIT or current_tier == ADVANCED:
            return ADVANCED
        return STANDARD
    if requested == STANDARD:
        if size > STANDARD_TIER_LIMIT:
            raise TierError(
                f"tier=Standard: the configuration is {size} bytes as stored (compact JSON), above the standard"
                f" tier's limit of {STANDARD_TIER_LIMIT} bytes; use tier=auto or tier=Advanced"
            )
        if current_tier == ADVANCED:
            raise TierError(
                "the parameter uses the advanced tier, and Parameter Store cannot move a parameter back"
                " to Standard; delete it (state=absent) and publish it again, or use tier=auto"
            )
        return STANDARD
    if requested in (ADVANCED, INTELLIGENT_TIERING):
        return requested
    raise TierError(f"unknown tier {requested!r}; expected one of {', '.join(TIER_CHOICES)}")


# ---- SecureString parameters: the ssm: access key store (see access_keys.py) -----------------------
# No requires_permission here: these errors keep the store's own wording.


@SSMErrorHandler.list_error_handler("read the access key parameter")
def get_secure_string(client, name):
    """The parameter, decrypted (``Type``, ``Value``, ...), or None if it does not exist."""
    return client.get_parameter(Name=name, WithDecryption=True, aws_retry=True)["Parameter"]


def put_secure_string(client, name, value, description, kms_key_id=None, secret=None):
    """Write (or overwrite) a SecureString, encrypted with ``kms_key_id`` when given. A failure is
    raised unchained, with ``secret`` masked: an AWS validation message may quote the request's value."""
    params = dict(Name=name, Value=value, Type="SecureString", Overwrite=True, Description=description)
    if kms_key_id:
        params["KeyId"] = kms_key_id
    try:
        client.put_parameter(aws_retry=True, **params)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        message = str(e).replace(secret or "\0", "****")
        raise AnsibleSSMError(message=f"Cannot write ssm:{name}: {message}") from None
    return True


@SSMErrorHandler.deletion_error_handler("delete the access key parameter")
def delete_secure_string(client, name):
    """Delete the parameter; False when it was already gone."""
    client.delete_parameter(Name=name, aws_retry=True)
    return True
