# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS side of the module ``exporter_access``: the IAM OIDC provider and the CloudWatch Logs log groups.

Helpers take a client (made with ``retry_decorator=retries.jittered_backoff()``) and plain values, never
the module; every call passes ``aws_retry=True``. Readers return ``None`` for what does not exist; writers
return ``True`` when they changed something. The role and user themselves are reconciled by the shared
IAM helpers in ``iam.py``; the policy documents come from ``cloudwatch_policies.py``.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (
    AnsibleAWSError,
)
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
import functools

from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import (
    DEFAULT_AUDIENCE,
    DEFAULT_EXPORTER_DATA_TYPES,
    PolicyInputError,
    exporter_permission_policy,
    exporter_trust_policy,
    federated_principals,
    issuer_from_url,
    log_group_arn,
    log_group_names,
    parse_provider_arn,
    partition_of_region,
    validate_retention,
    validate_role_arns,
    validate_thumbprints,
)
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import KeySpec
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import get_user
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import (
    RoleSpec,
    UserSpec,
    is_owned,
    owner_tags,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_role import (
    ensure_role_absent,
    plan_role_present,
    read_role_state,
    wait_for_role,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_user import ensure_user_absent, ensure_user_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_name, validate_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_views import role_view
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan, wait_until


class AnsibleCloudWatchLogsError(AnsibleAWSError):
    pass


class CloudWatchLogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudWatchLogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


# ---------------------------------------------------------------------------------------------------
# IAM OIDC providers


@IAMErrorHandler.list_error_handler("list OIDC providers", [])
def list_oidc_provider_arns(client):
    providers = client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
    return [provider["Arn"] for provider in providers]


@IAMErrorHandler.list_error_handler("get OIDC provider")
def get_oidc_provider(client, arn):
    """The provider as ``dict(arn, url, client_ids, thumbprints, tags)``, or ``None``."""
    provider = client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
    return {
        "arn": arn,
        "url": provider.get("Url"),
        "client_ids": sorted(provider.get("ClientIDList") or []),
        "thumbprints": sorted(t.lower() for t in provider.get("ThumbprintList") or []),
        "tags": boto3_tag_list_to_ansible_dict(provider.get("Tags") or []),
    }


def find_oidc_provider(client, issuer):
    """The provider of ``issuer`` (the URL without ``https://``), or ``None``. One list call, then one get."""
    suffix = ":oidc-provider/" + issuer
    for arn in list_oidc_provider_arns(client):
        if arn.endswith(suffix):
            return get_oidc_provider(client, arn)
    return None


@IAMErrorHandler.common_error_handler("create OIDC provider")
def create_oidc_provider(client, url, client_ids, thumbprints, tags):
    """Create the provider; return its ARN."""
    params = {"Url": url, "ClientIDList": list(client_ids)}
    if thumbprints:
        params["ThumbprintList"] = list(thumbprints)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_open_id_connect_provider(aws_retry=True, **params)["OpenIDConnectProviderArn"]


@IAMErrorHandler.common_error_handler("add a client ID to OIDC provider")
def add_oidc_client_id(client, arn, client_id):
    client.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True)
    return True


@IAMErrorHandler.common_error_handler("update OIDC provider thumbprints")
def update_oidc_thumbprints(client, arn, thumbprints):
    client.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=list(thumbprints), aws_retry=True
    )
    return True


@IAMErrorHandler.deletion_error_handler("delete OIDC provider")
def delete_oidc_provider(client, arn):
    client.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
    return True


@IAMErrorHandler.list_error_handler("list roles", [])
@jittered_backoff()  # paginators bypass the client's retry wrapper
def _list_roles(client):
    paginator = client.get_paginator("list_roles")
    return paginator.paginate().build_full_result()["Roles"]


def roles_trusting(client, provider_arn, exclude=()):
    """Names of the roles whose trust policy names ``provider_arn`` as a ``Federated`` principal.

    IAM deletes an OIDC provider that roles still trust without a word (their web-identity sign-ins then
    fail), so callers ask this before deleting one. ``exclude`` lists role names to leave out. botocore
    hands trust policies over already decoded.
    """
    names = []
    for role in _list_roles(client):
        if role["RoleName"] not in exclude and provider_arn in federated_principals(role.get("AssumeRolePolicyDocument")):
            names.append(role["RoleName"])
    return sorted(names)


# ---------------------------------------------------------------------------------------------------
# CloudWatch Logs log groups


@CloudWatchLogsErrorHandler.list_error_handler("describe log group")
@jittered_backoff()  # paginators bypass the client's retry wrapper
def get_log_group(client, name):
    """The log group ``name`` as ``dict(name, arn, retention_in_days)``, or ``None``."""
    paginator = client.get_paginator("describe_log_groups")
    for page in paginator.paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return {
                    "name": name,
                    "arn": _strip_wildcard(group.get("arn", "")),
                    "retention_in_days": group.get("retentionInDays"),
                }
    return None


def _strip_wildcard(arn):
    """DescribeLogGroups returns a group's ARN with ``:*`` appended; the group's own ARN has none."""
    return arn[:-2] if arn.endswith(":*") else arn


@CloudWatchLogsErrorHandler.common_error_handler("create log group")
def create_log_group(client, name, tags=None):
    params = {"logGroupName": name}
    if tags:
        params["tags"] = dict(tags)
    client.create_log_group(aws_retry=True, **params)
    return True


@CloudWatchLogsErrorHandler.common_error_handler("set log group retention")
def put_log_group_retention(client, name, days):
    client.put_retention_policy(logGroupName=name, retentionInDays=days, aws_retry=True)
    return True


def plan_log_groups(current, names, retention_days):
    """What ``ensure_log_groups`` would do: ``(to_create, to_set_retention)`` name lists.

    ``current`` maps each name to ``get_log_group``'s answer. A group that exists is never deleted or
    recreated; only its retention is set, when ``retention_days`` is not ``None`` and differs.
    """
    to_create = [name for name in names if current.get(name) is None]
    to_retain = []
    if retention_days is not None:
        to_retain = [
            name for name in names
            if current.get(name) is None or current[name].get("retention_in_days") != retention_days
        ]
    return to_create, to_retain


def ensure_log_groups(client, names, retention_days, tags, current):
    """Create missing groups (tagged ``tags``) and set retention; return ``True`` if anything changed."""
    to_create, to_retain = plan_log_groups(current, names, retention_days)
    changed = False
    for name in to_create:
        changed |= create_log_group(client, name, tags)
    for name in to_retain:
        changed |= put_log_group_retention(client, name, retention_days)
    return changed


# ---------------------------------------------------------------------------------------------------
# The exporter's access: validation, plan, apply

AUTH_METHODS = ("iam_role", "iam_user")
INLINE_POLICY_NAME = "cloudwatch-exporter"
ROLE_DESCRIPTION = "Lets an external telemetry exporter write to CloudWatch (observability.cloudwatch.exporter_access)"


def _input_error(error):
    return AnsibleIAMError(message=str(error))


class ExporterSpec:
    """What the exporter's access should look like (the module's options, by name).

    ``validate()`` checks everything that can be checked without AWS and derives ``issuer`` (the OIDC
    issuer without ``https://``), ``log_groups`` (names) and ``partition``. ``None`` means "not managed".
    """

    def __init__(
        self,
        name,
        region,
        auth_method="iam_role",
        oidc_provider_url=None,
        oidc_provider_arn=None,
        audience=DEFAULT_AUDIENCE,
        thumbprints=None,
        service_account=None,
        trusted_role_arns=None,
        external_id=None,
        data_types=DEFAULT_EXPORTER_DATA_TYPES,
        parameter_access=True,
        log_group_names=None,
        create_log_groups=False,
        log_group_retention_days=None,
        tags=None,
        purge_tags=True,
    ):
        self.name = name
        self.region = region
        self.auth_method = auth_method
        self.oidc_provider_url = oidc_provider_url
        self.oidc_provider_arn = oidc_provider_arn
        self.audience = audience
        self.thumbprints = thumbprints
        self.service_account = service_account
        self.trusted_role_arns = trusted_role_arns
        self.external_id = external_id
        self.data_types = list(data_types) if data_types is not None else list(DEFAULT_EXPORTER_DATA_TYPES)
        self.parameter_access = parameter_access
        self.log_group_names = log_group_names
        self.create_log_groups = create_log_groups
        self.log_group_retention_days = log_group_retention_days
        self.tags = tags
        self.purge_tags = purge_tags
        self.issuer = None
        self.log_groups = []
        self.partition = None

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
        role_only = ("oidc_provider_url", "oidc_provider_arn", "thumbprints", "service_account", "trusted_role_arns", "external_id")
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
            if self.service_account and not self.uses_oidc:
                raise _input_error("service_account: only with oidc_provider_url or oidc_provider_arn")
            if self.external_id and not self.trusted_role_arns:
                raise _input_error("external_id: only with trusted_role_arns (it is a condition on sts:AssumeRole)")
            if self.oidc_provider_arn and self.thumbprints:
                raise _input_error("thumbprints: only with oidc_provider_url (an existing provider named by ARN is used as it is)")
            if self.uses_oidc and (not self.audience or len(self.audience) > 255):
                raise _input_error("audience: 1 to 255 characters")
        if self.create_log_groups and not self.log_group_names:
            raise _input_error("create_log_groups=true needs log_group_names")
        if self.log_group_retention_days is not None and not self.create_log_groups:
            raise _input_error("log_group_retention_days: only with create_log_groups=true")
        validate_tags(self.tags)
        try:
            self.thumbprints = validate_thumbprints(self.thumbprints) if self.thumbprints is not None else None
            self.trusted_role_arns = validate_role_arns(self.trusted_role_arns)
            validate_retention(self.log_group_retention_days)
            self.log_groups = log_group_names(self.log_group_names, self.region)
            # The account is not known yet: "*" checks every other input of the permission policy.
            exporter_permission_policy(self.partition, self.region, "*", self.data_types, self.parameter_access, self.log_groups)
        except PolicyInputError as e:
            raise _input_error(e) from None

    def permission_policy(self, partition, account):
        try:
            return exporter_permission_policy(
                partition, self.region, account, self.data_types, self.parameter_access, self.log_group_names
            )
        except PolicyInputError as e:  # a log group ARN of another account
            raise _input_error(e) from None

    def trust_policy(self, provider_arn):
        return exporter_trust_policy(
            provider_arn=provider_arn,
            issuer=self.issuer,
            audience=self.audience,
            service_account=self.service_account,
            trusted_role_arns=self.trusted_role_arns,
            external_id=self.external_id,
        )

    def resource_tags(self):
        """Tags for the OIDC provider and log groups the module creates."""
        return dict(self.tags or {}, **owner_tags())


def _arn_scope(arn):
    """``(partition, account)`` of an ARN."""
    parts = arn.split(":")
    return parts[1], parts[4]


def provider_view(provider):
    return None if provider is None else dict(provider)


# -- OIDC provider


def read_provider(client, spec):
    """The provider ``spec`` names (by ARN, or found by URL), or ``None``. A provider named by ARN must exist."""
    if spec.oidc_provider_arn:
        provider = get_oidc_provider(client, spec.oidc_provider_arn)
        if provider is None:
            raise _input_error(
                f"oidc_provider_arn {spec.oidc_provider_arn}: no such OIDC provider (give oidc_provider_url to create it)"
            )
        return provider
    if spec.oidc_provider_url:
        return find_oidc_provider(client, spec.issuer)
    return None


def plan_oidc_provider(plan, client, spec, provider, partition, account):
    """Create the provider, or add the audience to an existing one; thumbprints only on a provider the
    collection owns (on a shared one they could break other roles: a difference is a warning)."""
    if provider is None:
        tags = spec.resource_tags()
        plan.add(
            f"create OIDC provider {spec.oidc_provider_url} (client ID {spec.audience})",
            functools.partial(create_oidc_provider, client, spec.oidc_provider_url, [spec.audience], spec.thumbprints, tags),
            key="oidc_provider",
        )
        plan.after["oidc_provider"] = dict(
            arn=f"arn:{partition}:iam::{account}:oidc-provider/{spec.issuer}",
            url=spec.issuer,
            client_ids=[spec.audience],
            thumbprints=sorted(spec.thumbprints or []),
            tags=tags,
        )
        return
    view = plan.after["oidc_provider"]
    if spec.audience not in view["client_ids"]:
        plan.add(
            f"add client ID {spec.audience} to OIDC provider {provider['arn']}",
            functools.partial(add_oidc_client_id, client, provider["arn"], spec.audience),
        )
        view["client_ids"] = sorted(view["client_ids"] + [spec.audience])
    if spec.thumbprints and sorted(spec.thumbprints) != view["thumbprints"]:
        if is_owned(provider["tags"]):
            plan.add(
                f"set the thumbprints of OIDC provider {provider['arn']}",
                functools.partial(update_oidc_thumbprints, client, provider["arn"], spec.thumbprints),
            )
            view["thumbprints"] = sorted(spec.thumbprints)
        else:
            plan.warnings.append(
                f"OIDC provider {provider['arn']} was not created by this collection: its thumbprints were left "
                "as they are. Update them yourself if the issuer's certificate changed."
            )


# -- log groups


def read_log_groups(client, names):
    return {name: get_log_group(client, name) for name in names}


def plan_log_group_changes(plan, client, spec, current, partition, account):
    to_create, to_retain = plan_log_groups(current, spec.log_groups, spec.log_group_retention_days)
    tags = spec.resource_tags()
    views = {name: dict(group) for name, group in current.items() if group}
    for name in to_create:
        plan.add(f"create log group {name}", functools.partial(create_log_group, client, name, tags))
        views[name] = dict(
            name=name, arn=log_group_arn(partition, spec.region, account, name), retention_in_days=None
        )
    for name in to_retain:
        days = spec.log_group_retention_days
        plan.add(f"set retention of log group {name} to {days} days", functools.partial(put_log_group_retention, client, name, days))
        views[name]["retention_in_days"] = days
    plan.after["log_groups"] = [views[name] for name in spec.log_groups]


def _log_group_views(current, names):
    return [dict(current[name]) for name in names if current.get(name)]


# -- present


def ensure_exporter_present(iam, logs, caller, spec, store=None, check_mode=False, wait=True, wait_timeout=120, key_client=None):
    """Bring the exporter's role (with its OIDC provider) or user (with its key) and log groups to ``spec``.

    Every input is validated and the state read once before anything is written; the caller identity is
    read (root guard) only when a change is due, or when nothing that exists tells the account ID.
    Returns the module result.
    """
    spec.validate()
    if spec.auth_method == "iam_user":
        return _ensure_user_present(iam, logs, caller, spec, store, check_mode, wait, wait_timeout, key_client)
    return _ensure_role_present(iam, logs, caller, spec, check_mode, wait, wait_timeout)


def _log_groups_plan(logs, spec, partition, account):
    current = read_log_groups(logs, spec.log_groups) if spec.create_log_groups else {}
    plan = Plan(dict(log_groups=_log_group_views(current, spec.log_groups)))
    if spec.create_log_groups:
        plan_log_group_changes(plan, logs, spec, current, partition, account)
    return plan


def _merge(plans, result=None, warnings=()):
    """One module result from plans applied in order (``result``: a result already made by iam.py)."""
    merged = result or dict(changed=False, changes=[], diff=dict(before={}, after={}), warnings=[])
    for plan in plans:
        merged["changed"] = merged["changed"] or plan.changed
        merged["changes"] = merged["changes"] + plan.changes
        merged["diff"]["before"].update(plan.before)
        merged["diff"]["after"].update(plan.after)
        merged.update(plan.after)
        merged["warnings"] = list(merged.get("warnings") or []) + plan.warnings
    merged["warnings"] = list(merged.get("warnings") or []) + list(warnings)
    return merged


def _ensure_role_present(iam, logs, caller, spec, check_mode, wait, wait_timeout):
    role_spec = RoleSpec(
        spec.name,
        trust_policy=None,
        description=ROLE_DESCRIPTION,
        purge_policies=False,
        tags=spec.tags,
        purge_tags=spec.purge_tags,
        inline_policies={INLINE_POLICY_NAME: None},
    )
    role_spec.validate()
    state = read_role_state(iam, role_spec)
    provider = read_provider(iam, spec) if spec.uses_oidc else None

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
        plan_oidc_provider(provider_plan, iam, spec, provider, partition, account)
    provider_arn = (provider_plan.after["oidc_provider"] or {}).get("arn")
    warnings = []
    if spec.uses_oidc and not spec.service_account:
        warnings.append(
            f"No service_account: any workload with a token of {spec.issuer} for audience {spec.audience} can assume "
            f"role {spec.name}. Set service_account to the token's subject (for EKS, system:serviceaccount:NAMESPACE:NAME)."
        )
    role_spec.trust_policy = spec.trust_policy(provider_arn)
    role_spec.inline_policies = {INLINE_POLICY_NAME: spec.permission_policy(partition, account)}
    role_plan = plan_role_present(iam, caller, role_spec, state)
    role_plan.after.pop("instance_profile", None)
    role_plan.before.pop("instance_profile", None)
    logs_plan = _log_groups_plan(logs, spec, partition, account)

    plans = [provider_plan, role_plan, logs_plan]
    if any(plan.changed for plan in plans):
        caller.guard()
        if not check_mode:
            created = provider_plan.apply().get("oidc_provider")
            if created and wait:
                wait_until(lambda: get_oidc_provider(iam, created), wait_timeout, f"OIDC provider {created}")
            role = role_plan.apply().get("role")
            if role:
                created_view = role_view(role, [])
                role_plan.after["role"].update({k: created_view[k] for k in ("arn", "role_id", "create_date")})
                if wait:
                    wait_for_role(iam, spec.name, None, wait_timeout)
            logs_plan.apply()
    return _merge(plans, warnings=warnings)


def _ensure_user_present(iam, logs, caller, spec, store, check_mode, wait, wait_timeout, key_client):
    user_spec = UserSpec(
        spec.name, purge_policies=False, tags=spec.tags, purge_tags=spec.purge_tags, inline_policies={INLINE_POLICY_NAME: None}
    )
    user_spec.validate()
    keys_spec = KeySpec(state="present", store=store)
    keys_spec.validate()
    # The account of the policy's ARNs: from the user if it exists, else from the caller (a write is due).
    user = get_user(iam, spec.name)
    partition, account = _arn_scope(user["Arn"]) if user else (caller.partition, caller.account_id)
    user_spec.inline_policies = {INLINE_POLICY_NAME: spec.permission_policy(partition, account)}
    logs_plan = _log_groups_plan(logs, spec, partition, account)
    if logs_plan.changed:
        caller.guard()
    # The user, its policy and its access key: exactly as agent_iam_user does it.
    result = ensure_user_present(
        iam, caller, user_spec, keys_spec, check_mode=check_mode, wait=wait, wait_timeout=wait_timeout, key_client=key_client
    )
    if logs_plan.changed and not check_mode:
        logs_plan.apply()
    return _merge([logs_plan], result=result)


# -- absent


def ensure_exporter_absent(iam, caller, spec, store=None, check_mode=False):
    """Remove what the module created: the role (then its OIDC provider, when the collection created it
    and no other role trusts it) or the user (with its keys and the store's record). Log groups are kept:
    they hold the exported data. A role or user without the ownership tag is refused by iam.py."""
    spec.validate_identity()
    if spec.auth_method == "iam_user":
        user_spec = UserSpec(spec.name, inline_policies={INLINE_POLICY_NAME: None})
        return ensure_user_absent(iam, caller, user_spec, store=store, check_mode=check_mode)

    role_spec = RoleSpec(spec.name, trust_policy=None, inline_policies={INLINE_POLICY_NAME: None})
    result = ensure_role_absent(iam, caller, role_spec, check_mode=check_mode)
    result.pop("instance_profile", None)
    for side in ("before", "after"):
        result["diff"][side].pop("instance_profile", None)

    # Providers to consider: those the role trusted, and the one the options name.
    before_role = result["diff"]["before"].get("role") or {}
    arns = set(federated_principals(before_role.get("assume_role_policy_document")))
    providers = []
    if spec.uses_oidc:
        named = read_provider_for_absent(iam, spec)
        if named is not None:
            providers.append(named)
            arns.discard(named["arn"])
    for arn in sorted(arns):
        if ":oidc-provider/" in arn:
            found = get_oidc_provider(iam, arn)
            if found is not None:
                providers.append(found)

    plan = Plan(dict(oidc_provider=provider_view(providers[0]) if providers else None))
    for provider in providers:
        if not is_owned(provider["tags"]):
            continue  # not created by the collection: never deleted
        others = roles_trusting(iam, provider["arn"], exclude=(spec.name,))
        if others:
            plan.warnings.append(
                f"OIDC provider {provider['arn']} is kept: role{'s' if len(others) > 1 else ''} {', '.join(others)} "
                "still trust it."
            )
            continue
        plan.add(f"delete OIDC provider {provider['arn']}", functools.partial(delete_oidc_provider, iam, provider["arn"]))
        if plan.after["oidc_provider"] and plan.after["oidc_provider"]["arn"] == provider["arn"]:
            plan.after["oidc_provider"] = None
    if plan.changed:
        caller.guard()
        if not check_mode:
            plan.apply()
    return _merge([plan], result=result)


def read_provider_for_absent(client, spec):
    if spec.oidc_provider_arn:
        return get_oidc_provider(client, spec.oidc_provider_arn)
    return find_oidc_provider(client, spec.issuer)
