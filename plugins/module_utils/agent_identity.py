# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What makes a role or user an identity of the CloudWatch agent (``agent_iam_role``, ``agent_iam_user``):
the EC2 trust policy and the policies it always has."""

from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import AGENT_POLICIES
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import SSM_CORE_POLICY
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_policies import is_legacy_ssm_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error

EC2_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def agent_policies(purpose, ssm_managed):
    """The policies an agent identity always has: its purpose policy, and AmazonSSMManagedInstanceCore
    when Systems Manager installs or configures the agent."""
    if purpose not in AGENT_POLICIES:
        raise iam_error(f"purpose must be one of {', '.join(sorted(AGENT_POLICIES))}, got {purpose!r}")
    return [AGENT_POLICIES[purpose]] + ([SSM_CORE_POLICY] if ssm_managed else [])


def agent_policy_warnings(managed_policies):
    if any(is_legacy_ssm_policy(reference) for reference in managed_policies or []):
        return [
            "AmazonEC2RoleforSSM is deprecated: AWS replaced it with AmazonSSMManagedInstanceCore. "
            "Set ssm_managed=true and remove AmazonEC2RoleforSSM from managed_policies."
        ]
    return []
