# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What makes a role or user an identity of the CloudWatch agent (``agent_iam_role``, ``agent_iam_user``):
the EC2 trust policy, the policies it always has (AWS's managed policy, or the scoped policy generated from
the configurations it runs), and the managed policies it may not get without an explicit opt-in."""

import json
import os

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_policy import SCOPED_POLICY_NAME
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_policy import scoped_agent_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import PolicyInputError
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


# Managed policies that grant far more than an agent needs: attached only with allow_broad_policies.
_BROAD_POLICY_NAMES = ("AdministratorAccess", "PowerUserAccess")
_BROAD_POLICY_SUFFIX = "FullAccess"


def agent_policies(purpose, ssm_managed, scoped=False):
    """The managed policies an agent identity always has: its purpose policy (none when it has the scoped
    policy instead), and AmazonSSMManagedInstanceCore when Systems Manager installs or configures the agent."""
    if purpose not in AGENT_POLICIES:
        raise iam_error(f"purpose must be one of {', '.join(sorted(AGENT_POLICIES))}, got {purpose!r}")
    return ([] if scoped else [AGENT_POLICIES[purpose]]) + ([SSM_CORE_POLICY] if ssm_managed else [])


def check_broad_policies(references, allowed, option="managed_policies"):
    """Refuse AdministratorAccess, PowerUserAccess and any ``*FullAccess`` policy unless ``allowed``."""
    broad = [r for r in references or [] if r.rstrip("/").rsplit("/", 1)[-1] in _BROAD_POLICY_NAMES
             or r.rstrip("/").rsplit("/", 1)[-1].endswith(_BROAD_POLICY_SUFFIX)]
    if broad and not allowed:
        raise iam_error(
            f"{option} names {', '.join(broad)}, which grant far more than the CloudWatch agent needs: every host "
            "holding this identity could use them. Remove them, or set allow_broad_policies=true if that is really "
            "wanted. Nothing was changed."
        )


def _load_config(index, entry):
    """One entry of scoped_policy.configs as ``(name, configuration dict)``: from config, content or file."""
    where = f"scoped_policy.configs[{index}]"
    sources = [key for key in ("config", "content", "file") if entry.get(key) is not None]
    if len(sources) != 1:
        raise iam_error(f"{where}: give exactly one of config, content or file (got {', '.join(sources) or 'none'})")
    value = entry[sources[0]]
    try:
        if sources[0] == "file":
            with open(os.path.expanduser(value), encoding="utf-8") as handle:
                value = handle.read()
        config = json.loads(value) if isinstance(value, str) else value
    except (OSError, ValueError) as e:
        raise iam_error(f"{where}.{sources[0]}: cannot read the configuration as JSON: {e}") from e
    if not isinstance(config, dict):
        raise iam_error(f"{where}.{sources[0]}: the configuration must be a JSON object")
    return entry.get("name"), config


def agent_inline_policies(purpose, scoped_policy):
    """The inline policies of an agent identity, as ``PrincipalSpec.inline_policies``.

    With ``scoped_policy`` (the module option), the scoped policy as ``document(partition, account)``, checked
    now on a sample account so bad input fails before any call; without it, none.
    """
    if scoped_policy is None:
        return None
    if purpose != "server":
        raise iam_error(
            "scoped_policy is for purpose=server: an admin identity publishes configurations with "
            "CloudWatchAgentAdminPolicy, held only while publishing. Nothing was changed."
        )
    configs = [_load_config(i, entry) for i, entry in enumerate(scoped_policy.get("configs") or [])]
    regions = scoped_policy.get("regions") or ["*"]

    def document(partition, account):
        try:
            return scoped_agent_policy(configs, partition, account, regions)
        except PolicyInputError as e:
            raise iam_error(f"scoped_policy: {e}. Nothing was changed.") from e

    document("aws", "123456789012")
    return {SCOPED_POLICY_NAME: document}


def retired_agent_policies(scoped_policy, purge_policies):
    """Without ``scoped_policy`` and with ``purge_policies``, the scoped policy of an earlier run is deleted."""
    return [SCOPED_POLICY_NAME] if scoped_policy is None and purge_policies else []


def agent_policy_warnings(managed_policies, scoped=False, purge_policies=True):
    warnings = []
    if any(is_legacy_ssm_policy(reference) for reference in managed_policies or []):
        warnings.append(
            "AmazonEC2RoleforSSM is deprecated: AWS replaced it with AmazonSSMManagedInstanceCore. "
            "Set ssm_managed=true and remove AmazonEC2RoleforSSM from managed_policies."
        )
    if scoped and not purge_policies:
        warnings.append(
            "scoped_policy with purge_policies=false: a CloudWatchAgentServerPolicy attached before stays attached, "
            "and the identity keeps its rights on every log group until it is detached."
        )
    return warnings
