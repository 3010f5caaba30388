# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every identity policy the collection writes, linted by parliament (duo-labs' IAM policy linter, with its
community auditors): no finding above LOW, and none at all where the log groups are named.

parliament rates ``Resource: "*"`` on an action IAM can scope (RESOURCE_STAR) as LOW, so "nothing above LOW"
alone lets a log write on ``*`` through; the narrow forms are held to "no finding at all", and
``tests/tools/iam_eval.py`` decides what each identity may do.

Trust policies are not linted: parliament reads every document as an identity policy, so it reports each trust
statement as MALFORMED (HIGH, "neither Resource nor NotResource", which a trust policy never has) and stops
there, before actions and conditions, and it knows no IAM OIDC provider as a federated principal
(UNKNOWN_FEDERATION_SOURCE). ``test_trust_policies_are_beyond_the_linter`` keeps that decision honest.
"""

import datetime
import json
import os
import re
import warnings

import pytest
from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_policy import cloudwatch_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils import admin_grant, agent_identity, duty_policies, exporter_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_policy import scoped_agent_policy

with warnings.catch_warnings():
    # parliament finds its IAM catalogue with pkg_resources, which warns that it is deprecated.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import parliament

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
ABOVE_LOW = SEVERITIES[SEVERITIES.index("LOW") + 1:]
EXPORTER_DATA_TYPES = [["logs"], ["traces"], ["metrics"], ["logs", "traces"], ["logs", "traces", "metrics"]]
LOG_GROUPS = ["/app/api", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/web:*"]
MOMENT = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)

# The community auditors (privilege escalation, permissions management, credentials exposure) rate their
# findings in a file of their own; the command line loads it with --include-community-auditors.
parliament.override_config(os.path.join(os.path.dirname(parliament.__file__), "community_auditors", "config_override.yaml"))

_ACCOUNT_LOG_GROUPS = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:\*$")


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": [dict({"Effect": "Allow"}, **s) for s in statements]}


def _granted_only_on_account_log_groups(policy, action):
    """Every statement granting ``action`` names only ``arn:PARTITION:logs:REGION:ACCOUNT:log-group:*``."""
    granting = [s for s in policy["Statement"] if action in _as_list(s["Action"])]
    return bool(granting) and all(_ACCOUNT_LOG_GROUPS.match(r) for s in granting for r in _as_list(s["Resource"]))


def _as_list(value):
    return [value] if isinstance(value, str) else value


# Findings parliament gets wrong, each for one issue and one action: the reason, when it applies, and a policy
# parliament reports it on (so that the allowance goes when its catalogue learns better).
ALLOWED = {
    ("RESOURCE_MISMATCH", "logs:DescribeLogGroups"): {
        "reason": "IAM authorizes DescribeLogGroups against arn:PARTITION:logs:REGION:ACCOUNT:log-group::log-stream: "
        "although the catalogue lists no resource type for it: a grant on the account's and region's log-group:* "
        "works and is narrower than *. A specific log group would not match, so only that form is allowed.",
        "applies": lambda policy: _granted_only_on_account_log_groups(policy, "logs:DescribeLogGroups"),
        "example": _policy({"Action": ["logs:DescribeLogGroups"], "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}),
    },
}


def _actions_of(finding):
    """The actions a finding names (RESOURCE_MISMATCH lists them in its detail), or ``None``."""
    if isinstance(finding.detail, list) and all(isinstance(item, dict) and "action" in item for item in finding.detail):
        return [item["action"] for item in finding.detail]
    return None


def _allowed(finding, policy):
    actions = _actions_of(finding)
    return bool(actions) and all(
        (finding.issue, action) in ALLOWED and ALLOWED[(finding.issue, action)]["applies"](policy) for action in actions
    )


def lint(policy):
    """parliament's findings on ``policy`` (rated), less the ones ``ALLOWED`` explains, with the text it read."""
    text = json.dumps(policy, indent=2)
    # The community auditors judge what a policy allows; on a deny of "*" they expand all of IAM, four times
    # (seconds per policy) to find that it allows nothing.
    allows = any(s["Effect"] == "Allow" for s in policy["Statement"])
    result = parliament.analyze_policy_string(text, ignore_private_auditors=True, include_community_auditors=allows)
    findings = [parliament.enhance_finding(f) for f in result.findings]
    unknown = [f for f in findings if f.severity not in SEVERITIES]
    assert not unknown, f"severities this test does not rank: {unknown}"
    return [f for f in findings if not _allowed(f, policy)], text


def describe(name, findings, text):
    """One line per finding: policy, severity, issue, detail and the statement it is in."""
    lines = text.splitlines()
    described = []
    for f in findings:
        where = {k: v for k, v in f.location.items() if k != "filepath"}
        line = where.get("line") or where.get("lineno")
        if line:
            sid = next((m.group(1) for m in (re.search(r'"Sid": "([^"]*)"', t) for t in lines[line - 1:]) if m), None)
            where["statement"] = sid
        described.append(f"{name}: {f.severity} {f.issue} {f.title} | {f.detail} | at {where}")
    return "\n".join(described)


# --- what the collection writes ------------------------------------------------------------------


def _duty_policies():
    scopes = {"scoped": dict(region=REGION, account_id=ACCOUNT), "unscoped": {}}
    for duty in duty_policies.DUTIES:
        for scope, kwargs in scopes.items():
            yield f"cloudwatch_policy {duty}, log groups, {scope}", True, cloudwatch_policy(duty, log_groups=LOG_GROUPS[:1], **kwargs)
            if duty != "write_logs":  # it requires log groups
                yield f"cloudwatch_policy {duty}, no log groups, {scope}", False, cloudwatch_policy(duty, **kwargs)
    yield "cloudwatch_policy every duty, namespaces", True, cloudwatch_policy(
        list(duty_policies.DUTIES), log_groups=LOG_GROUPS, region=REGION, account_id=ACCOUNT, namespaces=["MyApp", "Other"]
    )
    yield "cloudwatch_policy agent_admin, aws-cn", True, cloudwatch_policy(
        "agent_admin", log_groups=["/app/api"], region="cn-north-1", account_id=ACCOUNT, partition="aws-cn", namespaces=["MyApp"]
    )


def _exporter_policies():
    for data_types in EXPORTER_DATA_TYPES:
        for parameter_access in (True, False):
            label = f"exporter {'+'.join(data_types)}, parameters {'on' if parameter_access else 'off'}"
            yield label + ", log groups", True, exporter_policies.exporter_permission_policy(
                "aws", REGION, ACCOUNT, data_types, parameter_access=parameter_access, log_groups=LOG_GROUPS
            )
            if "logs" in data_types:
                yield label + ", log group prefix", True, exporter_policies.exporter_permission_policy(
                    "aws", REGION, ACCOUNT, data_types, parameter_access=parameter_access, log_group_prefix="/app/"
                )
                yield label + ", all log groups", True, exporter_policies.exporter_permission_policy(
                    "aws", REGION, ACCOUNT, data_types, parameter_access=parameter_access, allow_all_log_groups=True
                )
            if "metrics" in data_types:
                yield label + ", log groups, namespaces", True, exporter_policies.exporter_permission_policy(
                    "aws", REGION, ACCOUNT, data_types, parameter_access=parameter_access, log_groups=LOG_GROUPS,
                    metric_namespaces=["MyApp", "Db/*"],
                )
    yield "exporter logs, aws-us-gov, log groups", True, exporter_policies.exporter_permission_policy(
        "aws-us-gov", "us-gov-west-1", ACCOUNT, ["logs"], log_groups=["/app/api"]
    )


def _admin_grant_policies():
    yield "admin grant expiry", True, admin_grant.expiry_policy(MOMENT)
    yield "admin grant revocation", True, admin_grant.revoke_policy(MOMENT)


def _agent_scoped_policies():
    logs = {"logs_collected": {"files": {"collect_list": [
        {"file_path": "/var/log/syslog", "log_group_name": "/ec2/syslog", "retention_in_days": 30},
        {"file_path": "/var/log/app.log", "log_group_name": "/app/{instance_id}"},
    ]}}}
    metrics = {"namespace": "Fleet", "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}
    yield "agent scoped, metrics and logs", True, scoped_agent_policy(
        [("AmazonCloudWatch-linux", {"metrics": metrics, "logs": logs})], "aws", ACCOUNT, [REGION]
    )
    yield "agent scoped, two configurations with traces, two regions", True, scoped_agent_policy(
        [("AmazonCloudWatch-linux", {"logs": logs}), ("AmazonCloudWatch-traces", {"traces": {"traces_collected": {"xray": {}}}})],
        "aws", ACCOUNT, [REGION, "us-east-1"],
    )


def generated_policies():
    """(name, narrow, policy): ``narrow`` when every action IAM can scope is scoped."""
    return [*_duty_policies(), *_exporter_policies(), *_admin_grant_policies(), *_agent_scoped_policies()]


GENERATED = generated_policies()
NARROW = [(name, policy) for name, narrow, policy in GENERATED if narrow]


@pytest.mark.parametrize("name, policy", [(name, policy) for name, _narrow, policy in GENERATED], ids=[g[0] for g in GENERATED])
def test_no_finding_above_low(name, policy):
    findings, text = lint(policy)
    above = [f for f in findings if f.severity in ABOVE_LOW]
    assert not above, "parliament reports above LOW:\n" + describe(name, above, text)


@pytest.mark.parametrize("name, policy", NARROW, ids=[n for n, _p in NARROW])
def test_narrow_policies_have_no_finding_at_all(name, policy):
    findings, text = lint(policy)
    assert not findings, "parliament reports:\n" + describe(name, findings, text)


def test_every_kind_of_policy_is_linted():
    names = [name for name, _narrow, _policy in GENERATED]
    others = ["exporter logs", "exporter traces", "exporter metrics", "admin grant", "agent scoped"]
    for kind in ["cloudwatch_policy " + duty for duty in duty_policies.DUTIES] + others:
        assert any(name.startswith(kind) for name in names), kind
    assert len(names) == len(set(names))


# --- the linter itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, issue",
    [
        (_policy({"Action": "iam:PassRole", "Resource": "*"}), "PERMISSIONS_MANAGEMENT_ACTIONS"),
        (_policy({"Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}), "PRIVILEGE_ESCALATION"),
        (_policy({"Action": "logs:PutRetentionPolicy", "Resource": "arn:aws:s3:::bucket"}), "RESOURCE_MISMATCH"),
        (
            _policy({"Action": "cloudwatch:PutMetricData", "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespaces": "MyApp"}}}),
            "UNKNOWN_CONDITION_FOR_ACTION",
        ),
        # The allowance for DescribeLogGroups covers the account's log groups only, not one of them.
        (_policy({"Action": ["logs:DescribeLogGroups"], "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:*"}), "RESOURCE_MISMATCH"),
    ],
    ids=["PassRole on *", "PassRole and RunInstances", "log action on a bucket", "unknown condition key", "DescribeLogGroups on one group"],
)
def test_a_bad_policy_is_reported_above_low(policy, issue):
    findings, _text = lint(policy)
    assert issue in {f.issue for f in findings if f.severity in ABOVE_LOW}


def test_a_log_write_on_star_fails_the_narrow_check():
    findings, _text = lint(_policy({"Sid": "Retention", "Action": ["logs:PutRetentionPolicy"], "Resource": "*"}))
    assert [(f.issue, f.severity) for f in findings] == [("RESOURCE_STAR", "LOW")]


@pytest.mark.parametrize("issue, action", sorted(ALLOWED))
def test_each_allowance_is_still_needed(issue, action):
    example = ALLOWED[(issue, action)]["example"]
    raw = parliament.analyze_policy_string(json.dumps(example), ignore_private_auditors=True, include_community_auditors=True).findings
    assert (issue, [action]) in [(f.issue, _actions_of(f)) for f in raw]
    assert lint(example)[0] == []


def test_trust_policies_are_beyond_the_linter():
    trusts = [
        agent_identity.EC2_TRUST_POLICY,
        exporter_policies.exporter_trust_policy(
            f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABC", service_account="system:serviceaccount:obs:exporter"
        ),
        exporter_policies.exporter_trust_policy(trusted_role_arns=["arn:aws:iam::210987654321:role/exporter"], external_id="customer-42"),
    ]
    found = [{(f.issue, f.detail) for f in lint(trust)[0]} for trust in trusts]
    assert all(("MALFORMED", "Statement contains neither Resource nor NotResource") in issues for issues in found)
    assert ("UNKNOWN_FEDERATION_SOURCE", trusts[1]["Statement"][0]["Principal"]["Federated"]) in found[1]
