# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Managed policy references: the AWS managed policies the collection names, how a reference (an ARN,
``NAME`` or ``PATH/NAME``) matches an attached policy, and its resolution to an ARN that exists."""

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_api import get_policy
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import iam_error

AWS_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/"
AGENT_POLICIES = {
    "server": AWS_MANAGED_POLICY_ARN + "CloudWatchAgentServerPolicy",
    "admin": AWS_MANAGED_POLICY_ARN + "CloudWatchAgentAdminPolicy",
}
SSM_CORE_POLICY = AWS_MANAGED_POLICY_ARN + "AmazonSSMManagedInstanceCore"
LEGACY_SSM_POLICY = AWS_MANAGED_POLICY_ARN + "service-role/AmazonEC2RoleforSSM"
# AWS managed policies whose existence is not checked before they are attached.
KNOWN_AWS_POLICIES = frozenset(list(AGENT_POLICIES.values()) + [SSM_CORE_POLICY])


def _policy_resource(arn):
    """The account field and ``policy/PATH/NAME`` of a policy ARN."""
    parsed = parse_aws_arn(arn)
    return parsed["account_id"], parsed["resource"]


def policy_matches(arn, reference):
    """Whether the attached policy ``arn`` is the one ``reference`` names.

    An ARN reference matches the same ARN in any partition; ``PATH/NAME`` matches that path and
    name; a bare ``NAME`` matches a policy of that name on any path.
    """
    account, resource = _policy_resource(arn)
    if reference.startswith("arn:"):
        return (account, resource) == _policy_resource(reference)
    reference = reference.strip("/")
    if "/" in reference:
        return resource == "policy/" + reference
    return resource.rsplit("/", 1)[-1] == reference


def is_legacy_ssm_policy(reference):
    return policy_matches(LEGACY_SSM_POLICY, reference)


def diff_attached_policies(current_arns, references, purge):
    """Return ``(to_attach, to_detach)``: references matching no attached policy, and attached ARNs
    no reference names (only when ``purge``). ``references`` always includes the required ones, so a
    purge never detaches them."""
    to_attach = []
    for reference in references:
        if not any(policy_matches(arn, reference) for arn in current_arns) and reference not in to_attach:
            to_attach.append(reference)
    to_detach = []
    if purge:
        to_detach = [arn for arn in current_arns if not any(policy_matches(arn, r) for r in references)]
    return to_attach, to_detach


def _is_known(arn, known):
    return "arn:aws:" + arn.split(":", 2)[2] in known


def resolve_policy_arn(client, reference, account_id, partition, known=KNOWN_AWS_POLICIES):
    """The ARN of the managed policy ``reference`` names, checked to exist.

    An ARN is checked as it is. A name (``NAME`` or ``PATH/NAME``, e.g. ``service-role/X``) is looked up
    first as an AWS managed policy (``arn:PARTITION:iam::aws:policy/...``), then as a customer managed
    policy of the caller's account (``arn:PARTITION:iam::ACCOUNT:policy/...``). ``known`` AWS managed
    ARNs are trusted without a call. Raises ``AnsibleIAMError`` when no candidate exists.
    """
    if reference.startswith("arn:"):
        candidates = [reference]
    else:
        reference = reference.strip("/")
        candidates = [
            f"arn:{partition}:iam::aws:policy/{reference}",
            f"arn:{partition}:iam::{account_id}:policy/{reference}",
        ]
    for candidate in candidates:
        if _is_known(candidate, known):
            return candidate
        if get_policy(client, candidate) is not None:
            return candidate
    raise iam_error(f"managed policy {reference!r} does not exist (looked for {', '.join(candidates)})")


class PolicyResolver:
    """Resolves policy references to ARNs when a plan attaches them (so only when a write is due)."""

    def __init__(self, client, caller, known=KNOWN_AWS_POLICIES):
        self.client = client
        self.caller = caller
        self.known = known

    def arn(self, reference):
        return resolve_policy_arn(self.client, reference, self.caller.account_id, self.caller.partition, self.known)

    def check_exists(self, arn, option):
        if not _is_known(arn, self.known) and get_policy(self.client, arn) is None:
            raise iam_error(f"{option} {arn!r} does not exist")
