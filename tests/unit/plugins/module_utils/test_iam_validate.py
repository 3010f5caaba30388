# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input validation of the IAM modules (module_utils/iam_validate.py): no AWS call."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_validate


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: iam_validate.validate_name("role", "has space"), "is not a valid IAM role name"),
        (lambda: iam_validate.validate_name("role", "r" * 65), "use 1 to 64 characters"),
        (lambda: iam_validate.validate_name("user", "u" * 65), "use 1 to 64 characters"),
        (lambda: iam_validate.validate_name("role", "rôle"), "is not a valid IAM role name"),
        (lambda: iam_validate.validate_name("role", ""), "name must not be empty"),
        (lambda: iam_validate.validate_path("role", "no-slashes"), "is not a valid IAM path"),
        (lambda: iam_validate.validate_path("role", "/" + "a" * 511 + "/"), "may not exceed 512"),
        (lambda: iam_validate.validate_max_session_duration(3599), "between 3600 and 43200"),
        (lambda: iam_validate.validate_max_session_duration(43201), "between 3600 and 43200"),
        (lambda: iam_validate.validate_description("x" * 1001), "at most 1000 characters"),
        (lambda: iam_validate.validate_permissions_boundary("ReadOnlyAccess"), "is not a managed policy ARN"),
        (lambda: iam_validate.validate_policy_reference("arn:aws:iam::123:policy/X"), "is not a managed policy ARN"),
        (lambda: iam_validate.validate_policy_reference("bad name!"), "neither a managed policy ARN nor a policy name"),
        (lambda: iam_validate.validate_tags({"aws:x": "1"}), "must not start with aws:"),
        (lambda: iam_validate.validate_tags({"k": "v" * 257}), "longer than 256"),
        (lambda: agent_identity.agent_policies("logs", False), "purpose must be one of admin, server"),
    ],
)
def test_validation_errors(call, message):
    with pytest.raises(AnsibleIAMError) as error:
        call()
    assert message in error.value.message


def test_valid_input_passes():
    iam_validate.validate_name("role", "CloudWatchAgent+Server=,.@_-Role")
    iam_validate.validate_name("instance profile", "p" * 128)
    iam_validate.validate_path("role", "/agents/cloudwatch/")
    iam_validate.validate_max_session_duration(3600)
    iam_validate.validate_max_session_duration(43200)
    iam_validate.validate_description("d" * 1000)
    iam_validate.validate_permissions_boundary("")
    iam_validate.validate_permissions_boundary("arn:aws-us-gov:iam::123456789012:policy/team/Boundary")
    iam_validate.validate_policy_reference("service-role/AmazonEC2RoleforSSM")
    iam_validate.validate_policy_reference("arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM")


def test_check_root_guard():
    with pytest.raises(AnsibleIAMError, match="Create an administrator"):
        iam_validate.check_root_guard("arn:aws:iam::123456789012:root", allow_root=False)
    with pytest.raises(AnsibleIAMError, match="allow_root=true"):
        iam_validate.check_root_guard("arn:aws-cn:iam::123456789012:root", allow_root=False)
    iam_validate.check_root_guard("arn:aws:iam::123456789012:root", allow_root=True)
    iam_validate.check_root_guard("arn:aws:iam::123456789012:user/root", allow_root=False)
    iam_validate.check_root_guard("arn:aws:sts::123456789012:assumed-role/Admin/session", allow_root=False)
