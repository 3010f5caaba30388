# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests for the instance profile association helpers: plain data, and the calls with a botocore Stubber."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.observability.cloudwatch.plugins.module_utils import ec2_association as assoc
from stubbed_aws import stubbed_client  # tests/tools

INSTANCE = "i-0123456789abcdef0"
ADMIN_ARN = "arn:aws:iam::123456789012:instance-profile/Admin"
SERVER_ARN = "arn:aws:iam::123456789012:instance-profile/Server"
DESCRIBE = {
    "Filters": [
        {"Name": "instance-id", "Values": [INSTANCE]},
        {"Name": "state", "Values": ["associating", "associated", "disassociating"]},
    ]
}


def association(arn=SERVER_ARN, state="associated", association_id="iip-assoc-1"):
    return {
        "AssociationId": association_id,
        "InstanceId": INSTANCE,
        "IamInstanceProfile": {"Arn": arn, "Id": "AIPAEXAMPLE"},
        "State": state,
    }


# ---- plain data ------------------------------------------------------------------------------


def test_profile_spec():
    assert assoc.profile_spec("Admin") == {"Name": "Admin"}
    assert assoc.profile_spec(ADMIN_ARN) == {"Arn": ADMIN_ARN}


@pytest.mark.parametrize("current, profile, expected", [
    (None, "Admin", False),
    ({}, "Admin", False),
    (association(ADMIN_ARN), "Admin", True),
    (association(ADMIN_ARN), ADMIN_ARN, True),
    (association(SERVER_ARN), "Admin", False),
    (association(SERVER_ARN), ADMIN_ARN, False),
    # A name matches the last part of the ARN only, not a path that ends like it.
    (association("arn:aws:iam::123456789012:instance-profile/team/NotAdmin"), "Admin", False),
])
def test_has_profile(current, profile, expected):
    assert assoc.has_profile(current, profile) is expected


@pytest.mark.parametrize("recorded, expected", [
    (SERVER_ARN, SERVER_ARN),
    ("arn:aws:iam::123456789012:instance-profile/team/Server", "arn:aws:iam::123456789012:instance-profile/team/Server"),
    ("none", "none"),
    # Whoever can tag an instance must not be able to choose its profile outside what a session writes.
    (ADMIN_ARN, "none"),
    ("arn:aws:iam::123456789012:instance-profile/team/Admin", "none"),
    ("arn:aws:iam::999999999999:instance-profile/Server", "none"),
    ("arn:aws-cn:iam::123456789012:instance-profile/Server", "none"),
    ("Server", "none"),
    (SERVER_ARN + "\n", "none"),
    ("", "none"),
])
def test_restore_target_is_another_profile_of_the_admin_profile_account_or_none(recorded, expected):
    assert assoc.restore_target(recorded, ADMIN_ARN) == expected


def test_restore_target_without_a_readable_admin_arn_gives_none():
    assert assoc.restore_target(SERVER_ARN, "Admin") == "none"


def test_to_ansible():
    assert assoc.to_ansible(None) == {}
    assert assoc.to_ansible(association()) == {
        "association_id": "iip-assoc-1",
        "instance_id": INSTANCE,
        "iam_instance_profile": {"arn": SERVER_ARN, "id": "AIPAEXAMPLE"},
        "state": "associated",
    }


def test_check_mode_predicts_without_calls():
    assert assoc.ensure_present(None, INSTANCE, ADMIN_ARN, association(), check_mode=True) == (True, {
        "InstanceId": INSTANCE, "State": "associated", "IamInstanceProfile": {"Arn": ADMIN_ARN}, "AssociationId": "iip-assoc-1",
    })
    assert assoc.ensure_present(None, INSTANCE, "Admin", None, check_mode=True) == (True, {
        "InstanceId": INSTANCE, "State": "associated", "IamInstanceProfile": {"Arn": "Admin"},
    })
    assert assoc.ensure_absent(None, INSTANCE, association(), check_mode=True) == (True, None)


def test_nothing_to_do_makes_no_call():
    current = association(ADMIN_ARN)
    assert assoc.ensure_present(None, INSTANCE, "Admin", current) == (False, current)
    assert assoc.ensure_absent(None, INSTANCE, None) == (False, None)


# ---- calls -----------------------------------------------------------------------------------


@pytest.fixture
def stubbed():
    with stubbed_client("ec2") as client_and_stubber:
        yield client_and_stubber


def described(stubber, *associations):
    stubber.add_response("describe_iam_instance_profile_associations", {"IamInstanceProfileAssociations": list(associations)}, DESCRIBE)


def test_read_association_skips_one_on_its_way_out(stubbed):
    client, stubber = stubbed
    described(stubber, association(state="disassociating", association_id="iip-old"), association(ADMIN_ARN, "associating"))
    described(stubber, association(state="disassociating"))
    assert assoc.read_association(client, INSTANCE) == association(ADMIN_ARN, "associating")
    assert assoc.read_association(client, INSTANCE) is None


def test_associate_and_wait(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "associate_iam_instance_profile", {"IamInstanceProfileAssociation": association(ADMIN_ARN, "associating")},
        {"IamInstanceProfile": {"Name": "Admin"}, "InstanceId": INSTANCE},
    )
    described(stubber, association(ADMIN_ARN, "associated"))
    assert assoc.ensure_present(client, INSTANCE, "Admin", None) == (True, association(ADMIN_ARN))


def test_replace_without_wait(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "replace_iam_instance_profile_association",
        {"IamInstanceProfileAssociation": association(ADMIN_ARN, "associating", "iip-assoc-2")},
        {"IamInstanceProfile": {"Arn": ADMIN_ARN}, "AssociationId": "iip-assoc-1"},
    )
    assert assoc.ensure_present(client, INSTANCE, ADMIN_ARN, association(), wait=False) == (
        True, association(ADMIN_ARN, "associating", "iip-assoc-2"))


def test_an_association_on_its_way_is_waited_for(stubbed):
    client, stubber = stubbed
    described(stubber, association(ADMIN_ARN, "associated"))
    assert assoc.ensure_present(client, INSTANCE, "Admin", association(ADMIN_ARN, "associating")) == (False, association(ADMIN_ARN))


def test_disassociate_and_wait(stubbed):
    client, stubber = stubbed
    stubber.add_response("disassociate_iam_instance_profile", {}, {"AssociationId": "iip-assoc-1"})
    described(stubber, association(state="disassociating"))
    assert assoc.ensure_absent(client, INSTANCE, association()) == (True, None)


def test_disassociate_error(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("disassociate_iam_instance_profile", "InvalidAssociationID.NotFound")
    with pytest.raises(AnsibleEC2Error) as raised:
        assoc.ensure_absent(client, INSTANCE, association(), wait=False)
    assert raised.value.message == "Failed to disassociate iam instance profile"
    assert "InvalidAssociationID.NotFound" in str(raised.value.exception)


def test_wait_times_out(stubbed):
    client, stubber = stubbed
    ticks = iter([0, 1, 5])
    slept = []
    described(stubber, association(state="associating"))
    described(stubber, association(state="associating"))
    with pytest.raises(AnsibleEC2Error) as raised:
        assoc.wait_for(client, INSTANCE, lambda a: a["State"] == "associated", 3, sleep=slept.append, clock=lambda: next(ticks))
    assert raised.value.message == f"Timeout waiting for the instance profile association of {INSTANCE}"
    assert slept == [assoc.POLL_SECONDS]


# ---- EC2 not knowing a new instance profile yet ----------------------------------------------


class FakeTime:
    """A clock that the sleeps move on, so the bound is tested without waiting."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def not_propagated(stubber, operation, kind="name"):
    stubber.add_client_error(
        operation, "InvalidParameterValue", f"Value (Admin) for parameter iamInstanceProfile.{kind} is invalid. Invalid IAM Instance Profile {kind}",
    )


def test_a_profile_ec2_does_not_know_yet_is_tried_again(stubbed):
    client, stubber = stubbed
    fake = FakeTime()
    not_propagated(stubber, "associate_iam_instance_profile")
    not_propagated(stubber, "associate_iam_instance_profile")
    stubber.add_response(
        "associate_iam_instance_profile", {"IamInstanceProfileAssociation": association(ADMIN_ARN, "associating")},
        {"IamInstanceProfile": {"Name": "Admin"}, "InstanceId": INSTANCE},
    )
    described(stubber, association(ADMIN_ARN, "associated"))
    result = assoc.ensure_present(client, INSTANCE, "Admin", None, wait_timeout=30, sleep=fake.sleep, clock=fake.clock)
    assert result == (True, association(ADMIN_ARN))
    assert fake.slept == [1, 2]


def test_a_profile_ec2_never_knows_fails_within_wait_timeout(stubbed):
    client, stubber = stubbed
    fake = FakeTime()
    for _call in range(6):
        not_propagated(stubber, "replace_iam_instance_profile_association", "arn")
    with pytest.raises(AnsibleEC2Error) as raised:
        assoc.ensure_present(client, INSTANCE, ADMIN_ARN, association(), wait_timeout=20, sleep=fake.sleep, clock=fake.clock)
    assert raised.value.message == (
        f"EC2 still refuses the instance profile {ADMIN_ARN} after 20 seconds (Value (Admin) for parameter"
        " iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile arn): the instance profile may not exist,"
        " or IAM has not propagated it to EC2 yet"
    )
    # Backoff, and the last sleep ends at the bound.
    assert fake.slept == [1, 2, 4, 8, 5] and fake.now == 20


def test_without_wait_the_retries_have_a_fixed_bound(stubbed):
    client, stubber = stubbed
    fake = FakeTime()
    for _call in range(10):
        not_propagated(stubber, "associate_iam_instance_profile")
    with pytest.raises(AnsibleEC2Error, match="after 60 seconds"):
        assoc.ensure_present(client, INSTANCE, "Admin", None, wait=False, sleep=fake.sleep, clock=fake.clock)
    assert fake.now == assoc.PROPAGATION_SECONDS


def test_another_invalid_parameter_value_is_not_retried(stubbed):
    client, stubber = stubbed
    fake = FakeTime()
    stubber.add_client_error(
        "associate_iam_instance_profile", "InvalidParameterValue", "The instance already has an IAM instance profile association",
    )
    with pytest.raises(AnsibleEC2Error) as raised:
        assoc.ensure_present(client, INSTANCE, "Admin", None, sleep=fake.sleep, clock=fake.clock)
    assert raised.value.message == "Failed to associate iam instance profile" and fake.slept == []
