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
