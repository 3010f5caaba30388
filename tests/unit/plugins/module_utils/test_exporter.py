# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exporter's policy documents, its validation and its AWS helpers (botocore Stubber, no network)."""

import datetime
import json

import boto3
import iam_eval  # from tests/tools (pytest.ini pythonpath)
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.observability.cloudwatch.plugins.module_utils import exporter_policies as policies
from ansible_collections.observability.cloudwatch.plugins.module_utils import cloudwatch_policies, exporter, logs, oidc
from ansible_collections.observability.cloudwatch.plugins.module_utils import caller as caller_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_principal as iam
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from botocore.stub import Stubber

ACCOUNT = "123456789012"
REGION = "us-east-1"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
URL = "https://" + ISSUER
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"
NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
OWNER_TAGS = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]


def by_sid(policy):
    return {s["Sid"]: s for s in policy["Statement"]}


# --- permission policy ---------------------------------------------------------------------------


LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"


def test_seed_policy_statement_by_statement():
    policy = policies.exporter_permission_policy("aws", REGION, ACCOUNT, log_groups=["/db"])
    assert policy["Version"] == "2012-10-17"
    assert by_sid(policy) == {
        "ExporterListLogGroups": {"Sid": "ExporterListLogGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": LOGS + "*"},
        "ExporterWriteLogGroups": {
            "Sid": "ExporterWriteLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:PutRetentionPolicy"],
            "Resource": [LOGS + "/db", LOGS + "/db:*"],
        },
        "ExporterWriteLogStreams": {
            "Sid": "ExporterWriteLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": LOGS + "/db:*",
        },
        "ExporterWriteTraces": {
            "Sid": "ExporterWriteTraces",
            "Effect": "Allow",
            "Action": sorted(cloudwatch_policies.TRACE_ACTIONS),
            "Resource": "*",
        },
    }


def test_seed_policy_grants_exactly_the_exporter_actions():
    granted = {a for s in policies.exporter_permission_policy("aws", REGION, ACCOUNT, log_groups=["/db"])["Statement"] for a in s["Action"]}
    assert granted == {
        "logs:PutLogEvents",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    }


def test_data_types_and_parameter_access():
    metrics = by_sid(policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["metrics"]))
    assert list(metrics) == ["ExporterWriteMetrics"]
    assert metrics["ExporterWriteMetrics"]["Action"] == ["cloudwatch:PutMetricData"]
    assert "Condition" not in metrics["ExporterWriteMetrics"], "without metric_namespaces, any namespace"
    traces = by_sid(policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["traces"]))
    assert set(traces) == {"ExporterWriteTraces"}, "no parameter access unless asked for"
    asked = by_sid(policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["traces"], parameter_access=True))
    assert set(asked) == {"ExporterWriteTraces", "ExporterReadParameters"}


def test_log_group_names_narrow_group_and_stream_actions():
    policy = by_sid(
        policies.exporter_permission_policy(
            "aws-cn", "cn-north-1", ACCOUNT, parameter_access=True,
            log_groups=["/b", f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:/a:*", "/b"],
        )
    )
    base = f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:"
    assert policy["ExporterListLogGroups"]["Resource"] == base + "*"
    assert policy["ExporterWriteLogGroups"]["Resource"] == [base + "/a", base + "/a:*", base + "/b", base + "/b:*"]
    assert policy["ExporterWriteLogStreams"]["Resource"] == [base + "/a:*", base + "/b:*"]
    assert policy["ExporterReadParameters"]["Resource"] == f"arn:aws-cn:ssm:cn-north-1:{ACCOUNT}:parameter/AmazonCloudWatch-*"


def test_logs_without_a_log_group_are_refused_explaining_the_risk():
    with pytest.raises(cloudwatch_policies.PolicyInputError) as e:
        policies.exporter_permission_policy("aws", REGION, ACCOUNT)
    message = str(e.value)
    assert "forge entries in, or shorten the retention of, any log group" in message and "CloudTrail" in message
    assert all(way in message for way in ("log_group_names", "log_group_prefix", "allow_all_log_groups=true"))


LOG_WRITES = {"logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}


@pytest.mark.parametrize("scope", [
    {"log_groups": ["/db"]},
    {"log_group_prefix": "/exporters/db/"},
    {"allow_all_log_groups": True},
    {"log_groups": ["/db"], "log_group_prefix": "/exporters/db/", "allow_all_log_groups": True},
])
def test_no_logs_action_on_star_and_create_or_retention_only_on_named_groups(scope):
    policy = policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["logs", "traces", "metrics"], **scope)
    named = [LOGS + "/db", LOGS + "/db:*"] if "log_groups" in scope else []
    for item in policy["Statement"]:
        resources = [item["Resource"]] if isinstance(item["Resource"], str) else item["Resource"]
        logs_actions = {a for a in item["Action"] if a.startswith("logs:")}
        if logs_actions:
            assert "*" not in resources, f"{item['Sid']} grants {logs_actions} on *"
            assert all(r.startswith(LOGS) for r in resources), item
        if logs_actions & {"logs:CreateLogGroup", "logs:PutRetentionPolicy"}:
            assert resources == named, f"{item['Sid']} creates groups or sets retention beyond the named groups"
    granted = {a for item in policy["Statement"] for a in item["Action"]}
    assert LOG_WRITES - {"logs:CreateLogGroup", "logs:PutRetentionPolicy"} <= granted


def test_prefix_policy_writes_streams_only():
    policy = by_sid(policies.exporter_permission_policy("aws", REGION, ACCOUNT, log_group_prefix="/exporters/db/"))
    assert set(policy) == {"ExporterListLogGroups", "ExporterPrefixDescribeLogStreams", "ExporterPrefixWriteLogStreams", "ExporterWriteTraces"}
    assert policy["ExporterPrefixDescribeLogStreams"]["Action"] == ["logs:DescribeLogStreams"]
    assert policy["ExporterPrefixDescribeLogStreams"]["Resource"] == LOGS + "/exporters/db/*"
    assert policy["ExporterPrefixWriteLogStreams"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert policy["ExporterPrefixWriteLogStreams"]["Resource"] == LOGS + "/exporters/db/*:log-stream:*"


def test_all_log_groups_opt_out_writes_streams_of_the_region_only():
    policy = by_sid(policies.exporter_permission_policy("aws", REGION, ACCOUNT, allow_all_log_groups=True))
    assert set(policy) == {"ExporterListLogGroups", "ExporterAllDescribeLogStreams", "ExporterAllWriteLogStreams", "ExporterWriteTraces"}
    assert policy["ExporterAllWriteLogStreams"]["Resource"] == LOGS + "*:log-stream:*"
    holder = evaluate(policies.exporter_permission_policy("aws", REGION, ACCOUNT, allow_all_log_groups=True))
    assert holder.allowed("logs:PutLogEvents", LOGS + "/aws/cloudtrail/x:log-stream:s"), "what the opt-out accepts"
    for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy"):
        assert not holder.allowed(action, LOGS + "/aws/cloudtrail/x"), action


def evaluate(policy):
    return iam_eval.Evaluator({"cloudwatch-exporter": policy})


def test_a_prefix_policy_holder_writes_under_its_prefix_only():
    holder = evaluate(policies.exporter_permission_policy("aws", REGION, ACCOUNT, log_group_prefix="/exporters/db/"))
    stream = LOGS + "{}:log-stream:s-1"
    assert holder.allowed("logs:PutLogEvents", stream.format("/exporters/db/postgresql"))
    assert holder.allowed("logs:CreateLogStream", stream.format("/exporters/db/postgresql"))
    assert holder.allowed("logs:DescribeLogGroups", LOGS + ":log-stream:"), "as CloudWatch Logs authorizes it"
    for group in ("/aws/cloudtrail/management-events", "aws-cloudtrail-logs-123456789012-abc", "/exporters/dbx/a", "/exporters/other"):
        assert not holder.allowed("logs:PutLogEvents", stream.format(group)), group
        assert not holder.allowed("logs:PutRetentionPolicy", LOGS + group), group
    for action in ("logs:PutRetentionPolicy", "logs:CreateLogGroup", "logs:DeleteLogGroup"):
        assert not holder.allowed(action, LOGS + "/exporters/db/postgresql"), action
    assert not holder.allowed("logs:PutLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/exporters/db/x:log-stream:s")


def test_metric_namespaces_condition_allows_the_namespace_only():
    exact = policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["metrics"], metric_namespaces=["ManagedDB/Telemetry"])
    assert by_sid(exact)["ExporterWriteMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "ManagedDB/Telemetry"}}
    holder = evaluate(exact)
    assert holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "ManagedDB/Telemetry"})
    assert not holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Billing/Costs"})
    assert not holder.allowed("cloudwatch:PutMetricData", "*", {}), "no namespace in the request, no write"
    wildcard = policies.exporter_permission_policy("aws", REGION, ACCOUNT, ["metrics"], metric_namespaces=["ManagedDB/*", "Other"])
    assert by_sid(wildcard)["ExporterWriteMetrics"]["Condition"] == {"StringLike": {"cloudwatch:namespace": ["ManagedDB/*", "Other"]}}
    holder = evaluate(wildcard)
    assert holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "ManagedDB/Replicas"})
    assert holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Other"})
    assert not holder.allowed("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "OtherApp"})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"log_groups": [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/a"]}, "is in region eu-west-1, not in us-east-1"),
        ({"log_groups": ["arn:aws:logs:us-east-1:999999999999:log-group:/a"]}, "is in account 999999999999"),
        ({"log_groups": ["arn:aws:s3:::bucket"]}, "not a CloudWatch Logs log group ARN"),
        ({"log_groups": ["with space"]}, "1 to 512 characters"),
        ({"data_types": []}, "data_types is empty"),
        ({"data_types": ["profiles"]}, "data_types ['profiles']"),
        ({"log_group_prefix": "/"}, "covers the log groups of AWS services"),
        ({"log_group_prefix": "/aws"}, "covers the log groups of AWS services"),
        ({"log_group_prefix": "/aws/lambda/"}, "covers the log groups of AWS services"),
        ({"log_group_prefix": "/exporters/*"}, "no wildcard"),
        ({"log_group_prefix": "/exporters db"}, "log_group_prefix '/exporters db': 1 to 511 characters"),
        ({"log_group_prefix": "x" * 512}, "1 to 511 characters"),
        ({"log_group_prefix": ""}, "1 to 511 characters"),
        ({"data_types": ["traces"], "log_group_prefix": "/x/"}, "log_group_prefix: only with logs in data_types"),
        ({"data_types": ["traces"], "allow_all_log_groups": True}, "allow_all_log_groups: only with logs"),
        ({"data_types": ["logs"], "log_groups": ["/a"], "metric_namespaces": ["App"]}, "metric_namespaces: only with metrics"),
        ({"data_types": ["metrics"], "metric_namespaces": []}, "metric_namespaces is empty"),
        ({"data_types": ["metrics"], "metric_namespaces": ["AWS/EC2"]}, "starts with AWS/"),
        ({"data_types": ["metrics"], "metric_namespaces": ["*"]}, "not only wildcards"),
        ({"data_types": ["metrics"], "metric_namespaces": ["x" * 256]}, "1 to 255 printable"),
        ({"data_types": ["metrics"], "metric_namespaces": ["tab\there"]}, "1 to 255 printable"),
        ({"data_types": ["metrics"], "metric_namespaces": [" "]}, "not a CloudWatch namespace"),
    ],
)
def test_permission_policy_rejects(kwargs, message):
    with pytest.raises(cloudwatch_policies.PolicyInputError) as e:
        policies.exporter_permission_policy("aws", REGION, ACCOUNT, **dict({"log_groups": ["/db"]}, **kwargs))
    assert message in str(e.value)


# --- trust policy --------------------------------------------------------------------------------


def test_trust_policy_oidc_and_trusted_roles():
    trust = policies.exporter_trust_policy(
        PROVIDER_ARN,
        audience="sts.amazonaws.com",
        service_account="system:serviceaccount:ns:sa",
        trusted_role_arns=["arn:aws:iam::210987654321:role/b", "arn:aws:iam::210987654321:role/a"],
        external_id="tenant",
    )
    assert trust["Statement"] == [
        {
            "Sid": "ExporterWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": "system:serviceaccount:ns:sa"}},
        },
        {
            "Sid": "ExporterTrustedRoles",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::210987654321:role/a", "arn:aws:iam::210987654321:role/b"]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "tenant"}},
        },
    ]


def test_trust_policy_without_subject_or_external_id():
    trust = policies.exporter_trust_policy(PROVIDER_ARN, issuer=ISSUER)
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}
    roles = policies.exporter_trust_policy(trusted_role_arns=["arn:aws:iam::210987654321:role/a"])
    assert roles["Statement"] == [
        {"Sid": "ExporterTrustedRoles", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:role/a"}, "Action": "sts:AssumeRole"}
    ]
    with pytest.raises(cloudwatch_policies.PolicyInputError, match="nobody could assume"):
        policies.exporter_trust_policy()


def test_federated_principals():
    trust = policies.exporter_trust_policy(PROVIDER_ARN, trusted_role_arns=["arn:aws:iam::210987654321:role/a"])
    assert policies.federated_principals(trust) == {PROVIDER_ARN}
    single = {"Statement": {"Principal": {"Federated": ["x", "y"]}}}
    assert policies.federated_principals(single) == {"x", "y"}
    assert policies.federated_principals(None) == set()


@pytest.mark.parametrize(
    "url, issuer",
    [
        (URL, ISSUER),
        ("https://OIDC.Example.com/", "oidc.example.com"),
        ("https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"),
        ("https://example.com/Path/Kept", "example.com/Path/Kept"),
    ],
)
def test_issuer_from_url(url, issuer):
    assert policies.issuer_from_url(url) == issuer


@pytest.mark.parametrize("url", ["http://example.com", "example.com", "https://", "https://a.com/x?y=1", "https://a b.com"])
def test_issuer_from_url_rejects(url):
    with pytest.raises(cloudwatch_policies.PolicyInputError, match="oidc_provider_url"):
        policies.issuer_from_url(url)


def test_provider_arn_and_thumbprints_and_role_arns():
    assert policies.parse_provider_arn(PROVIDER_ARN) == {"partition": "aws", "account": ACCOUNT, "issuer": ISSUER}
    with pytest.raises(cloudwatch_policies.PolicyInputError):
        policies.parse_provider_arn("arn:aws:iam::123:oidc-provider/x")
    assert policies.validate_thumbprints(["A" * 40]) == ["a" * 40]
    with pytest.raises(cloudwatch_policies.PolicyInputError, match="40 hexadecimal"):
        policies.validate_thumbprints(["abc"])
    with pytest.raises(cloudwatch_policies.PolicyInputError, match="at most 5"):
        policies.validate_thumbprints(["a" * 40] * 6)
    with pytest.raises(cloudwatch_policies.PolicyInputError, match="trusted_role_arns"):
        policies.validate_role_arns(["arn:aws:iam::210987654321:user/a"])


def test_retention_accepts_the_full_list_only():
    assert logs.LOG_RETENTION_DAYS == (
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    )
    assert logs.validate_retention(2192) == 2192
    assert logs.validate_retention(None) is None
    with pytest.raises(ValueError, match="retention 2 days"):
        logs.validate_retention(2)


# --- ExporterSpec validation ---------------------------------------------------------------------


def spec(**kwargs):
    values = {"name": "exporter", "region": REGION, "oidc_provider_url": URL, "service_account": "system:serviceaccount:a:b",
              "log_group_prefix": "/exporters/db/"}
    values.update(kwargs)
    return exporter.ExporterSpec(**values)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"auth_method": "iam_user"}, "oidc_provider_url, service_account: only with auth_method=iam_role"),
        ({"oidc_provider_url": None, "service_account": None}, "needs someone to trust"),
        ({"oidc_provider_url": None, "trusted_role_arns": ["arn:aws:iam::210987654321:role/a"]}, "service_account: only with"),
        ({"external_id": "x"}, "external_id: only with trusted_role_arns"),
        ({"principal_org_id": "o-abcdefghij"}, "principal_org_id: only with trusted_role_arns"),
        ({"service_account": None}, "an OIDC trust needs the token's subject"),
        ({"service_account": "system:serviceaccount:Obs:exporter"}, "DNS-1123 label"),
        ({"service_account": "obs:exporter"}, "is not system:serviceaccount:NAMESPACE:NAME"),
        ({"service_account": None, "subject": "*"}, "names nobody"),
        ({"service_account": None, "subject": " "}, "names nobody"),
        ({"subject": "repo:a/b:*"}, "give one"),
        ({"allow_any_subject": True}, "allow_any_subject: only without service_account or subject"),
        ({"service_account": None, "allow_any_subject": True, "oidc_provider_url": "https://gitlab.com"}, "issues tokens to all of its users"),
        ({"service_account": None, "oidc_provider_url": None, "trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/a"], "subject": "x"},
         "subject: only with oidc_provider_url"),
        ({"trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/a"], "external_id": "x"}, "external_id: 2 to 1,224"),
        ({"trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/a"], "external_id": "a b"}, "external_id: 2 to 1,224"),
        ({"trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/a"], "principal_org_id": "o-short"}, "not an AWS Organizations ID"),
        ({"create_log_groups": True}, "create_log_groups=true needs log_group_names"),
        ({"log_group_retention_days": 30, "log_group_names": ["/a"]}, "only with create_log_groups=true"),
        ({"create_log_groups": True, "log_group_names": ["/a"], "log_group_retention_days": 31}, "retention 31 days"),
        ({"region": None}, "a region is required"),
        ({"name": "bad name"}, "not a valid IAM role name"),
        ({"oidc_provider_url": "http://insecure"}, "expected https://"),
        ({"oidc_provider_url": None, "oidc_provider_arn": PROVIDER_ARN, "thumbprints": ["a" * 40]}, "thumbprints: only with"),
        ({"log_group_names": [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/a"]}, "same region"),
        ({"audience": ""}, "audience"),
        ({"tags": {"aws:x": "y"}}, "must not start with aws:"),
        ({"log_group_names": ["bad group!"]}, "log_group_names: log group 'bad group!'"),
        ({"log_group_names": ["g" * 513]}, "1 to 512 characters"),
        ({"log_group_names": [f"/logs/{i:03d}-{'x' * 40}" for i in range(100)]}, "log_group_names (in the permission policy)"),
        ({"auth_method": "iam_user", "oidc_provider_url": None, "service_account": None, "log_group_names": [f"/g/{i:03d}" for i in range(30)]},
         "IAM allows 2048 for all the inline policies of a user"),
        ({"oidc_provider_url": None, "service_account": None, "external_id": "ext-id",
          "trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/shipper-{i:02d}" for i in range(50)]},
         "trusted_role_arns (in the trust policy) of the role comes to"),
        ({"log_group_prefix": None}, "no log group is named"),
        ({"log_group_prefix": "/aws/"}, "covers the log groups of AWS services"),
        ({"metric_namespaces": ["App"]}, "metric_namespaces: only with metrics"),
    ],
)
def test_spec_rejects_before_any_call(kwargs, message):
    with pytest.raises(AnsibleIAMError) as e:
        spec(**kwargs).validate()
    assert message in e.value.message


def test_spec_derives_issuer_and_names():
    valid = spec(log_group_names=["/a", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/b"], thumbprints=["F" * 40])
    valid.validate()
    assert valid.issuer == ISSUER
    assert valid.log_groups == ["/a", "/b"]
    assert valid.thumbprints == ["f" * 40]
    by_arn = spec(oidc_provider_url=None, oidc_provider_arn=PROVIDER_ARN)
    by_arn.validate()
    assert by_arn.issuer == ISSUER


# --- log groups ----------------------------------------------------------------------------------


def test_plan_log_groups_never_recreates():
    current = {"/a": {"name": "/a", "retention_in_days": 7}, "/b": None, "/c": {"name": "/c", "retention_in_days": 30}}
    assert logs.plan_log_groups(current, ["/a", "/b", "/c"], 30) == (["/b"], ["/a", "/b"])
    assert logs.plan_log_groups(current, ["/a", "/b", "/c"], None) == (["/b"], [])


# --- AWS helpers with a stubbed client -----------------------------------------------------------


def stubbed(service):
    client = boto3.client(service, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    return RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1)), stubber


def role(name, trust):
    return {
        "RoleName": name,
        "RoleId": "AROAEXAMPLEEXAMPLE0001",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "CreateDate": NOW,
        "AssumeRolePolicyDocument": json.dumps(trust),
    }


def test_find_oidc_provider_matches_the_whole_issuer():
    client, stub = stubbed("iam")
    stub.add_response(
        "list_open_id_connect_providers",
        {"OpenIDConnectProviderList": [{"Arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/x{ISSUER}"}, {"Arn": PROVIDER_ARN}]},
    )
    stub.add_response(
        "get_open_id_connect_provider",
        {"Url": ISSUER, "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": ["A" * 40], "Tags": OWNER_TAGS},
        {"OpenIDConnectProviderArn": PROVIDER_ARN},
    )
    provider = oidc.find_oidc_provider(client, ISSUER)
    assert provider == {
        "arn": PROVIDER_ARN,
        "url": ISSUER,
        "client_ids": ["sts.amazonaws.com"],
        "thumbprints": ["a" * 40],
        "tags": {"managed-by": "observability.cloudwatch"},
    }
    stub.assert_no_pending_responses()


def test_roles_trusting_reads_trust_policies():
    client, stub = stubbed("iam")
    trusting = policies.exporter_trust_policy(PROVIDER_ARN, issuer=ISSUER)
    other = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    stub.add_response("list_roles", {"Roles": [role("exporter", trusting), role("ec2", other), role("other-irsa", trusting)], "IsTruncated": False})
    assert oidc.roles_trusting(client, PROVIDER_ARN, exclude=("exporter",)) == ["other-irsa"]


def plan_oidc_provider(plan, client, wanted, provider):
    """``oidc.plan_oidc_provider`` with the values of an exporter spec, as ``exporter`` calls it."""
    oidc.plan_oidc_provider(
        plan, client, provider, wanted.oidc_provider_url, wanted.issuer, wanted.audience, wanted.thumbprints,
        wanted.resource_tags(), "aws", ACCOUNT,
    )


def test_plan_oidc_provider_never_changes_a_shared_provider():
    client, _stub = stubbed("iam")  # nothing queued: any call would fail the test
    shared = {"arn": PROVIDER_ARN, "url": ISSUER, "client_ids": ["other", "vendor"], "thumbprints": ["b" * 40], "tags": {}}
    wanted = spec(thumbprints=["a" * 40])
    wanted.validate()
    plan = Plan({"oidc_provider": dict(shared)})
    with pytest.raises(AnsibleIAMError) as e:
        plan_oidc_provider(plan, client, wanted, shared)
    message = e.value.message
    assert message.startswith(f"OIDC provider {PROVIDER_ARN} was not created by this collection, and audience sts.amazonaws.com")
    assert "(other, vendor)" in message and "add-client-id-to-open-id-connect-provider" in message
    assert "set audience to one of its client IDs" in message and "Nothing was changed" in message
    assert plan.changes == [] and not plan.changed

    # With the audience among its client IDs, the shared provider is used as it is; a thumbprint difference warns.
    has_audience = dict(shared, client_ids=["sts.amazonaws.com"])
    plan = Plan({"oidc_provider": dict(has_audience)})
    plan_oidc_provider(plan, client, wanted, has_audience)
    assert plan.changes == [] and plan.after["oidc_provider"] == has_audience
    assert any("thumbprints were left" in w for w in plan.warnings)


def test_plan_oidc_provider_adds_the_audience_to_its_own_provider():
    client, stub = stubbed("iam")
    owned = {"arn": PROVIDER_ARN, "url": ISSUER, "client_ids": ["other"], "thumbprints": [], "tags": dict(iam.owner_tags())}
    wanted = spec()
    wanted.validate()
    plan = Plan({"oidc_provider": dict(owned)})
    plan_oidc_provider(plan, client, wanted, owned)
    assert plan.changes == [f"add client ID sts.amazonaws.com to OIDC provider {PROVIDER_ARN}"]
    assert plan.after["oidc_provider"]["client_ids"] == ["other", "sts.amazonaws.com"]
    stub.add_response("add_client_id_to_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": PROVIDER_ARN, "ClientID": "sts.amazonaws.com"})
    plan.apply()
    stub.assert_no_pending_responses()


def test_plan_oidc_provider_sets_thumbprints_on_its_own_provider():
    client, _stub = stubbed("iam")
    owned = {"arn": PROVIDER_ARN, "url": ISSUER, "client_ids": ["sts.amazonaws.com"], "thumbprints": ["b" * 40], "tags": dict(iam.owner_tags())}
    wanted = spec(thumbprints=["a" * 40])
    wanted.validate()
    plan = Plan({"oidc_provider": dict(owned)})
    plan_oidc_provider(plan, client, wanted, owned)
    assert plan.changes == [f"set the thumbprints of OIDC provider {PROVIDER_ARN}"]
    assert plan.warnings == []


def test_get_log_group_returns_the_exact_group():
    client, stub = stubbed("logs")
    stub.add_response(
        "describe_log_groups",
        {
            "logGroups": [
                {"logGroupName": "/app/api-old", "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/api-old:*"},
                {"logGroupName": "/app/api", "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/api:*", "retentionInDays": 14},
            ]
        },
        {"logGroupNamePrefix": "/app/api"},
    )
    assert logs.get_log_group(client, "/app/api") == {
        "name": "/app/api",
        "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/api",
        "retention_in_days": 14,
    }


# --- the root guard, end to end with stubbed IAM and STS -----------------------------------------


def new_role_calls(stub):
    stub.add_client_error("get_role", "NoSuchEntity", http_status_code=404, expected_params={"RoleName": "exporter"})


def trusted_spec():
    return exporter.ExporterSpec(name="exporter", region=REGION, trusted_role_arns=[f"arn:aws:iam::{ACCOUNT}:role/a"], log_group_names=["/db"])


def test_root_guard_fails_before_any_write():
    iam_client, iam_stub = stubbed("iam")
    sts_client, sts_stub = stubbed("sts")
    logs_client, _logs_stub = stubbed("logs")
    new_role_calls(iam_stub)
    sts_stub.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": ROOT_ARN, "UserId": ACCOUNT})
    caller = caller_identity.Caller(sts_client, allow_root=False)
    with pytest.raises(AnsibleIAMError) as e:
        exporter.ensure_exporter_present(iam_client, logs_client, caller, trusted_spec())
    assert "root user" in e.value.message and "administrator" in e.value.message
    iam_stub.assert_no_pending_responses()  # and no write was queued: a write would have failed the stub
    sts_stub.assert_no_pending_responses()


def test_root_guard_allows_root_when_asked_and_reads_the_identity_once():
    iam_client, iam_stub = stubbed("iam")
    sts_client, sts_stub = stubbed("sts")
    logs_client, _logs_stub = stubbed("logs")
    new_role_calls(iam_stub)
    sts_stub.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": ROOT_ARN, "UserId": ACCOUNT})
    result = exporter.ensure_exporter_present(iam_client, logs_client, caller_identity.Caller(sts_client, allow_root=True), trusted_spec(), check_mode=True)
    assert result["changed"] is True
    assert result["role"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/exporter"
    sts_stub.assert_no_pending_responses()


def test_no_change_never_reads_the_identity():
    iam_client, iam_stub = stubbed("iam")
    sts_client, _sts_stub = stubbed("sts")  # nothing queued: a GetCallerIdentity would fail the test
    logs_client, _logs_stub = stubbed("logs")
    wanted = trusted_spec()
    trust = policies.exporter_trust_policy(trusted_role_arns=wanted.trusted_role_arns)
    permission = policies.exporter_permission_policy("aws", REGION, ACCOUNT, log_groups=["/db"])
    existing = dict(role("exporter", trust), Description=exporter.ROLE_DESCRIPTION, MaxSessionDuration=3600, Tags=OWNER_TAGS)
    iam_stub.add_response("get_role", {"Role": existing}, {"RoleName": "exporter"})
    iam_stub.add_response("list_attached_role_policies", {"AttachedPolicies": [], "IsTruncated": False}, {"RoleName": "exporter"})
    iam_stub.add_response(
        "get_role_policy",
        {"RoleName": "exporter", "PolicyName": exporter.INLINE_POLICY_NAME, "PolicyDocument": json.dumps(permission)},
        {"RoleName": "exporter", "PolicyName": exporter.INLINE_POLICY_NAME},
    )
    iam_stub.add_response("list_role_policies", {"PolicyNames": [exporter.INLINE_POLICY_NAME], "IsTruncated": False}, {"RoleName": "exporter"})
    result = exporter.ensure_exporter_present(iam_client, logs_client, caller_identity.Caller(sts_client, allow_root=False), wanted)
    assert result["changed"] is False and result["changes"] == []
    assert result["foreign_policies"] == {"attached": [], "inline": []}
    iam_stub.assert_no_pending_responses()


OTHER_ROLE = "arn:aws:iam::210987654321:role/shipper"


@pytest.mark.parametrize("kwargs, outcome", [
    ({}, "refused"),
    ({"external_id": "tenant-42"}, "fine"),
    ({"principal_org_id": "o-abcdefghij"}, "fine"),
    ({"allow_cross_account_without_external_id": True}, "warned"),
])
def test_a_role_of_another_account_needs_an_external_id_or_the_organization(kwargs, outcome):
    wanted = exporter.ExporterSpec(name="exporter", region=REGION, trusted_role_arns=[OTHER_ROLE], data_types=["traces"], **kwargs)
    wanted.validate()
    if outcome == "refused":
        with pytest.raises(AnsibleIAMError) as e:
            wanted.check_cross_account(ACCOUNT)
        assert e.value.message.startswith(f"trusted_role_arns: {OTHER_ROLE} is in another account than role exporter")
        assert "confused deputy" in e.value.message and "Nothing was changed" in e.value.message
    else:
        warnings = wanted.check_cross_account(ACCOUNT)
        assert (warnings != []) is (outcome == "warned")
    # A role of the same account needs neither.
    assert exporter.ExporterSpec(name="e", region=REGION, trusted_role_arns=[f"arn:aws:iam::{ACCOUNT}:role/a"]).check_cross_account(ACCOUNT) == []


def test_trust_policy_with_the_organization_and_the_external_id():
    trust = policies.exporter_trust_policy(trusted_role_arns=[OTHER_ROLE], external_id="tenant-42", principal_org_id="o-abcdefghij")
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": "tenant-42", "aws:PrincipalOrgID": "o-abcdefghij"}}
