# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM OIDC provider helpers and plans (botocore Stubber, no network)."""

import json

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.observability.cloudwatch.plugins.module_utils import oidc
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from botocore.stub import Stubber

ACCOUNT = "123456789012"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
OTHER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
OWNER = {"managed-by": "observability.cloudwatch"}


@pytest.fixture
def stubbed():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1, delay=0)), stubber


def provider(arn, tags=None):
    return {"arn": arn, "url": arn.split("/", 1)[1], "client_ids": ["sts.amazonaws.com"], "thumbprints": [], "tags": dict(tags or {})}


def trusting(name, *arns):
    statements = [{"Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity"} for arn in arns]
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return {"RoleName": name, "RoleId": "AROAEXAMPLEEXAMPLE0001", "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "Path": "/",
            "CreateDate": "2024-01-01T00:00:00Z", "AssumeRolePolicyDocument": document}


def test_read_provider_by_arn_must_exist_only_when_required(stubbed):
    client, stub = stubbed
    missing = dict(service_error_code="NoSuchEntity", http_status_code=404, expected_params={"OpenIDConnectProviderArn": PROVIDER_ARN})
    stub.add_client_error("get_open_id_connect_provider", **missing)
    stub.add_client_error("get_open_id_connect_provider", **missing)
    assert oidc.read_provider(client, PROVIDER_ARN, ISSUER) is None
    with pytest.raises(AnsibleIAMError) as e:
        oidc.read_provider(client, PROVIDER_ARN, ISSUER, required=True)
    assert e.value.message == f"oidc_provider_arn {PROVIDER_ARN}: no such OIDC provider (give oidc_provider_url to create it)"
    assert oidc.read_provider(client) is None
    stub.assert_no_pending_responses()


def test_plan_new_provider_predicts_its_view(stubbed):
    client, stub = stubbed
    plan = Plan({"oidc_provider": None})
    oidc.plan_oidc_provider(plan, client, None, "https://" + ISSUER, ISSUER, "sts.amazonaws.com", ["a" * 40], OWNER, "aws", ACCOUNT)
    assert plan.changes == [f"create OIDC provider https://{ISSUER} (client ID sts.amazonaws.com)"]
    assert plan.after["oidc_provider"] == {
        "arn": PROVIDER_ARN, "url": ISSUER, "client_ids": ["sts.amazonaws.com"], "thumbprints": ["a" * 40], "tags": OWNER,
    }
    stub.add_response(
        "create_open_id_connect_provider",
        {"OpenIDConnectProviderArn": PROVIDER_ARN},
        {"Url": "https://" + ISSUER, "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": ["a" * 40],
         "Tags": [{"Key": "managed-by", "Value": "observability.cloudwatch"}]},
    )
    assert plan.apply() == {"oidc_provider": PROVIDER_ARN}


def test_providers_to_remove_reads_the_named_one_first_and_each_once(stubbed):
    client, stub = stubbed
    stub.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": PROVIDER_ARN}]})
    stub.add_response("get_open_id_connect_provider", {"Url": ISSUER, "Tags": []}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    stub.add_response("get_open_id_connect_provider", {"Url": "token.actions.githubusercontent.com", "Tags": []}, {"OpenIDConnectProviderArn": OTHER_ARN})
    trusted = {PROVIDER_ARN, OTHER_ARN, "cognito-identity.amazonaws.com"}
    found = oidc.read_providers_to_remove(client, trusted, issuer=ISSUER)
    assert [p["arn"] for p in found] == [PROVIDER_ARN, OTHER_ARN]
    stub.assert_no_pending_responses()


def test_absent_deletes_only_owned_providers_nobody_else_trusts(stubbed):
    client, stub = stubbed
    owned, kept, foreign = provider(PROVIDER_ARN, OWNER), provider(OTHER_ARN, OWNER), provider(OTHER_ARN + "x")
    plan = Plan({"oidc_provider": dict(owned)})
    stub.add_response("list_roles", {"Roles": [trusting("exporter", PROVIDER_ARN, OTHER_ARN)], "IsTruncated": False})
    stub.add_response("list_roles", {"Roles": [trusting("exporter", OTHER_ARN), trusting("ci", OTHER_ARN)], "IsTruncated": False})
    oidc.plan_oidc_providers_absent(plan, client, [owned, kept, foreign], "exporter")
    assert plan.changes == [f"delete OIDC provider {PROVIDER_ARN}"]
    assert plan.after["oidc_provider"] is None
    assert plan.warnings == [f"OIDC provider {OTHER_ARN} is kept: role ci still trust it."]
    stub.add_response("delete_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    plan.apply()
    stub.assert_no_pending_responses()


def test_wait_for_a_provider_iam_does_not_serve_yet_times_out_as_an_iam_error(stubbed):
    client, stub = stubbed
    stub.add_client_error("get_open_id_connect_provider", "NoSuchEntity", http_status_code=404, expected_params={"OpenIDConnectProviderArn": PROVIDER_ARN})
    with pytest.raises(AnsibleIAMError) as e:
        oidc.wait_for_oidc_provider(client, PROVIDER_ARN, 0)
    assert e.value.message == f"Timed out after 0 seconds waiting for OIDC provider {PROVIDER_ARN}"
    stub.add_response("get_open_id_connect_provider", {"Url": ISSUER, "Tags": []}, {"OpenIDConnectProviderArn": PROVIDER_ARN})
    assert oidc.wait_for_oidc_provider(client, PROVIDER_ARN, 0)["arn"] == PROVIDER_ARN
