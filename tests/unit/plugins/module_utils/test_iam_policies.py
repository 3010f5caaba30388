# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed policy references (module_utils/iam_policies.py) and the agent's policies (agent_identity.py)."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_policies

SERVER = iam_policies.AGENT_POLICIES["server"]


@pytest.mark.parametrize(
    "arn, reference, expected",
    [
        (SERVER, SERVER, True),
        (SERVER, "arn:aws-cn:iam::aws:policy/CloudWatchAgentServerPolicy", True),
        (SERVER, "CloudWatchAgentServerPolicy", True),
        (iam_policies.LEGACY_SSM_POLICY, "AmazonEC2RoleforSSM", True),
        (iam_policies.LEGACY_SSM_POLICY, "service-role/AmazonEC2RoleforSSM", True),
        (iam_policies.LEGACY_SSM_POLICY, "other/AmazonEC2RoleforSSM", False),
        ("arn:aws:iam::123456789012:policy/CloudWatchAgentServerPolicy", SERVER, False),
        (SERVER, "CloudWatchAgentAdminPolicy", False),
    ],
)
def test_policy_matches(arn, reference, expected):
    assert iam_policies.policy_matches(arn, reference) is expected


def test_diff_attached_policies_never_detaches_required():
    current = [SERVER, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert iam_policies.diff_attached_policies(current, [SERVER], purge=True) == ([], ["arn:aws:iam::aws:policy/ReadOnlyAccess"])
    assert iam_policies.diff_attached_policies(current, [SERVER], purge=False) == ([], [])
    assert iam_policies.diff_attached_policies([], [SERVER, "X", "X"], purge=True) == ([SERVER, "X"], [])
    assert iam_policies.diff_attached_policies(current, [SERVER, "ReadOnlyAccess"], purge=True) == ([], [])


def test_resolve_policy_arn_tries_aws_then_customer(stubs):
    client, stub, _sts, _sts_stub = stubs
    stub.add_client_error("get_policy", "NoSuchEntity", expected_params={"PolicyArn": "arn:aws:iam::aws:policy/Mine"})
    stub.add_response("get_policy", {"Policy": {"Arn": "arn:aws:iam::123456789012:policy/Mine"}}, {"PolicyArn": "arn:aws:iam::123456789012:policy/Mine"})
    stub.add_client_error("get_policy", "NoSuchEntity")
    stub.add_client_error("get_policy", "NoSuchEntity")
    assert iam_policies.resolve_policy_arn(client, "Mine", "123456789012", "aws") == "arn:aws:iam::123456789012:policy/Mine"
    known = iam_policies.resolve_policy_arn(client, "CloudWatchAgentServerPolicy", "1", "aws-cn")
    assert known == "arn:aws-cn:iam::aws:policy/CloudWatchAgentServerPolicy", "known AWS managed policies cost no call"
    with pytest.raises(AnsibleIAMError, match="managed policy 'Nope' does not exist"):
        iam_policies.resolve_policy_arn(client, "Nope", "123456789012", "aws")


def test_legacy_ssm_policy_warning():
    assert agent_identity.agent_policy_warnings(["ReadOnlyAccess"]) == []
    assert "deprecated" in agent_identity.agent_policy_warnings(["service-role/AmazonEC2RoleforSSM"])[0]
    assert agent_identity.agent_policies("admin", True) == [iam_policies.AGENT_POLICIES["admin"], iam_policies.SSM_CORE_POLICY]
