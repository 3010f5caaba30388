# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the status report reads from AWS: versions found by digest in a parameter's history, keys' ages from IAM."""

import datetime
import hashlib

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.observability.cloudwatch.plugins.module_utils import status_sources
from stubbed_aws import stubbed_client  # tests/tools

NAME = "AmazonCloudWatch-linux"
NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version(number, value):
    return {"Name": NAME, "Type": "String", "Value": value, "Version": number}


def test_each_digest_gets_the_version_whose_value_has_it_across_pages():
    with stubbed_client("ssm") as (client, stub):
        stub.add_response("get_parameter_history", {"Parameters": [version(1, "{}"), version(2, '{"a": 1}')], "NextToken": "t"},
                          {"Name": NAME, "WithDecryption": True, "MaxResults": 50})
        stub.add_response("get_parameter_history", {"Parameters": [version(3, '{"a": 2}'), version(4, "{}")]},
                          {"Name": NAME, "WithDecryption": True, "MaxResults": 50, "NextToken": "t"})
        found = status_sources.parameter_versions(client, NAME, [sha('{"a": 1}'), sha("{}"), sha("never stored")])
    # A value stored twice is the newer version; a value never stored has none.
    assert found == {"exists": True, "latest": 4, "versions": {sha('{"a": 1}'): 2, sha("{}"): 4, sha("never stored"): None}}
    assert "{}" not in str(found) and '"a"' not in str(found)


def test_a_deleted_parameter_has_no_versions():
    with stubbed_client("ssm") as (client, stub):
        stub.add_client_error("get_parameter_history", "ParameterNotFound", "not found")
        assert status_sources.parameter_versions(client, NAME, [sha("{}")]) == {"exists": False, "latest": None, "versions": {sha("{}"): None}}


def test_no_right_to_read_the_history_names_the_permission():
    with stubbed_client("ssm") as (client, stub):
        stub.add_client_error("get_parameter_history", "AccessDeniedException", "no")
        with pytest.raises(AnsibleAWSError, match="ssm:GetParameterHistory"):
            status_sources.parameter_versions(client, NAME, [sha("{}")])


def key(key_id, created, status="Active"):
    return {"UserName": "agent", "AccessKeyId": key_id, "Status": status, "CreateDate": created}


def test_key_age_comes_from_iam_with_one_listing_per_user():
    created = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    used = datetime.datetime(2024, 4, 30, tzinfo=datetime.timezone.utc)
    with stubbed_client("iam") as (client, stub):
        stub.add_response("get_access_key_last_used", {"UserName": "agent", "AccessKeyLastUsed": {
            "LastUsedDate": used, "ServiceName": "monitoring", "Region": "us-east-1"}}, {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"})
        stub.add_response("list_access_keys", {"AccessKeyMetadata": [key("AKIAAAAAAAAAAAAAAAAA", created),
                                                                     key("AKIABBBBBBBBBBBBBBBB", NOW - datetime.timedelta(hours=36), "Inactive")]},
                          {"UserName": "agent"})
        stub.add_response("get_access_key_last_used", {"UserName": "agent", "AccessKeyLastUsed": {
            "ServiceName": "N/A", "Region": "N/A"}}, {"AccessKeyId": "AKIABBBBBBBBBBBBBBBB"})
        stub.add_client_error("get_access_key_last_used", "NoSuchEntity", "gone")
        found = status_sources.access_keys(client, ["AKIABBBBBBBBBBBBBBBB", "AKIAAAAAAAAAAAAAAAAA", "AKIAAAAAAAAAAAAAAAAA",
                                                    "AKIACCCCCCCCCCCCCCCC"], NOW)
    assert found == {
        "AKIAAAAAAAAAAAAAAAAA": {"exists": True, "user_name": "agent", "status": "Active", "create_date": "2024-01-01T00:00:00+00:00",
                                 "age_days": 121.0, "last_used_date": "2024-04-30T00:00:00+00:00"},
        "AKIABBBBBBBBBBBBBBBB": {"exists": True, "user_name": "agent", "status": "Inactive",
                                 "create_date": "2024-04-29T12:00:00+00:00", "age_days": 1.5, "last_used_date": None},
        "AKIACCCCCCCCCCCCCCCC": {"exists": False},
    }
