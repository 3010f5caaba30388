# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How tests/tools/agent_requests.py reads a request moto recorded as the IAM action, resource and context AWS
would evaluate: the Molecule proof that every agent call is allowed rests on it."""

import base64
import json

import pytest

import agent_requests  # from tests/tools (pytest.ini pythonpath)

ACCOUNT = "123456789012"
KEY = "AKIAEXAMPLEKEY000001"


def recorded(service, body, target=None, region="us-east-1", encoded=False):
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/20261130/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc",
    }
    if target:
        headers["X-Amz-Target"] = target
    if encoded:
        body = base64.b64encode(body.encode()).decode()
    return {"method": "POST", "url": "http://127.0.0.1:5000/", "headers": headers, "body": body, "body_encoded": encoded}


@pytest.mark.parametrize(
    "entry, action, resource, context",
    [
        (
            recorded("ssm", json.dumps({"Name": "AmazonCloudWatch-linux", "WithDecryption": True}), "AmazonSSM.GetParameter"),
            "ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/AmazonCloudWatch-linux", {},
        ),
        (
            recorded("logs", json.dumps({"logGroupName": "/ec2/syslog", "logStreamName": "host-1", "logEvents": []}),
                     "Logs_20140328.PutLogEvents", region="eu-west-1"),
            "logs:PutLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ec2/syslog:log-stream:host-1", {},
        ),
        (
            recorded("logs", json.dumps({"logGroupName": "/ec2/syslog", "retentionInDays": 30}), "Logs_20140328.PutRetentionPolicy"),
            "logs:PutRetentionPolicy", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ec2/syslog", {},
        ),
        (
            recorded("monitoring", "Action=PutMetricData&Version=2010-08-01&Namespace=Fleet%2FHosts", encoded=True),
            "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Fleet/Hosts"},
        ),
        (recorded("ec2", "Action=DescribeTags&Version=2016-11-15"), "ec2:DescribeTags", "*", {}),
    ],
    ids=["GetParameter", "PutLogEvents", "PutRetentionPolicy", "PutMetricData", "DescribeTags"],
)
def test_a_recorded_request_becomes_what_iam_evaluates(entry, action, resource, context):
    assert agent_requests.request_of(entry, ACCOUNT) == dict(access_key_id=KEY, action=action, resource=resource, context=context)


def test_an_unsigned_request_is_not_an_agent_call():
    entry = recorded("ssm", "{}", "AmazonSSM.GetParameter")
    entry["headers"] = {}
    assert agent_requests.request_of(entry, ACCOUNT) is None
