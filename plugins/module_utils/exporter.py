# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The reconcile of the module ``exporter_access``: an exporter's role (with its IAM OIDC provider) or user
(with its access key), and its CloudWatch Logs log groups.

Helpers take clients (made with ``retry_decorator=retries.jittered_backoff()``) and plain values, never
the module. The role and user are reconciled by the shared IAM helpers (``iam_role.py``, ``iam_user.py``),
the OIDC provider by ``oidc.py``, the log groups by ``logs.py``; the policy documents come from
``exporter_policies.py``.
"""

import dataclasses
from typing import Optional, Sequence

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import KeySpec
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import (
    PolicyInputError,
    log_group_names,
    partition_of_region,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.exporter_policies import (
    DEFAULT_AUDIENCE,
    DEFAULT_EXPORTER_DATA_TYPES,
    all_log_groups_warning,
    exporter_permission_policy,
    exporter_trust_policy,
    federated_principals,
    cross_account_refusal,
    issuer_from_url,
    other_account_roles,
    parse_provider_arn,
    require_subject,
    validate_external_id,
    validate_org_id,
    validate_role_arns,
    validate_thumbprints,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import get_user
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import RoleSpec, UserSpec, owner_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_role import (
    ensure_role_absent,
    plan_role_present,
    read_role_state,
    wait_for_role,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_user import ensure_user_absent, ensure_user_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_documents, validate_name, validate_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import role_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import plan_managed_log_groups, validate_retention
from ansible_collections.observability.cloudwatch.plugins.module_utils.oidc import (
    plan_oidc_provider,
    plan_oidc_providers_absent,
    provider_view,
    read_provider,
    read_providers_to_remove,
    wait_for_oidc_provider,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import merge_results

AUTH_METHODS = ("iam_role", "iam_user")
INLINE_POLICY_NAME = "cloudwatch-exporter"
ROLE_DESCRIPTION = "Lets an external telemetry exporter write to CloudWatch (observability.cloudwatch.exporter_access)"


def _input_error(error):
    return AnsibleIAMError(message=str(error))


@dataclasses.dataclass
class ExporterSpec:
    """What the exporter's access should look like (the module's options, by name).

    ``validate()`` checks everything that can be checked without AWS and derives ``issuer`` (the OIDC
    issuer without ``https://``), ``log_groups`` (names) and ``partition``. ``None`` means "not managed".
    """

    name: str
    region: Optional[str]
    auth_method: str = "iam_role"
    oidc_provider_url: Optional[str] = None
    oidc_provider_arn: Optional[str] = None
    audience: str = DEFAULT_AUDIENCE
    thumbprints: Optional[list] = None
    service_account: Optional[str] = None
    subject: Optional[str] = None
    allow_any_subject: bool = False
    trusted_role_arns: Optional[list] = None
    external_id: Optional[str] = None
    principal_org_id: Optional[str] = None
    allow_cross_account_without_external_id: bool = False
    data_types: Sequence[str] = DEFAULT_EXPORTER_DATA_TYPES
    parameter_access: bool = False
    log_group_names: Optional[list] = None
    log_group_prefix: Optional[str] = None
    allow_all_log_groups: bool = False
    metric_namespaces: Optional[list] = None
    create_log_groups: bool = False
    log_group_retention_days: Optional[int] = None
    tags: Optional[dict] = None
    purge_tags: bool = True
    # An existing identity without the owner tag: refused unless adopted; its trust kept unless replaced.
    adopt: bool = False
    replace_trust_policy: bool = False
    purge_policies: bool = False
    permissions_boundary: Optional[str] = None
    # Derived by validate().
    issuer: Optional[str] = dataclasses.field(default=None, init=False)
    log_groups: list = dataclasses.field(default_factory=list, init=False)
    partition: Optional[str] = dataclasses.field(default=None, init=False)

    def __post_init__(self):
        self.data_types = list(self.data_types) if self.data_types is not None else list(DEFAULT_EXPORTER_DATA_TYPES)

    @property
    def kind(self):
        return "role" if self.auth_method == "iam_role" else "user"

    @property
    def uses_oidc(self):
        return bool(self.oidc_provider_url or self.oidc_provider_arn)

    def validate_identity(self):
        """The checks ``state=absent`` needs too: the name (and the OIDC provider's URL or ARN)."""
        if self.auth_method not in AUTH_METHODS:
            raise _input_error(f"auth_method {self.auth_method!r}: expected one of {', '.join(AUTH_METHODS)}")
        validate_name(self.kind, self.name)
        try:
            if self.oidc_provider_url:
                self.issuer = issuer_from_url(self.oidc_provider_url)
            if self.oidc_provider_arn:
                self.issuer = parse_provider_arn(self.oidc_provider_arn)["issuer"]
        except PolicyInputError as e:
            raise _input_error(e) from None

    def validate(self):
        self.validate_identity()
        if not self.region:
            raise _input_error("a region is required: set region (or AWS_REGION) to the region of the exporter")
        self.partition = partition_of_region(self.region)
        role_only = (
            "oidc_provider_url", "oidc_provider_arn", "thumbprints", "service_account", "subject", "allow_any_subject",
            "trusted_role_arns", "external_id",
            "principal_org_id", "allow_cross_account_without_external_id",
        )
        if self.auth_method == "iam_user":
            given = [option for option in role_only if getattr(self, option)]
            if given:
                raise _input_error(f"{', '.join(given)}: only with auth_method=iam_role")
        else:
            if not self.uses_oidc and not self.trusted_role_arns:
                raise _input_error(
                    "auth_method=iam_role needs someone to trust: oidc_provider_url or oidc_provider_arn "
                    "(an IAM role for service accounts), or trusted_role_arns"
                )
            for option in ("service_account", "subject", "allow_any_subject"):
                if getattr(self, option) and not self.uses_oidc:
                    raise _input_error(f"{option}: only with oidc_provider_url or oidc_provider_arn")
            if self.uses_oidc:
                self._validate_subject()
            for option in ("external_id", "principal_org_id"):
                if getattr(self, option) and not self.trusted_role_arns:
                    raise _input_error(f"{option}: only with trusted_role_arns (it is a condition on sts:AssumeRole)")
            if self.oidc_provider_arn and self.thumbprints:
                raise _input_error("thumbprints: only with oidc_provider_url (an existing provider named by ARN is used as it is)")
            if self.uses_oidc and (not self.audience or len(self.audience) > 255):
                raise _input_error("audience: 1 to 255 characters")
        if self.replace_trust_policy and self.auth_method == "iam_user":
            raise _input_error("replace_trust_policy: only with auth_method=iam_role (a user has no trust policy)")
        if self.create_log_groups and not self.log_group_names:
            raise _input_error("create_log_groups=true needs log_group_names")
        if self.log_group_retention_days is not None and not self.create_log_groups:
            raise _input_error("log_group_retention_days: only with create_log_groups=true")
        validate_tags(self.tags)
        try:
            self.thumbprints = validate_thumbprints(self.thumbprints) if self.thumbprints is not None else None
            self.trusted_role_arns = validate_role_arns(self.trusted_role_arns)
            validate_external_id(self.external_id)
            validate_org_id(self.principal_org_id)
            validate_retention(self.log_group_retention_days)
        except ValueError as e:  # PolicyInputError, or a retention CloudWatch Logs does not accept
            raise _input_error(e) from None
        try:
            self.log_groups = log_group_names(self.log_group_names, self.region)
        except PolicyInputError as e:
            raise _input_error(f"log_group_names: {e}") from None
        # The account is not known yet; every account id has 12 digits, so a placeholder gives the
        # documents their real sizes, checked here against IAM's limits before any call.
        placeholder = "000000000000"
        try:
            permission = exporter_permission_policy(self.partition, self.region, placeholder, **self._policy_options(self.log_groups))
        except PolicyInputError as e:
            raise _input_error(e) from None
        provider = self.oidc_provider_arn or (self.uses_oidc and f"arn:{self.partition}:iam::{placeholder}:oidc-provider/{self.issuer}")
        trust = self.trust_policy(provider or None) if self.kind == "role" else None
        validate_documents(self.kind, {INLINE_POLICY_NAME: permission}, trust, "log_group_names (in the permission policy)",
                           "trusted_role_arns (in the trust policy)")

    def _validate_subject(self):
        try:
            require_subject(self.name, self.issuer, self.audience, self.service_account, self.subject, self.allow_any_subject)
        except PolicyInputError as e:
            raise _input_error(e) from None

    def _policy_options(self, log_groups):
        return dict(
            data_types=self.data_types, parameter_access=self.parameter_access, log_groups=log_groups,
            log_group_prefix=self.log_group_prefix, allow_all_log_groups=self.allow_all_log_groups,
            metric_namespaces=self.metric_namespaces,
        )

    def permission_policy(self, partition, account):
        try:
            return exporter_permission_policy(partition, self.region, account, **self._policy_options(self.log_group_names))
        except PolicyInputError as e:  # a log group ARN of another account
            raise _input_error(e) from None

    def trust_policy(self, provider_arn):
        return exporter_trust_policy(
            provider_arn=provider_arn,
            issuer=self.issuer,
            audience=self.audience,
            service_account=self.service_account,
            subject=self.subject,
            trusted_role_arns=self.trusted_role_arns,
            external_id=self.external_id,
            principal_org_id=self.principal_org_id,
        )

    def check_cross_account(self, account):
        """Refuse roles of another account than ``account`` (the exporter role's) trusted without an external id
        or an organization condition; returns the warnings of an explicit waiver."""
        others = other_account_roles(self.trusted_role_arns, account)
        if not others or self.external_id or self.principal_org_id:
            return []
        if self.allow_cross_account_without_external_id:
            return [
                f"Role {self.name} trusts {', '.join(others)} of another account without an external id "
                "(allow_cross_account_without_external_id=true): that account can let anyone it serves act as this role."
            ]
        raise _input_error(cross_account_refusal(self.name, account, others))

    def log_groups_plan(self, logs, partition, account):
        return plan_managed_log_groups(
            logs, self.log_groups, self.create_log_groups, self.log_group_retention_days, self.resource_tags(), partition, self.region, account
        )

    def resource_tags(self):
        """Tags for the OIDC provider and log groups the module creates."""
        return dict(self.tags or {}, **owner_tags())


def _arn_scope(arn):
    """``(partition, account)`` of an ARN."""
    parts = parse_aws_arn(arn)
    return parts["partition"], parts["account_id"]


# -- present


def ensure_exporter_present(iam, logs, caller, spec, store=None, check_mode=False, wait=True, wait_timeout=120, key_client=None):
    """Bring the exporter's role (with its OIDC provider) or user (with its key) and log groups to ``spec``.

    Every input is validated and the state read once before anything is written; the caller identity is
    read (root guard) only when a change is due, or when nothing that exists tells the account ID.
    Returns the module result.
    """
    spec.validate()
    if spec.auth_method == "iam_user":
        result = _ensure_user_present(iam, logs, caller, spec, store, check_mode, wait, wait_timeout, key_client)
    else:
        result = _ensure_role_present(iam, logs, caller, spec, check_mode, wait, wait_timeout)
    result["log_groups_unrestricted"] = spec.allow_all_log_groups
    if spec.allow_all_log_groups:
        result["warnings"].append(all_log_groups_warning(spec.name, spec.region))
    return result


def _ensure_role_present(iam, logs, caller, spec, check_mode, wait, wait_timeout):
    role_spec = RoleSpec(
        spec.name,
        trust_policy=None,
        description=ROLE_DESCRIPTION,
        purge_policies=spec.purge_policies,
        permissions_boundary=spec.permissions_boundary,
        tags=spec.tags,
        purge_tags=spec.purge_tags,
        inline_policies={INLINE_POLICY_NAME: None},
        adopt=spec.adopt,
        replace_trust_policy=spec.replace_trust_policy,
        report_foreign=True,
    )
    role_spec.validate()
    state = read_role_state(iam, role_spec)
    provider = read_provider(iam, spec.oidc_provider_arn, spec.issuer, required=True) if spec.uses_oidc else None

    # The account and partition of the ARNs to write: from what exists, else from the caller (who is then
    # about to create the role, so the root guard reads the identity anyway).
    if state["role"]:
        partition, account = _arn_scope(state["role"]["Arn"])
    elif provider:
        partition, account = _arn_scope(provider["arn"])
    else:
        partition, account = caller.partition, caller.account_id

    provider_plan = Plan(dict(oidc_provider=provider_view(provider)))
    if spec.uses_oidc:
        plan_oidc_provider(
            provider_plan, iam, provider, spec.oidc_provider_url, spec.issuer, spec.audience, spec.thumbprints, spec.resource_tags(),
            partition, account,
        )
    provider_arn = (provider_plan.after["oidc_provider"] or {}).get("arn")
    warnings = spec.check_cross_account(account)
    if spec.allow_any_subject:
        warnings.append(
            f"allow_any_subject=true: any workload with a token of {spec.issuer} for audience {spec.audience} can assume "
            f"role {spec.name}."
        )
    role_spec.trust_policy = spec.trust_policy(provider_arn)
    role_spec.inline_policies = {INLINE_POLICY_NAME: spec.permission_policy(partition, account)}
    role_plan = plan_role_present(iam, caller, role_spec, state)
    logs_plan = spec.log_groups_plan(logs, partition, account)

    plans = [provider_plan, role_plan, logs_plan]
    if any(plan.changed for plan in plans):
        caller.guard()
        if not check_mode:
            created = provider_plan.apply().get("oidc_provider")
            if created and wait:
                wait_for_oidc_provider(iam, created, wait_timeout)
            role = role_plan.apply().get("role")
            if role:
                created_view = role_view(role, [])
                role_plan.after["role"].update({k: created_view[k] for k in ("arn", "role_id", "create_date")})
                if wait:
                    wait_for_role(iam, spec.name, None, wait_timeout)
            logs_plan.apply()
    result = merge_results(plans, warnings=warnings)
    if spec.uses_oidc:
        result["subject_unrestricted"] = spec.allow_any_subject
    return result


def _ensure_user_present(iam, logs, caller, spec, store, check_mode, wait, wait_timeout, key_client):
    user_spec = UserSpec(
        spec.name, purge_policies=spec.purge_policies, permissions_boundary=spec.permissions_boundary, tags=spec.tags, purge_tags=spec.purge_tags,
        inline_policies={INLINE_POLICY_NAME: None}, adopt=spec.adopt, report_foreign=True,
    )
    user_spec.validate()
    keys_spec = KeySpec(state="present", store=store)
    keys_spec.validate()
    # The account of the policy's ARNs: from the user if it exists, else from the caller (a write is due).
    user = get_user(iam, spec.name)
    partition, account = _arn_scope(user["Arn"]) if user else (caller.partition, caller.account_id)
    user_spec.inline_policies = {INLINE_POLICY_NAME: spec.permission_policy(partition, account)}
    logs_plan = spec.log_groups_plan(logs, partition, account)
    if logs_plan.changed:
        caller.guard()
    # The user, its policy and its access key: exactly as agent_iam_user does it.
    result = ensure_user_present(
        iam, caller, user_spec, keys_spec, check_mode=check_mode, wait=wait, wait_timeout=wait_timeout, key_client=key_client
    )
    if logs_plan.changed and not check_mode:
        logs_plan.apply()
    return merge_results([logs_plan], result=result)


# -- absent


def ensure_exporter_absent(iam, caller, spec, store=None, check_mode=False):
    """Remove what the module created: the role (then its OIDC provider, when the collection created it
    and no other role trusts it) or the user (with its keys and the store's record). Log groups are kept:
    they hold the exported data. A role or user without the ownership tag is refused by ``iam_role``/``iam_user``."""
    spec.validate_identity()
    if spec.auth_method == "iam_user":
        user_spec = UserSpec(spec.name, inline_policies={INLINE_POLICY_NAME: None})
        return ensure_user_absent(iam, caller, user_spec, store=store, check_mode=check_mode)

    role_spec = RoleSpec(spec.name, trust_policy=None, inline_policies={INLINE_POLICY_NAME: None})
    result = ensure_role_absent(iam, caller, role_spec, check_mode=check_mode)

    # Providers to consider: the one the options name, and those the role trusted.
    before_role = result["diff"]["before"].get("role") or {}
    trusted = federated_principals(before_role.get("assume_role_policy_document"))
    providers = read_providers_to_remove(iam, trusted, spec.oidc_provider_arn, spec.issuer)
    plan = Plan(dict(oidc_provider=provider_view(providers[0]) if providers else None))
    plan_oidc_providers_absent(plan, iam, providers, spec.name)
    if plan.changed:
        caller.guard()
        if not check_mode:
            plan.apply()
    return merge_results([plan], result=result)
