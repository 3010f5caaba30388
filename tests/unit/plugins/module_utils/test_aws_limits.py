# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS's documented limits (module_utils/aws_limits.py): each refusal names the option and the limit,
and the largest value AWS accepts passes."""

import json

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import aws_limits

ARN_US_EAST_1 = "arn:aws:ssm:us-east-1:123456789012:parameter/"  # 45 characters
ROOM = 1011 - len(ARN_US_EAST_1)


def test_parameter_name_length_counts_the_arn_of_the_region():
    assert aws_limits.parameter_name_problem("A" * ROOM, "name", "us-east-1") is None
    assert aws_limits.parameter_name_problem("/" + "A" * ROOM, "name", "us-east-1") is None
    problem = aws_limits.parameter_name_problem("A" * (ROOM + 1), "name", "us-east-1")
    assert problem.startswith("name:") and f"{ROOM} at most in us-east-1" in problem and "1011" in problem
    # The 1,117 characters that were published unchecked.
    assert "1011" in aws_limits.parameter_name_problem("AmazonCloudWatch-" + "x" * 1100, "name", "us-east-1")


def test_parameter_name_length_in_a_longer_partition_and_without_a_region():
    gov = aws_limits.parameter_arn_prefix("us-gov-west-1")
    assert gov == "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/"
    assert aws_limits.parameter_name_problem("A" * ROOM, "name", "us-gov-west-1") is not None
    unknown = aws_limits.parameter_name_problem("A" * ROOM, "name")
    assert "region is not known" in unknown
    assert aws_limits.parameter_name_problem("A" * (1011 - len(aws_limits.parameter_arn_prefix())), "name") is None


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "must not be empty"),
        ("has space", "only letters, digits and _.-/"),
        ("tab\tname", "only letters, digits and _.-/"),
        ("ünïcode", "only letters, digits and _.-/"),
        ("a/b", "starts with /"),
        ("awsConfig", "aws or ssm"),
        ("/SSM/key", "aws or ssm"),
        ("/" + "/".join(["l"] * 16), "at most 15 levels"),
    ],
)
def test_parameter_name_rules(name, message):
    problem = aws_limits.parameter_name_problem(name, "access_key_store", "us-east-1")
    assert problem.startswith("access_key_store") and message in problem


def test_parameter_name_accepts_fifteen_levels():
    assert aws_limits.parameter_name_problem("/" + "/".join(["l"] * 15), "name", "us-east-1") is None
    assert aws_limits.parameter_name_problem("AmazonCloudWatch-linux_v1.2", "name", "us-east-1") is None


def test_parameter_description():
    assert aws_limits.parameter_description_problem("d" * 1024) is None
    assert aws_limits.parameter_description_problem(None) is None
    assert "description has 1025 characters" in aws_limits.parameter_description_problem("d" * 1025)
    assert "1024" in aws_limits.parameter_description_problem("d" * 1025)


@pytest.mark.parametrize(
    "tags, message",
    [
        ({f"k{i}": "v" for i in range(51)}, "at most 50 tags per resource, got 51"),
        ({"": "v"}, "must be 1 to 128 characters"),
        ({"k" * 129: "v"}, "must be 1 to 128 characters"),
        ({"AWS:team": "v"}, "must not start with aws:"),
        ({"k": "v" * 257}, "longer than 256 characters (257)"),
        ({"team#1": "v"}, "may hold only letters, digits, spaces and _.:/=+-@"),
        ({"team": "a;b"}, "the value of tag 'team' may hold only"),
    ],
)
def test_tag_rules(tags, message):
    problem = aws_limits.tags_problem(tags, "tags")
    assert problem.startswith("tags:") and message in problem


def test_tags_within_the_limits_and_the_tags_the_collection_adds():
    fifty = {f"k{i}": "v" for i in range(50)}
    assert aws_limits.tags_problem(fifty) is None
    assert aws_limits.tags_problem({"k" * 128: "v" * 256, "Équipe 1": "Données/été:+=@-_."}) is None
    assert aws_limits.tags_problem({"team": 42}) is None
    problem = aws_limits.tags_problem(fifty, added={"managed-by": "x"})
    assert "got 51 with managed-by, which the collection adds" in problem
    forty_nine = {f"k{i}": "v" for i in range(49)}
    assert aws_limits.tags_problem(forty_nine, added={"managed-by": "x"}) is None
    assert aws_limits.tags_problem(dict(forty_nine, **{"managed-by": "x"}), added={"managed-by": "x"}) is None


def test_policy_size_ignores_white_space_between_tokens_only():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "a b"}]}
    compact = json.dumps(document, separators=(",", ":"))
    assert aws_limits.policy_size(document) == len(compact)
    assert aws_limits.policy_size(json.dumps(document, indent=4)) == len(compact)
    assert aws_limits.policy_size(None) == 0


def _policy_of_size(size):
    base = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ""}]}
    filler = size - aws_limits.policy_size(base)
    base["Statement"][0]["Resource"] = "r" * filler
    assert aws_limits.policy_size(base) == size
    return base


@pytest.mark.parametrize("kind, limit", [("role", 10240), ("user", 2048)])
def test_inline_policies_together(kind, limit):
    half = limit // 2
    assert aws_limits.inline_policies_problem(kind, {"a": _policy_of_size(half), "b": _policy_of_size(limit - half)}) is None
    problem = aws_limits.inline_policies_problem(kind, {"a": _policy_of_size(half), "b": _policy_of_size(limit - half + 1)})
    assert f"come to {limit + 1} characters" in problem and f"IAM allows {limit}" in problem and problem.startswith("inline policies (a, b)")


def test_trust_policy():
    assert aws_limits.trust_policy_problem(_policy_of_size(2048)) is None
    assert aws_limits.trust_policy_problem(None) is None
    problem = aws_limits.trust_policy_problem(_policy_of_size(2049), "trusted_role_arns (in the trust policy)")
    assert problem.startswith("trusted_role_arns") and "2049" in problem and "IAM allows 2048" in problem


@pytest.mark.parametrize(
    "key_id",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "alias/cloudwatch-agent/keys_1",
        "arn:aws-cn:kms:cn-north-1:123456789012:alias/exporter-keys",
        None,
        "",
    ],
)
def test_kms_key_ids_accepted(key_id):
    assert aws_limits.kms_key_id_problem(key_id) is None


@pytest.mark.parametrize("key_id", ["aws/ssm-key", "alias/has space", "key/not-a-uuid", "arn:aws:kms:us-east-1:123:alias/x", "alias/" + "a" * 251])
def test_kms_key_ids_refused(key_id):
    problem = aws_limits.kms_key_id_problem(key_id)
    assert problem.startswith("kms_key_id") and "2048" in problem


def test_access_key_ids():
    assert aws_limits.access_key_id_problem("AKIAIOSFODNN7EXAMPLE", "retire_access_keys") is None
    for bad in ("AKIA-SHORT", "A" * 129, "AKIA IOSFODNN7EXAMPLE", 42):
        problem = aws_limits.access_key_id_problem(bad, "retire_access_keys")
        assert problem.startswith("retire_access_keys") and "16 to 128" in problem


def test_instance_ids_and_profiles():
    assert aws_limits.instance_id_problem("i-0123456789abcdef0") is None
    assert aws_limits.instance_id_problem("i-01234567") is None
    assert "i- and 8 or 17" in aws_limits.instance_id_problem("i-0123456789ABCDEF0")
    assert aws_limits.instance_id_problem(None).startswith("instance_id")
    assert aws_limits.instance_profile_problem("CloudWatchAgentServerRole") is None
    assert aws_limits.instance_profile_problem("arn:aws:iam::123456789012:instance-profile/agents/Server") is None
    assert aws_limits.instance_profile_problem(None) is None
    assert "1 to 128" in aws_limits.instance_profile_problem("p" * 129)
    assert aws_limits.instance_profile_problem("has space", "only_from_profile").startswith("only_from_profile")
    assert "instance profile ARN" in aws_limits.instance_profile_problem("arn:aws:iam::123456789012:role/Server")
