# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module side every IAM module of the collection shares: its clients, its key store, its result.

The reconcile logic never sees the module: ``main()`` takes plain values and clients from here,
calls an ``ensure_*`` helper and hands its result to :meth:`IAMModule.exit_result`.
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import CALLER_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import Caller
from ansible_collections.observability.cloudwatch.plugins.module_utils.key_stores import check_store_key
from ansible_collections.observability.cloudwatch.plugins.module_utils.key_stores import open_store
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff

# The options of the doc fragments observability.cloudwatch.iam, observability.cloudwatch.caller and
# observability.cloudwatch.iam.key_store.
IAM_OPTIONS = dict(
    CALLER_OPTIONS,
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=120),
)
# The option of the doc fragment observability.cloudwatch.iam.adopt.
ADOPT_OPTIONS = dict(adopt=dict(type="bool", default=False))
# The doc fragment observability.cloudwatch.iam.agent_policies: what agent_iam_role and agent_iam_user grant.
AGENT_POLICY_OPTIONS = dict(
    managed_policies=dict(type="list", elements="str", default=[]),
    purge_policies=dict(type="bool", default=True),
    allow_broad_policies=dict(type="bool", default=False),
    scoped_policy=dict(
        type="dict",
        options=dict(
            # Entries of the role config's cloudwatch_publish_configs fit as they are: other keys are ignored.
            configs=dict(type="list", elements="dict", required=True),
            regions=dict(type="list", elements="str", default=["*"]),
        ),
    ),
)
KEY_STORE_OPTIONS = dict(
    access_key_store=dict(type="str", no_log=False),
    kms_key_id=dict(type="str", no_log=False),
    allow_aws_managed_kms_key=dict(type="bool", default=False),
)


class IAMModule(AnsibleAWSModule):
    """An ``AnsibleAWSModule`` with the IAM options, and clients that share one retry policy."""

    def __init__(self, argument_spec, **kwargs):
        super().__init__(argument_spec=dict(argument_spec, **IAM_OPTIONS), **kwargs)
        self.retry = jittered_backoff()

    def aws_client(self, service, **kwargs):
        return self.client(service, retry_decorator=self.retry, **kwargs)

    def caller(self):
        """The caller identity, read only when a write is due (the root guard)."""
        return Caller(self.aws_client("sts"), self.params["allow_root"], self.params["allow_federated_user"])

    def key_client(self, access_key_id, secret_access_key):
        """An STS client signed with a new access key alone, to wait until AWS accepts it."""
        return self.aws_client(
            "sts",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=None,
            profile_name=None,
        )

    def key_store(self):
        """The store ``access_key_store`` names, or ``None``; its SSM and KMS clients are made only for
        ``ssm:``. Unless the run removes the store (``state=absent``), its encryption key is checked: by
        name before any call, with kms:DescribeKey before a write."""
        spec = self.params["access_key_store"]
        if not spec:
            return None
        allow_aws_managed = self.params["allow_aws_managed_kms_key"]
        store = open_store(
            spec,
            lambda: self.aws_client("ssm"),
            self.params["kms_key_id"],
            kms_client_factory=lambda: self.aws_client("kms"),
            allow_aws_managed_key=allow_aws_managed,
            region=self.region,
        )
        if self.params.get("state") != "absent":
            check_store_key(spec, self.params["kms_key_id"], allow_aws_managed)
        return store

    def exit_result(self, result):
        """Warn, keep ``diff`` only with ``--diff``, and exit with the result."""
        for warning in result.pop("warnings", []):
            self.warn(warning)
        if not self._diff:
            result.pop("diff")
        self.exit_json(**result)
