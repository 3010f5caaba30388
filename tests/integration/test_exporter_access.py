# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.exporter_access against the moto server."""

import json
import stat
from pathlib import Path

import iam_eval  # from tests/tools (pytest.ini pythonpath)
import local_aws

MODULE = "observability.cloudwatch.exporter_access"
PLAYBOOK = Path(__file__).parent / "playbooks" / "exporter_access.yml"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
URL = "https://" + ISSUER
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
SUBJECT = "system:serviceaccount:exporter:otel-collector"
OWNER = {"managed-by": "observability.cloudwatch"}
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
PREFIX = "/managed-db/"
LOG_ACTIONS_GROUP = ["logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:PutRetentionPolicy"]
LOG_ACTIONS_STREAM = ["logs:CreateLogStream", "logs:PutLogEvents"]
TRACE_ACTIONS = [
    "xray:GetSamplingRules",
    "xray:GetSamplingStatisticSummaries",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
]
# What a role run with an OIDC provider reads when nothing changes (the module's notes promise it).
ROLE_READS = {
    "GetRole": 1, "GetRolePolicy": 1, "ListAttachedRolePolicies": 1, "ListRolePolicies": 1, "ListOpenIDConnectProviders": 1,
    "GetOpenIDConnectProvider": 1,
}
WRITES = {
    "CreateOpenIDConnectProvider",
    "CreateRole",
    "PutRolePolicy",
    "UpdateAssumeRolePolicy",
    "TagRole",
    "CreateLogGroup",
    "PutRetentionPolicy",
}


def operations(calls):
    return [call["operation"] for call in calls]


def by_sid(policy):
    """The statements of a policy by Sid, with single values normalised to lists for comparison."""
    statements = {}
    for item in policy["Statement"]:
        item = dict(item)
        for key in ("Action", "Resource"):
            if isinstance(item.get(key), str):
                item[key] = [item[key]]
            if key in item:
                item[key] = sorted(item[key])
        statements[item.pop("Sid")] = item
    return statements


def role_policy(iam, role):
    return iam.get_role_policy(RoleName=role, PolicyName="cloudwatch-exporter")["PolicyDocument"]


def seed_policy(names=(), prefix=None, metrics=False, namespaces=None):
    """The permission policy an exporter gets, statement by statement (as ``by_sid`` returns it)."""
    policy = {
        "ExporterListLogGroups": {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": [LOGS + "*"]},
        "ExporterWriteTraces": {"Effect": "Allow", "Action": TRACE_ACTIONS, "Resource": ["*"]},
    }
    if names:
        streams = sorted(LOGS + name + ":*" for name in names)
        groups = sorted([LOGS + name for name in names] + streams)
        policy["ExporterWriteLogGroups"] = {"Effect": "Allow", "Action": LOG_ACTIONS_GROUP, "Resource": groups}
        policy["ExporterWriteLogStreams"] = {"Effect": "Allow", "Action": LOG_ACTIONS_STREAM, "Resource": streams}
    if prefix:
        policy["ExporterPrefixDescribeLogStreams"] = {"Effect": "Allow", "Action": ["logs:DescribeLogStreams"], "Resource": [LOGS + prefix + "*"]}
        policy["ExporterPrefixWriteLogStreams"] = {"Effect": "Allow", "Action": LOG_ACTIONS_STREAM, "Resource": [LOGS + prefix + "*:log-stream:*"]}
    if metrics:
        policy["ExporterWriteMetrics"] = {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": ["*"]}
        if namespaces:
            policy["ExporterWriteMetrics"]["Condition"] = {"StringEquals": {"cloudwatch:namespace": namespaces}}
    return policy


def oidc_args(**extra):
    """An OIDC exporter's arguments; its logs go under PREFIX unless ``extra`` says where."""
    scope = {} if {"log_group_names", "log_group_prefix", "allow_all_log_groups"} & set(extra) else {"log_group_prefix": PREFIX}
    return dict({"name": "exporter", "oidc_provider_url": URL, "service_account": SUBJECT}, **scope, **extra)


def test_role_four_step_drill(aws, ansible):
    iam = aws.client("iam")
    args = oidc_args(tags={"team": "db"})

    with aws.record() as calls:
        check = ansible.module(MODULE, args, check=True)
    assert check["changed"] is True
    assert check["role"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/exporter"
    assert check["oidc_provider"]["arn"] == PROVIDER_ARN
    assert iam.list_roles()["Roles"] == [] and iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert not WRITES & set(operations(calls))
    assert local_aws.operation_counts(calls) == {"GetRole": 1, "ListOpenIDConnectProviders": 1, "GetCallerIdentity": 1}

    with aws.record() as calls:
        created = ansible.module(MODULE, args)
    assert created["changed"] is True
    assert local_aws.operation_counts(calls) == {
        "GetRole": 2,  # the read, then the wait until IAM serves the new role
        "ListOpenIDConnectProviders": 1,
        "GetCallerIdentity": 1,
        "CreateOpenIDConnectProvider": 1,
        "GetOpenIDConnectProvider": 1,  # the wait until IAM serves the new provider
        "CreateRole": 1,
        "PutRolePolicy": 1,
    }

    role = iam.get_role(RoleName="exporter")["Role"]
    assert created["role"]["arn"] == role["Arn"] == check["role"]["arn"]
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == dict(OWNER, team="db")
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Version"] == "2012-10-17"
    assert trust["Statement"] == [
        {
            "Sid": "ExporterWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": SUBJECT}},
        }
    ]
    assert by_sid(role_policy(iam, "exporter")) == seed_policy(prefix=PREFIX)
    assert created["log_groups_unrestricted"] is False
    assert iam.list_attached_role_policies(RoleName="exporter")["AttachedPolicies"] == []
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert {t["Key"]: t["Value"] for t in provider["Tags"]} == dict(OWNER, team="db")
    assert created["oidc_provider"]["arn"] == PROVIDER_ARN
    assert not any("service_account" in w for w in created.get("warnings", []))

    for check_mode in (True, False):
        with aws.record() as calls:
            again = ansible.module(MODULE, args, check=check_mode)
        assert again["changed"] is False
        assert again["changes"] == []
        assert "GetCallerIdentity" not in operations(calls), "a run that changes nothing does not read the identity"
        assert not WRITES & set(operations(calls))
        assert local_aws.operation_counts(calls) == ROLE_READS
    assert again["role"]["arn"] == created["role"]["arn"]


def test_naming_log_groups_instead_of_a_prefix_changes_only_the_policy(aws, ansible):
    iam = aws.client("iam")
    ansible.module(MODULE, oidc_args())
    trust_before = iam.get_role(RoleName="exporter")["Role"]["AssumeRolePolicyDocument"]
    groups = ["/managed-db/prod", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/managed-db/audit:*"]

    with aws.record() as calls:
        narrowed = ansible.module(MODULE, oidc_args(log_group_names=groups), diff=True)
    assert narrowed["changed"] is True
    assert narrowed["changes"] == ["put inline policy cloudwatch-exporter on role exporter"]
    assert WRITES & set(operations(calls)) == {"PutRolePolicy"}
    assert local_aws.operation_counts(calls) == dict(ROLE_READS, GetCallerIdentity=1, PutRolePolicy=1)
    assert iam.get_role(RoleName="exporter")["Role"]["AssumeRolePolicyDocument"] == trust_before
    assert by_sid(role_policy(iam, "exporter")) == seed_policy(names=["/managed-db/prod", "/managed-db/audit"])
    before = narrowed["diff"]["before"]["role"]["inline_policies"]["cloudwatch-exporter"]
    after = narrowed["diff"]["after"]["role"]["inline_policies"]["cloudwatch-exporter"]
    assert by_sid(before) == seed_policy(prefix=PREFIX) and by_sid(after) == by_sid(role_policy(iam, "exporter"))
    assert aws.client("logs").describe_log_groups()["logGroups"] == [], "log groups are created only on request"

    assert ansible.module(MODULE, oidc_args(log_group_names=groups))["changed"] is False


def test_trusted_roles_with_external_id_and_metrics(aws, ansible):
    iam = aws.client("iam")
    vendor = ["arn:aws:iam::210987654321:role/shipper", "arn:aws:iam::210987654321:role/shipper-eu"]
    args = {"name": "vendor", "trusted_role_arns": vendor, "external_id": "tenant-42", "data_types": ["logs", "traces", "metrics"],
            "log_group_names": ["/vendor"], "metric_namespaces": ["Vendor/Telemetry"]}
    result = ansible.module(MODULE, args)
    assert result["oidc_provider"] is None
    trust = iam.get_role(RoleName="vendor")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Sid": "ExporterTrustedRoles",
            "Effect": "Allow",
            "Principal": {"AWS": vendor},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "tenant-42"}},
        }
    ]
    assert by_sid(role_policy(iam, "vendor")) == seed_policy(names=["/vendor"], metrics=True, namespaces="Vendor/Telemetry")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert ansible.module(MODULE, args)["changed"] is False


def test_a_role_of_another_account_without_an_external_id_is_refused_and_nothing_written(aws, ansible, iam_snapshot):
    """The confused deputy: a vendor's role trusted without an external id would let any of its customers in."""
    vendor = ["arn:aws:iam::210987654321:role/shipper"]
    before = iam_snapshot()
    refused = ansible.module(MODULE, {"name": "vendor", "trusted_role_arns": vendor, "data_types": ["traces"]}, expect_failure=True)
    assert "is in another account than role vendor" in refused["msg"] and "external_id" in refused["msg"]
    assert iam_snapshot() == before

    waived = ansible.module(MODULE, {"name": "vendor", "trusted_role_arns": vendor, "allow_cross_account_without_external_id": True,
                                     "data_types": ["traces"]})
    assert any("without an external id" in w for w in waived["warnings"])
    organization = ansible.module(MODULE, {"name": "vendor", "trusted_role_arns": vendor, "principal_org_id": "o-abcdefghij", "data_types": ["traces"]})
    assert organization["changed"] is True
    trust = aws.client("iam").get_role(RoleName="vendor")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_an_oidc_trust_without_a_subject_is_refused_and_nothing_written(aws, ansible, iam_snapshot):
    """Without a subject any workload (or tenant) the issuer mints tokens for could assume the role."""
    before = iam_snapshot()
    refused = ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL}, expect_failure=True)
    assert "an OIDC trust needs the token's subject" in refused["msg"] and "Nothing was changed" in refused["msg"]
    github = {"name": "exporter", "oidc_provider_url": "https://token.actions.githubusercontent.com", "allow_any_subject": True}
    public = ansible.module(MODULE, github, expect_failure=True)
    assert "issues tokens to all of its users" in public["msg"]
    assert iam_snapshot() == before

    # An issuer that mints an audience per customer: the explicit opt-out, reported.
    result = ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL, "allow_any_subject": True, "log_group_prefix": PREFIX})
    assert result["subject_unrestricted"] is True
    assert any("allow_any_subject=true: any workload" in w for w in result["warnings"])
    condition = aws.client("iam").get_role(RoleName="exporter")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}


def test_a_subject_with_a_wildcard_is_matched_with_string_like(aws, ansible):
    subject = "repo:example-org/telemetry:ref:refs/heads/*"
    result = ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL, "subject": subject, "data_types": ["traces"]})
    assert result["subject_unrestricted"] is False
    condition = aws.client("iam").get_role(RoleName="exporter")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}, "StringLike": {f"{ISSUER}:sub": subject}}


def test_user_variant_persists_key(aws, ansible, tmp_path):
    iam = aws.client("iam")
    store = tmp_path / "exporter-key.json"
    args = {"name": "exporter-user", "auth_method": "iam_user", "access_key_store": f"file:{store}", "log_group_names": ["/db"]}

    check = ansible.module(MODULE, args, check=True)
    assert check["changed"] is True and "access_key_id" not in check
    assert check["user"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/exporter-user"
    assert iam.list_users()["Users"] == [] and not store.exists()

    created = ansible.module(MODULE, args)
    assert created["changed"] is True
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    record = json.loads(store.read_text())
    keys = iam.list_access_keys(UserName="exporter-user")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [record["access_key_id"]]
    assert created["access_key_id"] == record["access_key_id"]
    assert record["secret_access_key"] not in json.dumps(created), "the secret is in the store only"
    assert record["user_name"] == "exporter-user"
    policy = iam.get_user_policy(UserName="exporter-user", PolicyName="cloudwatch-exporter")["PolicyDocument"]
    assert by_sid(policy) == seed_policy(names=["/db"])
    assert iam.list_attached_user_policies(UserName="exporter-user")["AttachedPolicies"] == []
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="exporter-user")["Tags"]}
    assert tags == OWNER

    again = ansible.module(MODULE, args)
    assert again["changed"] is False
    assert "access_key" not in again
    assert json.loads(store.read_text()) == record

    gone = ansible.module(MODULE, dict(args, state="absent"))
    assert gone["changed"] is True
    assert iam.list_users()["Users"] == []
    assert not store.exists()


def test_log_group_in_another_region_is_rejected(aws, ansible):
    other = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/managed-db/prod"
    with aws.record() as calls:
        failed = ansible.module(MODULE, oidc_args(log_group_names=[other], create_log_groups=True), expect_failure=True)
    assert "eu-west-1" in failed["msg"] and "same region" in failed["msg"]
    assert local_aws.operation_counts(calls) == {}, "bad input fails before any call"
    iam = aws.client("iam")
    assert iam.list_roles()["Roles"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert aws.client("logs").describe_log_groups()["logGroups"] == []
    assert aws.client("logs", region_name="eu-west-1").describe_log_groups()["logGroups"] == []


def test_log_groups_created_never_recreated(aws, ansible):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/existing", tags={"owner": "someone"})
    logs.put_retention_policy(logGroupName="/existing", retentionInDays=7)
    logs.create_log_stream(logGroupName="/existing", logStreamName="kept")
    args = oidc_args(log_group_names=["/existing", "/new"], create_log_groups=True, log_group_retention_days=400)

    with aws.record() as calls:
        result = ansible.module(MODULE, args)
    assert "DeleteLogGroup" not in operations(calls)
    assert local_aws.operation_counts(calls) == {
        "GetRole": 2,
        "ListOpenIDConnectProviders": 1,
        "DescribeLogGroups": 2,  # one per group
        "GetCallerIdentity": 1,
        "CreateOpenIDConnectProvider": 1,
        "GetOpenIDConnectProvider": 1,
        "CreateRole": 1,
        "PutRolePolicy": 1,
        "CreateLogGroup": 1,
        "PutRetentionPolicy": 2,
    }
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    assert {name: g.get("retentionInDays") for name, g in groups.items()} == {"/existing": 400, "/new": 400}
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/existing")["logStreams"]] == ["kept"]
    assert logs.list_tags_for_resource(resourceArn=groups["/new"]["arn"].removesuffix(":*"))["tags"] == OWNER
    assert [g["name"] for g in result["log_groups"]] == ["/existing", "/new"]
    assert all(g["retention_in_days"] == 400 for g in result["log_groups"])
    assert ansible.module(MODULE, args)["changed"] is False


def test_absent_keeps_a_provider_another_role_trusts(aws, ansible):
    iam = aws.client("iam")
    ansible.module(MODULE, oidc_args())
    other_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER_ARN}, "Action": "sts:AssumeRoleWithWebIdentity"}],
    }
    iam.create_role(RoleName="other-workload", AssumeRolePolicyDocument=json.dumps(other_trust))

    check = ansible.module(MODULE, {"name": "exporter", "state": "absent"}, check=True)
    assert check["changed"] is True and check["role"] is None
    assert iam.get_role(RoleName="exporter")

    with aws.record() as calls:
        kept = ansible.module(MODULE, {"name": "exporter", "state": "absent"})
    assert kept["changed"] is True
    assert local_aws.operation_counts(calls) == {
        "GetRole": 1,
        "ListAttachedRolePolicies": 1,
        "ListInstanceProfilesForRole": 1,
        "GetOpenIDConnectProvider": 1,  # the provider the role trusted
        "ListRoles": 1,  # who else trusts it
        "ListRolePolicies": 1,  # an admin grant's policies would have to go first
        "GetCallerIdentity": 1,
        "DeleteRolePolicy": 1,
        "DeleteRole": 1,
    }
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["other-workload"]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [PROVIDER_ARN]
    assert any("other-workload" in w for w in kept["warnings"])

    # Once nobody trusts it, naming the provider removes it too; then nothing is left to do.
    iam.delete_role(RoleName="other-workload")
    with aws.record() as calls:
        removed = ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL, "state": "absent"})
    assert removed["changed"] is True
    assert local_aws.operation_counts(calls) == {
        "GetRole": 1,
        "ListOpenIDConnectProviders": 1,
        "GetOpenIDConnectProvider": 1,
        "ListRoles": 1,
        "GetCallerIdentity": 1,
        "DeleteOpenIDConnectProvider": 1,
    }
    assert removed["changes"] == [f"delete OIDC provider {PROVIDER_ARN}"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL, "state": "absent"})["changed"] is False


def test_absent_never_deletes_what_it_did_not_create(aws, ansible):
    iam = aws.client("iam")
    iam.create_open_id_connect_provider(Url=URL, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[])
    ansible.module(MODULE, oidc_args())
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert "Tags" not in provider or provider["Tags"] == [], "a provider found by URL is used, not adopted"

    gone = ansible.module(MODULE, {"name": "exporter", "oidc_provider_url": URL, "state": "absent"})
    assert gone["changed"] is True
    assert iam.list_roles()["Roles"] == []
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [PROVIDER_ARN]

    iam.create_role(RoleName="handmade", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    refused = ansible.module(MODULE, {"name": "handmade", "state": "absent"}, expect_failure=True)
    assert "Refusing to delete role handmade" in refused["msg"]
    assert iam.get_role(RoleName="handmade")


def test_playbook_shows_form_values(aws, ansible, tmp_path):
    run = ansible.playbook(PLAYBOOK, extra_vars={"issuer_url": URL, "key_store": f"file:{tmp_path / 'key.json'}"})
    role_arn = run.result("Show what to paste into the exporter's form (role)")["msg"]
    assert role_arn == f"Role ARN: arn:aws:iam::{ACCOUNT}:role/db-exporter"
    key_id = run.result("Show what to paste into the exporter's form (user)")["msg"]
    record = json.loads((tmp_path / "key.json").read_text())
    assert key_id == f"Access key ID: {record['access_key_id']}"
    assert record["secret_access_key"] not in run.output, "the secret never reaches the output"


def _provider_state(iam, arn):
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    return sorted(provider["ClientIDList"]), sorted(provider["ThumbprintList"]), provider.get("Tags", [])


def test_a_provider_created_elsewhere_is_never_changed(aws, ansible):
    """Other roles may trust a provider the collection did not create: a missing audience fails, nothing written."""
    iam = aws.client("iam")
    iam.create_open_id_connect_provider(
        Url=URL, ClientIDList=["vendor-client"], ThumbprintList=["a" * 40], Tags=[{"Key": "team", "Value": "platform"}]
    )
    provider_before = _provider_state(iam, PROVIDER_ARN)
    account_before = iam_eval.account_snapshot(aws.client)
    for args in (oidc_args(), oidc_args(oidc_provider_url=None, oidc_provider_arn=PROVIDER_ARN)):
        args = {k: v for k, v in args.items() if v is not None}
        for check_mode in (True, False):
            with aws.record() as calls:
                refused = ansible.module(MODULE, args, check=check_mode, expect_failure=True)
            assert refused["msg"].startswith(f"OIDC provider {PROVIDER_ARN} was not created by this collection")
            assert "audience sts.amazonaws.com" in refused["msg"] and "(vendor-client)" in refused["msg"]
            assert "aws iam add-client-id-to-open-id-connect-provider" in refused["msg"]
            assert not WRITES & set(operations(calls)) and "AddClientIDToOpenIDConnectProvider" not in operations(calls)
    assert _provider_state(iam, PROVIDER_ARN) == provider_before
    assert iam_eval.account_snapshot(aws.client) == account_before
    assert iam.list_roles()["Roles"] == []

    # The audience the provider has: the role is created, the provider stays as it was.
    used = ansible.module(MODULE, oidc_args(audience="vendor-client", thumbprints=["b" * 40]))
    assert used["changed"] is True and used["oidc_provider"]["client_ids"] == ["vendor-client"]
    assert any("thumbprints were left" in w for w in used["warnings"])
    assert _provider_state(iam, PROVIDER_ARN) == provider_before


def test_logs_without_a_log_group_are_refused_before_any_call(aws, ansible):
    """A policy on every log group lets its holder forge entries in, or shorten the retention of, CloudTrail's."""
    before = iam_eval.account_snapshot(aws.client)
    user = {"name": "exporter-user", "auth_method": "iam_user", "access_key_store": "file:/nonexistent/key.json"}
    for args in (oidc_args(log_group_names=None), user):
        args = {k: v for k, v in args.items() if v is not None}
        with aws.record() as calls:
            refused = ansible.module(MODULE, args, expect_failure=True)
        assert "no log group is named" in refused["msg"] and "CloudTrail" in refused["msg"]
        assert all(way in refused["msg"] for way in ("log_group_names", "log_group_prefix", "allow_all_log_groups=true"))
        assert local_aws.operation_counts(calls) == {}, "refused before any AWS call"
    assert iam_eval.account_snapshot(aws.client) == before


def test_all_log_groups_only_when_asked_reported_and_never_create_or_retention(aws, ansible):
    result = ansible.module(MODULE, oidc_args(allow_all_log_groups=True))
    assert result["log_groups_unrestricted"] is True
    assert any("allow_all_log_groups=true" in w and "CloudTrail" in w for w in result["warnings"])
    holder = iam_eval.evaluator_for(aws.client("iam"), "role", "exporter")
    assert holder.allowed("logs:PutLogEvents", LOGS + "/any/group:log-stream:s")
    assert not holder.allowed("logs:PutLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/any/group:log-stream:s")
    for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy"):
        assert not holder.allowed(action, LOGS + "/aws/cloudtrail/x"), action


def test_a_prefix_holder_writes_under_its_prefix_and_nowhere_else(aws, ansible):
    ansible.module(MODULE, oidc_args(data_types=["logs", "metrics"], metric_namespaces=["ManagedDB/*"]))
    holder = iam_eval.evaluator_for(aws.client("iam"), "role", "exporter")
    assert holder.allowed("logs:PutLogEvents", LOGS + PREFIX + "postgresql:log-stream:s")
    assert holder.allowed("logs:CreateLogStream", LOGS + PREFIX + "postgresql:log-stream:s")
    assert not holder.allowed("logs:PutLogEvents", LOGS + "aws-cloudtrail-logs-123456789012-1a2b3c4d:log-stream:s")
    assert not holder.allowed("logs:PutLogEvents", LOGS + "/aws/cloudtrail/x:log-stream:s")
    assert not holder.allowed("logs:PutRetentionPolicy", LOGS + PREFIX + "postgresql")
    assert not holder.allowed("logs:CreateLogGroup", LOGS + PREFIX + "new")
    assert holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "ManagedDB/Replicas"})
    assert not holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Billing"})
