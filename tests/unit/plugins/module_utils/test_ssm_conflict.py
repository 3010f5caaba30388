# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Another writer between agent_config's read and its write: found from the version PutParameter returns.

The flows run ``agent_config.ensure_present`` against a Stubber that plays both AWS and the other writer
(the versions it hands out skip the other writer's). Every stubbed response must be used, and a call
nobody stubbed fails the test, so each test also pins the calls a conflict costs.
"""

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_config as ac
from ansible_collections.observability.cloudwatch.plugins.module_utils import ssm_conflict as sc
from stubbed_aws import stubbed_client  # tests/tools

NAME = "AmazonCloudWatch-linux"
REGION = "us-east-1"
CONFIG = {"agent": {"metrics_collection_interval": 60}}
COMPACT = '{"agent":{"metrics_collection_interval":60}}'
OTHER = '{"agent":{"metrics_collection_interval":10}}'
OLD = '{"agent":{"metrics_collection_interval":30}}'


@pytest.fixture
def stubbed():
    with stubbed_client("ssm") as client_and_stubber:
        yield client_and_stubber


def read(stubber, version, value):
    stubber.add_response(
        "get_parameter", {"Parameter": {"Name": NAME, "Type": "String", "Value": value, "Version": version}},
        {"Name": NAME, "WithDecryption": False},
    )


def absent(stubber):
    stubber.add_client_error("get_parameter", "ParameterNotFound")


def put(stubber, version, overwrite=True):
    stubber.add_response(
        "put_parameter", {"Version": version, "Tier": "Standard"},
        {"Name": NAME, "Value": COMPACT, "Type": "String", "Overwrite": overwrite, "Tier": "Standard"},
    )


def create_refused(stubber, tags=None):
    expected = {"Name": NAME, "Value": COMPACT, "Type": "String", "Overwrite": False, "Tier": "Standard"}
    if tags:
        expected["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    stubber.add_client_error("put_parameter", "ParameterAlreadyExists", "The parameter already exists.", expected_params=expected)


# ---- plain data ------------------------------------------------------------------------------


@pytest.mark.parametrize("attempts, expected", [
    ([{"read": 3, "wrote": 4, "after": None}], []),
    ([{"read": 3, "wrote": 6, "after": None}], [4, 5]),
    ([{"read": 3, "wrote": 5, "after": 7}], [4, 6, 7]),
    ([{"read": 3, "wrote": 5, "after": 6}, {"read": 6, "wrote": 8, "after": 8}], [4, 6, 7]),
    ([{"read": 0, "wrote": None, "after": 2}, {"read": 2, "wrote": 3, "after": None}], [1, 2]),
    # Deleted and created again: the other writer's versions are gone with the history.
    ([{"read": 3, "wrote": 1, "after": None}], []),
])
def test_other_versions(attempts, expected):
    assert sc.other_versions(attempts) == expected


# ---- flows -----------------------------------------------------------------------------------


def test_no_conflict_costs_no_call(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    put(stubber, 4)
    result = ac.ensure_present(client, NAME, config=CONFIG)
    assert result["changed"] and result["parameter"]["version"] == 4 and "warnings" not in result


def test_conflict_fails_naming_the_versions(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    put(stubber, 5)
    with pytest.raises(sc.AnsibleSSMConflictError) as raised:
        ac.ensure_present(client, NAME, config=CONFIG)
    assert raised.value.message == (
        f"Another writer changed the parameter {NAME} in {REGION} while this run published it: this run read version 3"
        " and its write got version 5. This run's value is current (version 5); the other writer's value is kept in"
        " the parameter's history as version 4 (see restore_version). Parameter Store has no conditional write, so"
        " this is found after the write; on_conflict=retry reads it again and writes again if needed."
    )
    assert raised.value.parameter == {"name": NAME, "version": 5}


def test_retry_accepts_its_own_write_when_it_stands(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    put(stubber, 6)
    read(stubber, 6, COMPACT)
    result = ac.ensure_present(client, NAME, config=CONFIG, on_conflict="retry")
    assert result["changed"] and result["parameter"] == {"name": NAME, "version": 6, "tier": "Standard", "type": "String"}
    assert result["warnings"] == [
        f"Another writer changed the parameter {NAME} in {REGION} while this run published it (versions 4, 5); the"
        " parameter now holds this run's configuration, and the other writer's values are kept in its history."
    ]


def test_retry_writes_again_after_a_later_writer(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    put(stubber, 5)
    read(stubber, 6, OTHER)  # written after this run's version 5
    put(stubber, 7)
    result = ac.ensure_present(client, NAME, config=CONFIG, on_conflict="retry")
    assert result["changed"] and result["parameter"]["version"] == 7
    assert "(versions 4, 6)" in result["warnings"][0]


def test_retry_gives_up_after_three_writes(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    for wrote in (5, 8, 11):
        put(stubber, wrote)
        read(stubber, wrote + 1, OTHER)
    with pytest.raises(sc.AnsibleSSMConflictError) as raised:
        ac.ensure_present(client, NAME, config=CONFIG, on_conflict="retry")
    message = raised.value.message
    assert "3 writes, each overtaken: write 1 read version 3 and its write got version 5, then read version 6" in message
    assert "write 3 read version 9 and its write got version 11, then read version 12 written by another writer" in message
    assert "The other writer's value is current (version 12); this run's value is in the history as version 11." in message
    assert "on_conflict=retry" not in message
    assert raised.value.parameter == {"name": NAME, "version": 11}


def test_create_race_fails_having_written_nothing(stubbed):
    client, stubber = stubbed
    absent(stubber)
    create_refused(stubber)
    with pytest.raises(sc.AnsibleSSMConflictError) as raised:
        ac.ensure_present(client, NAME, config=CONFIG)
    assert f"{NAME} in {REGION}" in raised.value.message
    assert "this run found no parameter, and its create was refused: another writer had created it" in raised.value.message
    assert "The other writer's value is current; this run wrote nothing." in raised.value.message
    assert raised.value.parameter == {"name": NAME}


def test_create_race_retried_overwrites_the_other_value_and_still_tags(stubbed):
    client, stubber = stubbed
    tags = {"team": "obs"}
    absent(stubber)
    create_refused(stubber, tags)
    read(stubber, 1, OTHER)
    put(stubber, 2)  # Parameter Store takes no tags with Overwrite: they follow with AddTagsToResource
    stubber.add_response("list_tags_for_resource", {"TagList": []}, {"ResourceType": "Parameter", "ResourceId": NAME})
    stubber.add_response(
        "add_tags_to_resource", {}, {"ResourceType": "Parameter", "ResourceId": NAME, "Tags": [{"Key": "team", "Value": "obs"}]}
    )
    result = ac.ensure_present(client, NAME, config=CONFIG, tags=tags, on_conflict="retry")
    assert result["changed"] and result["parameter"]["version"] == 2 and result["parameter"]["tags"] == tags
    assert "(version 1)" in result["warnings"][0]


def test_create_race_with_the_same_configuration_is_no_change(stubbed):
    client, stubber = stubbed
    absent(stubber)
    create_refused(stubber)
    read(stubber, 1, COMPACT)
    result = ac.ensure_present(client, NAME, config=CONFIG, on_conflict="retry")
    assert not result["changed"] and result["parameter"]["version"] == 1
    assert "(version 1)" in result["warnings"][0]


def test_other_errors_are_not_conflicts(stubbed):
    client, stubber = stubbed
    read(stubber, 3, OLD)
    stubber.add_client_error("put_parameter", "ParameterLimitExceeded")
    with pytest.raises(ac.AnsibleSSMError) as raised:
        ac.ensure_present(client, NAME, config=CONFIG, on_conflict="retry")
    assert not isinstance(raised.value, sc.AnsibleSSMConflictError)
