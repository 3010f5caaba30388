# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch Logs helpers and the log group plan (botocore Stubber, no network)."""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.observability.cloudwatch.plugins.module_utils import logs
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import Plan
from botocore.stub import Stubber

ACCOUNT = "123456789012"
REGION = "us-east-1"
TAGS = {"team": "db", "managed-by": "observability.cloudwatch"}


@pytest.fixture
def stubbed():
    client = boto3.client("logs", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1, delay=0)), stubber


def arn(name):
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def test_plan_creates_missing_groups_and_sets_retention_where_it_differs(stubbed):
    client, stub = stubbed
    current = {"/a": {"name": "/a", "arn": arn("/a"), "retention_in_days": 7}, "/b": None, "/c": {"name": "/c", "arn": arn("/c"), "retention_in_days": 30}}
    plan = Plan({"log_groups": logs.log_group_views(current, ["/a", "/b", "/c"])})
    logs.plan_log_group_changes(plan, client, current, ["/c", "/b", "/a"], 30, TAGS, "aws", REGION, ACCOUNT)
    assert plan.changes == ["create log group /b", "set retention of log group /b to 30 days", "set retention of log group /a to 30 days"]
    assert plan.before["log_groups"] == [current["/a"], current["/c"]], "the read state is not touched"
    assert plan.after["log_groups"] == [
        {"name": "/c", "arn": arn("/c"), "retention_in_days": 30},
        {"name": "/b", "arn": arn("/b"), "retention_in_days": 30},
        {"name": "/a", "arn": arn("/a"), "retention_in_days": 30},
    ]
    stub.add_response("create_log_group", {}, {"logGroupName": "/b", "tags": TAGS})
    stub.add_response("put_retention_policy", {}, {"logGroupName": "/b", "retentionInDays": 30})
    stub.add_response("put_retention_policy", {}, {"logGroupName": "/a", "retentionInDays": 30})
    plan.apply()
    stub.assert_no_pending_responses()


def test_plan_without_retention_leaves_existing_groups_alone(stubbed):
    client, _stub = stubbed  # nothing queued: any call would fail the test
    current = {"/a": {"name": "/a", "arn": arn("/a"), "retention_in_days": 7}}
    plan = Plan({"log_groups": logs.log_group_views(current, ["/a"])})
    logs.plan_log_group_changes(plan, client, current, ["/a"], None, TAGS, "aws", REGION, ACCOUNT)
    assert plan.changed is False
    assert plan.after["log_groups"] == [current["/a"]]
    assert plan.apply() == {}


def test_errors_are_cloudwatch_logs_errors(stubbed):
    client, stub = stubbed
    stub.add_client_error("describe_log_groups", "AccessDeniedException", http_status_code=400)
    with pytest.raises(logs.AnsibleCloudWatchLogsError, match="describe log group"):
        logs.get_log_group(client, "/a")
    stub.add_client_error("create_log_group", "ResourceAlreadyExistsException", http_status_code=400)
    with pytest.raises(logs.AnsibleCloudWatchLogsError, match="create log group"):
        logs.create_log_group(client, "/a")


def test_read_log_groups_reads_each_name_once(stubbed):
    client, stub = stubbed
    stub.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": "/a"})
    stub.add_response("describe_log_groups", {"logGroups": [{"logGroupName": "/b", "arn": arn("/b") + ":*"}]}, {"logGroupNamePrefix": "/b"})
    assert logs.read_log_groups(client, ["/a", "/b"]) == {"/a": None, "/b": {"name": "/b", "arn": arn("/b"), "retention_in_days": None}}
    stub.assert_no_pending_responses()
