# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS keys as the key stores need them: which key an id, ARN or alias names, and whether it can keep a
secret from the rest of the account.

An AWS managed key such as ``aws/ssm`` has a key policy AWS wrote: every principal of the account that may
use Parameter Store may decrypt with it, so a SecureString encrypted with it is only as private as
``ssm:GetParameter`` on its name. Only a customer managed key has a key policy its owner decides.

Helpers take a KMS client (made with ``retry_decorator=retries.jittered_backoff()``) and plain values and
raise ``AnsibleKMSError``.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

SSM_DEFAULT_KEY = "alias/aws/ssm"
# Aliases AWS reserves for its managed keys.
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"


class AnsibleKMSError(AnsibleAWSError):
    pass


class KMSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleKMSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


@KMSErrorHandler.list_error_handler("describe KMS key (kms:DescribeKey)")
def describe_key(client, key_id):
    """The key's metadata (``Arn``, ``KeyManager``, ``KeyState``, ``KeySpec``, ``KeyUsage``), or ``None``."""
    return client.describe_key(KeyId=key_id, aws_retry=True)["KeyMetadata"]


def names_aws_managed_key(key_id):
    """Whether ``key_id`` is an alias of an AWS managed key (``alias/aws/...``, or its ARN form)."""
    alias = (key_id or "").split(":", 5)[-1] if (key_id or "").startswith("arn:") else (key_id or "")
    return alias.startswith(AWS_MANAGED_ALIAS_PREFIX)


def key_problem(metadata, key_id, allow_aws_managed=False):
    """Why the key cannot encrypt a secret store (``None`` when it can): it must exist, be enabled,
    encrypt with a symmetric key and, unless ``allow_aws_managed``, be a customer managed key."""
    if metadata is None:
        return f"KMS key {key_id} does not exist in this region (or the caller may not describe it)"
    if metadata.get("KeyState") != "Enabled":
        return f"KMS key {key_id} is {metadata.get('KeyState')}, not Enabled"
    if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return f"KMS key {key_id} is not a symmetric encryption key, which Parameter Store needs"
    aws_managed = metadata.get("KeyManager") == "AWS" or names_aws_managed_key(key_id)
    if aws_managed and not allow_aws_managed:
        return (
            f"KMS key {key_id} is an AWS managed key: its key policy lets every principal of the account that may "
            "read the parameter decrypt it"
        )
    return None
