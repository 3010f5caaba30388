# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The caller check of every module that writes to AWS (iam_validate.check_root_guard, caller.Caller)."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import ec2_association
from ansible_collections.observability.cloudwatch.plugins.module_utils import caller as caller_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import check_root_guard

PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"]
ACCOUNT = "123456789012"


@pytest.mark.parametrize("partition", PARTITIONS)
def test_root_is_refused_in_every_partition_unless_allowed(partition):
    arn = f"arn:{partition}:iam::{ACCOUNT}:root"
    with pytest.raises(AnsibleIAMError) as refused:
        check_root_guard(arn, allow_root=False, allow_federated_user=True)
    assert arn in refused.value.message and "allow_root=true" in refused.value.message
    check_root_guard(arn, allow_root=True)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_federated_user_is_refused_unless_allowed(partition):
    arn = f"arn:{partition}:sts::{ACCOUNT}:federated-user/Bob"
    with pytest.raises(AnsibleIAMError) as refused:
        check_root_guard(arn, allow_root=True)
    message = refused.value.message
    assert arn in message and "allow_federated_user=true" in message and "GetFederationToken" in message
    check_root_guard(arn, allow_root=False, allow_federated_user=True)


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/ops",
        f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/ops@example.com",
        f"arn:aws:iam::{ACCOUNT}:user/root",
        f"arn:aws:iam::{ACCOUNT}:user/federated-user/Bob",
        f"arn:aws:sts::{ACCOUNT}:user/moto",
    ],
)
def test_roles_and_users_pass_without_opt_in(arn):
    check_root_guard(arn, allow_root=False, allow_federated_user=False)


class CountingSTS:
    def __init__(self, arn):
        self.arn, self.calls = arn, 0

    def get_caller_identity(self, aws_retry=False):
        self.calls += 1
        return {"Arn": self.arn, "Account": ACCOUNT, "UserId": "AIDA"}


def test_caller_reads_the_identity_once_and_only_for_the_guard():
    sts = CountingSTS(f"arn:aws:sts::{ACCOUNT}:federated-user/Bob")
    caller = caller_identity.Caller(sts, allow_root=False)
    assert sts.calls == 0
    with pytest.raises(AnsibleIAMError, match="federated-user/Bob"):
        caller.guard()
    with pytest.raises(AnsibleIAMError):
        caller.guard()
    assert sts.calls == 1
    caller_identity.Caller(sts, allow_federated_user=True).guard()


def test_association_guard_runs_when_a_change_is_due_also_in_check_mode():
    sts = CountingSTS(f"arn:aws:iam::{ACCOUNT}:root")
    guard = caller_identity.Caller(sts).guard
    current = {"AssociationId": "iip-assoc-1", "State": "associated", "IamInstanceProfile": {"Arn": "arn:aws:iam::1:instance-profile/Admin"}}
    # Nothing to do: no call, not even to the caller identity.
    assert ec2_association.ensure_present(None, "i-0123456789abcdef0", "Admin", current, guard=guard) == (False, current)
    assert ec2_association.ensure_absent(None, "i-0123456789abcdef0", None, guard=guard) == (False, None)
    assert sts.calls == 0
    with pytest.raises(AnsibleIAMError, match="root"):
        ec2_association.ensure_present(None, "i-0123456789abcdef0", "Other", current, check_mode=True, guard=guard)
    with pytest.raises(AnsibleIAMError, match="root"):
        ec2_association.ensure_absent(None, "i-0123456789abcdef0", current, check_mode=True, guard=guard)
