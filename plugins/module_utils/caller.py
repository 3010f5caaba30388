# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who runs a module that writes to AWS: the caller identity, read once and only when needed, and the root guard."""

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler

from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_validate as checks


# The options of the doc fragment observability.cloudwatch.caller, in every module that writes to AWS.
CALLER_OPTIONS = dict(
    allow_root=dict(type="bool", default=False),
    allow_federated_user=dict(type="bool", default=False),
)


@IAMErrorHandler.common_error_handler("read the caller identity (sts:GetCallerIdentity)")
def get_caller_identity(sts_client):
    return sts_client.get_caller_identity(aws_retry=True)


class Caller:
    """The caller identity, read at most once (``sts:GetCallerIdentity``) and only when needed.

    It is needed when a write is due: for the root guard, and for the account id and partition of
    the ARNs a plan predicts and the customer managed policies it resolves.
    """

    def __init__(self, sts_client, allow_root=False, allow_federated_user=False):
        self._client = sts_client
        self.allow_root = allow_root
        self.allow_federated_user = allow_federated_user
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
        return parse_aws_arn(self.identity["Arn"])["partition"]

    def arn(self, resource_type, path, name):
        return f"arn:{self.partition}:iam::{self.account_id}:{resource_type}{path or '/'}{name}"

    def guard(self):
        checks.check_root_guard(self.identity["Arn"], self.allow_root, self.allow_federated_user)
