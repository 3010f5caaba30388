# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The policy documents of the module ``exporter_access``: pure functions, no AWS calls.

- ``exporter_permission_policy``: an external exporter writing logs, traces and metrics into CloudWatch.
- ``exporter_trust_policy``: who may assume the exporter's role (an OIDC provider, roles of another account).
- Validation of what the trust policy is built from: OIDC issuer URLs and provider ARNs, role ARNs,
  thumbprints; ``federated_principals`` reads the providers a trust policy names.

Every function raises ``PolicyInputError`` (a ``ValueError``) with a message naming the bad value.
"""

import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import (
    LOG_GROUP_WRITE_ACTIONS, LOG_LIST_ACTIONS, LOG_STREAM_WRITE_ACTIONS, METRIC_WRITE_ACTIONS, TRACE_ACTIONS,
    PolicyInputError, log_group_arn, log_group_names, log_group_resources, log_groups_of_region, metric_namespace_condition,
    parameter_arn, policy_document, statement, validate_log_group_prefix, validate_metric_namespaces, validate_scope,
)

DEFAULT_AUDIENCE = "sts.amazonaws.com"

EXPORTER_DATA_TYPES = ("logs", "traces", "metrics")
DEFAULT_EXPORTER_DATA_TYPES = ("logs", "traces")

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_PROVIDER_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):oidc-provider/(?P<issuer>[^\s]+)$")
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
# What IAM accepts as sts:ExternalId, and an AWS Organizations ID.
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
# A Kubernetes service account as an EKS token names it; namespace and name are DNS-1123 labels.
_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_SERVICE_ACCOUNT = re.compile(rf"^system:serviceaccount:{_DNS_LABEL}:{_DNS_LABEL}$")
# Issuers whose tokens any of their many tenants can get for any audience: a role trusting one of them without a
# subject trusts all of them.
MULTI_TENANT_ISSUERS = ("token.actions.githubusercontent.com", "gitlab.com", "app.terraform.io")
_ISSUER = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[^\s?#]*)?$")


def exporter_permission_policy(partition, region, account, data_types=DEFAULT_EXPORTER_DATA_TYPES,
                               parameter_access=False, log_groups=None, log_group_prefix=None,
                               allow_all_log_groups=False, metric_namespaces=None):
    """The identity policy of an exporter writing ``data_types`` into CloudWatch in ``region``.

    Logs go to the groups of ``log_groups`` (names or ARNs of this region: they alone get ``CreateLogGroup``
    and ``PutRetentionPolicy``), the groups whose name starts with ``log_group_prefix`` (streams only), or,
    with ``allow_all_log_groups``, the streams of every group of the account and region; never to ``*``.
    ``metric_namespaces`` limits ``PutMetricData`` to those namespaces. ``parameter_access`` adds
    ``ssm:GetParameters`` on the account's and region's ``AmazonCloudWatch-*`` parameters.
    """
    validate_scope(partition, region, account)
    data_types = list(data_types or [])
    unknown = sorted(set(data_types) - set(EXPORTER_DATA_TYPES))
    if unknown:
        raise PolicyInputError(f"data_types {unknown}: expected some of {', '.join(EXPORTER_DATA_TYPES)}")
    if not data_types:
        raise PolicyInputError("data_types is empty: an exporter writes at least one of logs, traces, metrics")
    names = log_group_names(log_groups, region, account)
    validate_log_group_prefix(log_group_prefix)
    namespaces = validate_metric_namespaces(metric_namespaces)
    _check_scopes(data_types, names, log_group_prefix, allow_all_log_groups, namespaces)

    statements = []
    if "logs" in data_types:
        statements += _log_statements(partition, region, account, names, log_group_prefix, allow_all_log_groups)
    if "traces" in data_types:
        statements.append(statement("ExporterWriteTraces", TRACE_ACTIONS, ["*"]))
    if "metrics" in data_types:
        statements.append(statement("ExporterWriteMetrics", METRIC_WRITE_ACTIONS, ["*"], metric_namespace_condition(namespaces)))
    if parameter_access:
        statements.append(
            statement("ExporterReadParameters", ["ssm:GetParameters"], [parameter_arn(partition, region, account)])
        )
    return policy_document(statements)


def _check_scopes(data_types, names, prefix, allow_all, namespaces):
    if "logs" not in data_types:
        given = [option for option, value in (("log_group_prefix", prefix), ("allow_all_log_groups", allow_all)) if value]
        if given:
            raise PolicyInputError(f"{', '.join(given)}: only with logs in data_types")
    elif not (names or prefix or allow_all):
        raise PolicyInputError(
            "data_types has logs but no log group is named: a policy writing to every log group would let its holder "
            "forge entries in, or shorten the retention of, any log group of the account, CloudTrail's included. "
            "Set log_group_names (the groups the exporter writes to), or log_group_prefix (the groups whose name "
            "starts with it), or, knowing the risk, allow_all_log_groups=true. Nothing was changed."
        )
    if namespaces is not None and "metrics" not in data_types:
        raise PolicyInputError("metric_namespaces: only with metrics in data_types")


def all_log_groups_warning(name, region):
    return f"allow_all_log_groups=true: {name} can write entries in every log group of {region}, CloudTrail's included."


def _log_statements(partition, region, account, names, prefix, allow_all):
    """The log statements: create and retention on named groups only; streams in the named, prefixed or all groups."""
    every_group = log_groups_of_region(partition, region, account)
    statements = [statement("ExporterListLogGroups", LOG_LIST_ACTIONS, [every_group])]
    if names:
        groups, streams = log_group_resources([log_group_arn(partition, region, account, n) for n in names])
        statements += [
            statement("ExporterWriteLogGroups", LOG_GROUP_WRITE_ACTIONS, groups),
            statement("ExporterWriteLogStreams", LOG_STREAM_WRITE_ACTIONS, streams),
        ]
    for sid, group in (("Prefix", prefix and log_group_arn(partition, region, account, prefix + "*")), ("All", allow_all and every_group)):
        if group:
            statements += [
                statement(f"Exporter{sid}DescribeLogStreams", ["logs:DescribeLogStreams"], [group]),
                statement(f"Exporter{sid}WriteLogStreams", LOG_STREAM_WRITE_ACTIONS, [group + ":log-stream:*"]),
            ]
    return statements


# ---------------------------------------------------------------------------------------------------
# OIDC issuers and the exporter's trust policy


def issuer_from_url(url):
    """The issuer as IAM names it in provider ARNs and condition keys: the URL without ``https://``.

    The path is kept (``oidc.eks.us-east-1.amazonaws.com/id/ABC``); the host is lower-cased and a trailing
    ``/`` dropped, as IAM does.
    """
    if not isinstance(url, str) or not url.startswith("https://"):
        raise PolicyInputError(f"oidc_provider_url {url!r}: expected https://HOST[/PATH]")
    rest = url[len("https://"):].rstrip("/")
    host, sep, path = rest.partition("/")
    issuer = host.lower() + sep + path
    if not host or not _ISSUER.match(issuer) or len(url) > 255:
        raise PolicyInputError(
            f"oidc_provider_url {url!r}: expected https://HOST[/PATH], at most 255 characters, "
            "without query or fragment"
        )
    return issuer


def parse_provider_arn(arn):
    """``dict(partition, account, issuer)`` of an IAM OIDC provider ARN."""
    match = _PROVIDER_ARN.match(arn or "") if isinstance(arn, str) else None
    if not match:
        raise PolicyInputError(
            f"OIDC provider ARN {arn!r}: expected arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH]"
        )
    return match.groupdict()


def validate_thumbprints(thumbprints):
    thumbprints = list(thumbprints or [])
    for thumbprint in thumbprints:
        if not isinstance(thumbprint, str) or not _THUMBPRINT.match(thumbprint):
            raise PolicyInputError(
                f"thumbprint {thumbprint!r}: expected the 40 hexadecimal digits of a SHA-1 certificate fingerprint"
            )
    if len(thumbprints) > 5:
        raise PolicyInputError(f"thumbprints: IAM keeps at most 5 per OIDC provider, got {len(thumbprints)}")
    return [t.lower() for t in thumbprints]


def validate_role_arns(arns):
    for arn in arns or []:
        if not isinstance(arn, str) or not _ROLE_ARN.match(arn):
            raise PolicyInputError(f"trusted_role_arns: {arn!r} is not a role ARN; expected arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME")
    return list(dict.fromkeys(arns or []))


def validate_external_id(external_id):
    if external_id is not None and not _EXTERNAL_ID.match(external_id):
        raise PolicyInputError("external_id: 2 to 1,224 letters, digits or _+=,.@:/- (what IAM accepts for sts:ExternalId)")
    return external_id


def validate_org_id(org_id):
    if org_id is not None and not _ORG_ID.match(org_id):
        raise PolicyInputError(f"principal_org_id: {org_id!r} is not an AWS Organizations ID; expected o- and 10 to 32 lowercase letters or digits")
    return org_id


def validate_service_account(service_account):
    if service_account is not None and not _SERVICE_ACCOUNT.match(service_account):
        raise PolicyInputError(
            f"service_account: {service_account!r} is not system:serviceaccount:NAMESPACE:NAME, each a DNS-1123 label "
            "(1 to 63 lowercase letters, digits or -, starting and ending with a letter or digit)"
        )
    return service_account


def validate_subject(subject):
    if subject is not None and (not subject.strip() or subject.strip() in ("*", "**") or len(subject) > 1000):
        raise PolicyInputError(
            f"subject: {subject!r} names nobody; give the token's sub (a wildcard * or ? only inside it), at most 1,000 characters"
        )
    return subject


def require_subject(role_name, issuer, audience, service_account=None, subject=None, allow_any_subject=False):
    """An OIDC trust names whose tokens it takes: a role trusting an issuer's whole audience trusts every workload,
    or every tenant, that issuer mints tokens for. Raises ``PolicyInputError`` explaining the risk."""
    if service_account and subject:
        raise PolicyInputError("service_account and subject: give one (service_account is the EKS form of subject)")
    validate_service_account(service_account)
    validate_subject(subject)
    named = service_account or subject
    if named and allow_any_subject:
        raise PolicyInputError("allow_any_subject: only without service_account or subject")
    if named:
        return
    host = issuer.split("/", 1)[0]
    if host in MULTI_TENANT_ISSUERS:
        raise PolicyInputError(
            f"{host} issues tokens to all of its users: a role trusting it without a subject can be assumed by any of "
            "them, so allow_any_subject is refused for it. Set subject to your repository's or workspace's sub "
            "(a wildcard * only inside it). Nothing was changed."
        )
    if not allow_any_subject:
        raise PolicyInputError(
            "an OIDC trust needs the token's subject: without service_account (for EKS, "
            f"system:serviceaccount:NAMESPACE:NAME) or subject, any workload holding a token of {issuer} for "
            f"audience {audience} could assume role {role_name}. Set one, or, for an issuer that mints an "
            "audience per customer, allow_any_subject=true. Nothing was changed."
        )


def cross_account_refusal(role_name, account, others):
    """The message refusing ``others``, roles of another account than ``account``, trusted with no external id."""
    return (
        f"trusted_role_arns: {', '.join(others)} {'is' if len(others) == 1 else 'are'} in another account than role "
        f"{role_name} ({account}). A service of another account acting for many customers must be told apart by an "
        "external id, or any of its customers could use this role (the confused deputy). Set external_id to the one "
        "the exporter's owner gives you, or principal_org_id to your AWS Organization, or, knowing the risk, "
        "allow_cross_account_without_external_id=true. Nothing was changed."
    )


def other_account_roles(trusted_role_arns, account):
    """The role ARNs of ``trusted_role_arns`` that are not in ``account``."""
    return [arn for arn in trusted_role_arns or [] if arn.split(":")[4] != account]


def exporter_trust_policy(provider_arn=None, issuer=None, audience=DEFAULT_AUDIENCE, service_account=None,
                          trusted_role_arns=None, external_id=None, principal_org_id=None, subject=None):
    """The trust policy of the exporter's role.

    - With ``provider_arn`` (and its ``issuer``): the provider as ``Federated`` principal with
      ``sts:AssumeRoleWithWebIdentity``, on condition that the token's ``aud`` is ``audience`` and, when
      ``service_account`` (or ``subject``) is given, its ``sub`` is that (``StringLike`` for a subject holding
      a wildcard).
    - With ``trusted_role_arns``: those roles as ``AWS`` principals with ``sts:AssumeRole``, on condition of
      ``sts:ExternalId`` when ``external_id`` is given, and of ``aws:PrincipalOrgID`` when ``principal_org_id`` is.
    """
    statements = []
    if provider_arn:
        if not issuer:
            issuer = parse_provider_arn(provider_arn)["issuer"]
        if not audience:
            raise PolicyInputError("audience is empty: the trust policy needs the token's audience")
        condition = {"StringEquals": {f"{issuer}:aud": audience}}
        sub = service_account or subject
        if sub:
            operator = "StringLike" if ("*" in sub or "?" in sub) else "StringEquals"
            condition.setdefault(operator, {})[f"{issuer}:sub"] = sub
        statements.append(
            {
                "Sid": "ExporterWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    arns = validate_role_arns(trusted_role_arns)
    if arns:
        trusted = {
            "Sid": "ExporterTrustedRoles",
            "Effect": "Allow",
            "Principal": {"AWS": arns[0] if len(arns) == 1 else sorted(arns)},
            "Action": "sts:AssumeRole",
        }
        condition = {}
        if external_id:
            condition["sts:ExternalId"] = external_id
        if principal_org_id:
            condition["aws:PrincipalOrgID"] = principal_org_id
        if condition:
            trusted["Condition"] = {"StringEquals": condition}
        statements.append(trusted)
    if not statements:
        raise PolicyInputError(
            "nobody could assume the role: give an OIDC provider (oidc_provider_url or oidc_provider_arn) "
            "or trusted_role_arns"
        )
    return policy_document(statements)


def federated_principals(trust_policy):
    """The ``Federated`` principals of a trust policy (a dict), as a set of strings."""
    found = set()
    statements = (trust_policy or {}).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for item in statements:
        principal = item.get("Principal") if isinstance(item, dict) else None
        if not isinstance(principal, dict):
            continue
        federated = principal.get("Federated", [])
        found.update([federated] if isinstance(federated, str) else federated)
    return found
