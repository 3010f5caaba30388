# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests for the SSM Parameter Store helpers: tier rules, and the calls with a botocore Stubber."""

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils import ssm
from botocore.stub import ANY
from stubbed_aws import stubbed_client  # tests/tools

NAME = "AmazonCloudWatch-linux"


# ---- tier rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("size, current, expected", [
    (1, None, "Standard"),
    (4096, None, "Standard"),
    (4097, None, "Advanced"),
    (8192, None, "Advanced"),
    (4097, "Standard", "Advanced"),
    (100, "Standard", "Standard"),
    # Never back from Advanced.
    (100, "Advanced", "Advanced"),
    (4096, "Advanced", "Advanced"),
])
def test_auto_tier(size, current, expected):
    assert ssm.choose_tier("auto", size, current) == expected


@pytest.mark.parametrize("requested", ["auto", "Standard", "Advanced", "Intelligent-Tiering"])
def test_above_8_kb_fails_with_size_and_limit(requested):
    with pytest.raises(ssm.TierError) as raised:
        ssm.choose_tier(requested, 8193, None)
    assert "8193 bytes" in str(raised.value) and "8192 bytes" in str(raised.value)


def test_explicit_standard():
    assert ssm.choose_tier("Standard", 4096, "Standard") == "Standard"
    with pytest.raises(ssm.TierError, match="4097 bytes.*4096 bytes"):
        ssm.choose_tier("Standard", 4097, None)
    with pytest.raises(ssm.TierError, match="cannot move a parameter back"):
        ssm.choose_tier("Standard", 10, "Advanced")


@pytest.mark.parametrize("requested", ["Advanced", "Intelligent-Tiering"])
def test_explicit_tiers_are_kept(requested):
    assert ssm.choose_tier(requested, 10, "Standard") == requested
    assert ssm.choose_tier(requested, 5000, None) == requested


def test_unknown_tier():
    with pytest.raises(ssm.TierError, match="unknown tier"):
        ssm.choose_tier("Premium", 10, None)


@pytest.mark.parametrize("value, described, expected", [
    (None, None, None),
    ("x" * 4096, None, None),
    ("x" * 4097, None, "Advanced"),
    ("x", "Advanced", "Advanced"),
    ("x", "Standard", "Standard"),
    # moto reports the requested Intelligent-Tiering; AWS reports the tier it chose.
    ("x", "Intelligent-Tiering", None),
])
def test_known_tier(value, described, expected):
    assert ssm.known_tier(value, described) == expected


def test_size_counts_utf8_bytes():
    assert ssm.value_size('{"a":"é"}') == 10


# ---- calls -----------------------------------------------------------------------------------


@pytest.fixture
def stubbed():
    with stubbed_client("ssm") as client_and_stubber:
        yield client_and_stubber


def test_get_parameter(stubbed):
    client, stubber = stubbed
    parameter = {"Name": NAME, "Type": "String", "Value": "{}", "Version": 3}
    stubber.add_response("get_parameter", {"Parameter": parameter}, {"Name": NAME, "WithDecryption": False})
    stubber.add_response("get_parameter", {"Parameter": parameter}, {"Name": f"{NAME}:2", "WithDecryption": False})
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    stubber.add_client_error("get_parameter", "ParameterVersionNotFound")
    assert ssm.get_parameter(client, NAME) == parameter
    assert ssm.get_parameter(client, NAME, version=2) == parameter
    assert ssm.get_parameter(client, NAME) is None
    assert ssm.get_parameter(client, NAME, version=9) is None


@pytest.mark.parametrize("call, operation, permission", [
    (lambda c: ssm.get_parameter(c, NAME), "get_parameter", "ssm:GetParameter"),
    (lambda c: ssm.put_parameter(c, NAME, "{}"), "put_parameter", "ssm:PutParameter"),
    (lambda c: ssm.describe_parameter(c, NAME), "describe_parameters", "ssm:DescribeParameters"),
    (lambda c: ssm.list_parameter_tags(c, NAME), "list_tags_for_resource", "ssm:ListTagsForResource"),
    (lambda c: ssm.add_parameter_tags(c, NAME, {"a": "b"}), "add_tags_to_resource", "ssm:AddTagsToResource"),
    (lambda c: ssm.remove_parameter_tags(c, NAME, ["a"]), "remove_tags_from_resource", "ssm:RemoveTagsFromResource"),
    (lambda c: ssm.delete_parameter(c, NAME), "delete_parameter", "ssm:DeleteParameter"),
])
def test_access_denied_names_the_permission(stubbed, call, operation, permission):
    client, stubber = stubbed
    stubber.add_client_error(operation, "AccessDeniedException", "User is not authorized")
    with pytest.raises(ssm.AnsibleSSMError) as raised:
        call(client)
    assert permission in raised.value.message
    assert "AccessDeniedException" in str(raised.value.exception)


def test_put_parameter_returns_version_and_tier(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "put_parameter", {"Version": 1, "Tier": "Standard"},
        {"Name": NAME, "Value": "{}", "Type": "String", "Overwrite": False, "Tier": "Standard",
         "Tags": [{"Key": "team", "Value": "o11y"}]},
    )
    stubber.add_response(
        "put_parameter", {"Version": 2, "Tier": "Advanced"},
        {"Name": NAME, "Value": "{}", "Type": "String", "Overwrite": True, "Tier": "Advanced", "Description": "d"},
    )
    assert ssm.put_parameter(client, NAME, "{}", tier="Standard", tags={"team": "o11y"}, overwrite=False) == {
        "version": 1, "tier": "Standard"}
    assert ssm.put_parameter(client, NAME, "{}", tier="Advanced", description="d") == {"version": 2, "tier": "Advanced"}


def test_put_parameter_tells_a_refused_downgrade(stubbed):
    client, stubber = stubbed
    stubber.add_client_error(
        "put_parameter", "ValidationException",
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter"
        " tier to the standard-parameter tier.",
    )
    stubber.add_client_error("put_parameter", "ValidationException", "Value too long")
    with pytest.raises(ssm.AnsibleSSMTierDowngradeError):
        ssm.put_parameter(client, NAME, "{}", tier="Standard")
    with pytest.raises(ssm.AnsibleSSMError) as raised:
        ssm.put_parameter(client, NAME, "{}", tier="Standard")
    assert not isinstance(raised.value, ssm.AnsibleSSMTierDowngradeError)


def test_describe_parameter_follows_pages(stubbed):
    client, stubber = stubbed
    expected = {"Name": NAME, "Tier": "Advanced", "Description": "d"}
    stubber.add_response("describe_parameters", {"Parameters": [], "NextToken": "t"}, {"ParameterFilters": ANY})
    stubber.add_response("describe_parameters", {"Parameters": [expected]}, {"ParameterFilters": ANY, "NextToken": "t"})
    stubber.add_response("describe_parameters", {"Parameters": []}, {"ParameterFilters": ANY})
    assert ssm.describe_parameter(client, NAME) == expected
    assert ssm.describe_parameter(client, NAME) is None


def test_tags(stubbed):
    client, stubber = stubbed
    stubber.add_response("list_tags_for_resource", {"TagList": [{"Key": "a", "Value": "1"}]},
                         {"ResourceType": "Parameter", "ResourceId": NAME})
    stubber.add_response("remove_tags_from_resource", {}, {"ResourceType": "Parameter", "ResourceId": NAME, "TagKeys": ["a"]})
    stubber.add_response("add_tags_to_resource", {},
                         {"ResourceType": "Parameter", "ResourceId": NAME, "Tags": [{"Key": "b", "Value": "2"}]})
    assert ssm.list_parameter_tags(client, NAME) == {"a": "1"}
    assert ssm.update_parameter_tags(client, NAME, {"b": "2"}, ["a"]) is True
    assert ssm.update_parameter_tags(client, NAME, {}, []) is False


def test_delete_parameter(stubbed):
    client, stubber = stubbed
    stubber.add_response("delete_parameter", {}, {"Name": NAME})
    stubber.add_client_error("delete_parameter", "ParameterNotFound")
    assert ssm.delete_parameter(client, NAME) is True
    assert ssm.delete_parameter(client, NAME) is False


def test_put_parameter_keeps_an_advanced_parameter_advanced(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("put_parameter", "ValidationException", "You can't downgrade a parameter ...")
    stubber.add_response(
        "put_parameter", {"Version": 5, "Tier": "Advanced"},
        {"Name": NAME, "Value": "{}", "Type": "String", "Overwrite": True, "Tier": "Advanced"},
    )
    assert ssm.put_parameter(client, NAME, "{}", tier="Standard", keep_advanced=True) == {"version": 5, "tier": "Advanced"}
