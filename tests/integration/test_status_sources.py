# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.status_sources against the moto server: versions by digest, key ages, counted calls."""

import hashlib

NAME = "AmazonCloudWatch-linux"


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_versions_by_digest_and_key_ages_each_read_once(aws, ansible):
    ssm, iam = aws.client("ssm"), aws.client("iam")
    for value in ('{"metrics": {}}', '{"logs": {}}', '{"agent": {}}'):
        ssm.put_parameter(Name=NAME, Value=value, Type="String", Overwrite=True)
    iam.create_user(UserName="cloudwatch-agent-onprem")
    key_id = iam.create_access_key(UserName="cloudwatch-agent-onprem")["AccessKey"]["AccessKeyId"]
    args = {"parameters": {NAME: [sha('{"logs": {}}'), sha("edited on the host")], "AmazonCloudWatch-gone": [sha("{}")]},
            "access_key_ids": [key_id, key_id, "AKIAUNKNOWN000000000"]}
    for check in (True, False):
        with aws.record() as calls:
            result = ansible.module("observability.cloudwatch.status_sources", args, check=check)
        assert result["changed"] is False
        assert result["parameters"] == {
            NAME: {"exists": True, "latest": 3, "versions": {sha('{"logs": {}}'): 2, sha("edited on the host"): None}},
            "AmazonCloudWatch-gone": {"exists": False, "latest": None, "versions": {sha("{}"): None}},
        }
        keys = result["access_keys"]
        assert keys["AKIAUNKNOWN000000000"] == {"exists": False}
        assert keys[key_id]["user_name"] == "cloudwatch-agent-onprem" and keys[key_id]["status"] == "Active"
        assert 0 <= keys[key_id]["age_days"] < 1
        # No value leaves the module.
        assert '"metrics"' not in str(result) and '"logs"' not in str(result)
        actions = sorted(call["operation"] for call in calls)
        assert actions == ["GetAccessKeyLastUsed", "GetAccessKeyLastUsed", "GetParameterHistory", "GetParameterHistory", "ListAccessKeys"]


def test_parameters_that_are_not_lists_of_digests_are_refused(aws, ansible):
    result = ansible.module("observability.cloudwatch.status_sources", {"parameters": {NAME: "abc"}}, expect_failure=True)
    assert "not a list for: " + NAME in result["msg"]
