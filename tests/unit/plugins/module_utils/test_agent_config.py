# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests for the agent_config logic: name rule, checks, tier choice and plan on plain data; the flows with a Stubber."""

import json

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_config as ac
from stubbed_aws import stubbed_client  # tests/tools

NAME = "AmazonCloudWatch-linux"
CONFIG = {"agent": {"metrics_collection_interval": 60}}
COMPACT = '{"agent":{"metrics_collection_interval":60}}'


def parameter(value=COMPACT, version=3, type_="String"):
    return {"Name": NAME, "Type": type_, "Value": value, "Version": version}


# ---- name and input --------------------------------------------------------------------------


def test_prefixed_name_gives_no_warning():
    assert ac.check_name(NAME) == []


def test_name_without_prefix_is_refused_unless_allowed():
    with pytest.raises(ac.AgentConfigInputError) as raised:
        ac.check_name("linux")
    assert "'AmazonCloudWatch-'" in raised.value.message and "allow_any_name=true" in raised.value.message
    assert raised.value.details == {}
    warnings = ac.check_name("linux", allow_any_name=True)
    assert len(warnings) == 1 and "CloudWatchAgentServerPolicy" in warnings[0] and "'linux'" in warnings[0]


def test_name_past_parameter_store_limits_is_refused_even_when_any_name_is_allowed():
    longest = NAME + "x" * (1011 - len("arn:aws:ssm:us-east-1:123456789012:parameter/") - len(NAME))
    assert ac.check_name(longest, region="us-east-1") == []
    for name, message in [
        (longest + "x", "1011 characters"),
        ("AmazonCloudWatch-" + "x" * 1100, "1011 characters"),
        ("AmazonCloudWatch-linux config", "is not a valid SSM parameter name"),
        ("/" + "/".join(["level"] * 16), "at most 15 levels"),
        ("aws-linux", "may not start with aws or ssm"),
    ]:
        with pytest.raises(ac.AgentConfigInputError) as raised:
            ac.check_name(name, allow_any_name=True, region="us-east-1")
        assert raised.value.message.startswith("name") and message in raised.value.message
        assert "nothing was written" in raised.value.message


def test_description_and_tags_within_parameter_store_limits():
    ac.check_metadata("d" * 1024, {f"k{i}": "v" for i in range(50)})
    ac.check_metadata(None, None)
    for description, tags, message in [
        ("d" * 1025, None, "description has 1025 characters; Parameter Store allows at most 1024"),
        (None, {f"k{i}": "v" for i in range(51)}, "tags: at most 50 tags"),
        (None, {"k": "v" * 257}, "longer than 256"),
        (None, {"team#1": "v"}, "may hold only"),
    ]:
        with pytest.raises(ac.AgentConfigInputError, match="nothing was written") as raised:
            ac.check_metadata(description, tags)
        assert message in raised.value.message


def test_prepare_normalises_and_measures():
    config, compact, size = ac.prepare(NAME, '{ "agent" : {"metrics_collection_interval": 60} }', "content")
    assert (config, compact, size) == (CONFIG, COMPACT, len(COMPACT))
    assert ac.prepare(NAME, {"agent": {"logfile": "é"}}, "config")[2] == len('{"agent":{"logfile":"é"}}'.encode())


def test_prepare_leaves_validation_to_the_controller():
    # The agent_config action validated the value; the module only normalises it.
    assert ac.prepare(NAME, {"agent": {"metrics_collection_interval": 0}, "unknown": {}}, "version 2")[1] == (
        '{"agent":{"metrics_collection_interval":0},"unknown":{}}'
    )


@pytest.mark.parametrize("text, kind", [("[1, 2]", "array"), ("3", "integer"), ('"text"', "string")])
def test_prepare_json_that_is_not_an_object(text, kind):
    with pytest.raises(ac.AgentConfigInputError) as raised:
        ac.prepare(NAME, text, "content")
    assert raised.value.details == {"errors": [f"(root): must be of type object, got {kind}"]}
    assert f"(content) is not valid, nothing was written. 1 error: (root): must be of type object, got {kind}" in raised.value.message


def test_prepare_unusable_json():
    with pytest.raises(ac.AgentConfigInputError) as raised:
        ac.prepare(NAME, '{"agent": {', "content")
    assert raised.value.message.startswith(f"The agent configuration for {NAME} (content) cannot be used: config: invalid JSON at line 1")
    assert raised.value.details == {}


def test_tier_for_names_the_parameter_and_the_size():
    assert ac.tier_for(NAME, "auto", 5000) == "Advanced"
    with pytest.raises(ac.AgentConfigInputError) as raised:
        ac.tier_for(NAME, "auto", 9000)
    assert raised.value.message.startswith(f"Cannot publish {NAME}: the configuration (config or content) is 9000 bytes")
    assert "limit of 8192 bytes" in raised.value.message
    assert raised.value.message.endswith("; nothing was written.")
    assert raised.value.details == {"size": 9000}


@pytest.mark.parametrize("current, tier, description, expected", [
    (None, "Standard", "d", False),
    (parameter(), "auto", None, False),
    (parameter(), "Intelligent-Tiering", None, False),
    (parameter(), "auto", "d", True),
    (parameter(), "Standard", None, True),
    (parameter(), "Advanced", None, True),
])
def test_description_is_read_only_when_needed(current, tier, description, expected):
    assert ac.needs_description(current, tier, description) is expected


def test_plan_new_parameter():
    assert ac.plan_parameter(NAME, None, None, CONFIG, 100) == {"write": True, "tier": "Standard", "version": 1, "result_tier": "Standard"}
    assert ac.plan_parameter(NAME, None, None, CONFIG, 5000)["result_tier"] == "Advanced"


def test_plan_same_configuration_is_no_write():
    plan = ac.plan_parameter(NAME, parameter(json.dumps(CONFIG, indent=4)), None, CONFIG, 100)
    assert plan == {"write": False, "tier": "Standard", "version": 3, "result_tier": "Standard"}
    # A described tier is reported as it is, even one that known_tier cannot tell.
    described = {"Tier": "Intelligent-Tiering", "Description": ""}
    assert ac.plan_parameter(NAME, parameter(), described, CONFIG, 100)["result_tier"] == "Intelligent-Tiering"


@pytest.mark.parametrize("current, described, config, tier, description", [
    (parameter(), None, {"agent": {}}, "auto", None),  # other value
    (parameter(type_="StringList"), None, CONFIG, "auto", None),  # other type
    (parameter(value="not json"), None, CONFIG, "auto", None),
    (parameter(), {"Tier": "Standard"}, CONFIG, "auto", "new"),  # other description
    (parameter(), {"Tier": "Standard", "Description": "old"}, CONFIG, "auto", ""),
    (parameter(), {"Tier": "Standard"}, CONFIG, "Advanced", None),  # other tier
])
def test_plan_writes_a_new_version(current, described, config, tier, description):
    plan = ac.plan_parameter(NAME, current, described, config, 100, tier, description)
    assert plan["write"] and plan["version"] == 4


def test_plan_tiers():
    advanced = {"Tier": "Advanced"}
    # auto keeps an advanced parameter advanced; Standard cannot go back.
    assert ac.plan_parameter(NAME, parameter(), advanced, {"agent": {}}, 10)["tier"] == "Advanced"
    with pytest.raises(ac.AgentConfigInputError, match="cannot move a parameter back"):
        ac.plan_parameter(NAME, parameter(), advanced, CONFIG, 10, "Standard")
    # Intelligent-Tiering is reported as the tier auto would take.
    plan = ac.plan_parameter(NAME, None, None, CONFIG, 5000, "Intelligent-Tiering")
    assert plan["tier"] == "Intelligent-Tiering" and plan["result_tier"] == "Advanced"
    # A stored value above 4096 bytes proves the advanced tier without DescribeParameters.
    big = parameter(json.dumps({"agent": {"logfile": "x" * 5000}}))
    assert ac.plan_parameter(NAME, big, None, CONFIG, 10)["result_tier"] == "Advanced"


def test_merged_tags():
    assert ac.merged_tags({"a": "1", "b": "2"}, {"c": "3", "a": "0"}, ["b"]) == {"a": "0", "c": "3"}


# ---- flows with a Stubber --------------------------------------------------------------------


@pytest.fixture
def stubbed():
    with stubbed_client("ssm") as client_and_stubber:
        yield client_and_stubber


def test_create_and_no_op(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    stubber.add_response("put_parameter", {"Version": 1, "Tier": "Standard"},
                         {"Name": NAME, "Value": COMPACT, "Type": "String", "Overwrite": False, "Tier": "Standard"})
    stubber.add_response("get_parameter", {"Parameter": parameter(version=1)}, {"Name": NAME, "WithDecryption": False})
    created = ac.ensure_present(client, NAME, config=CONFIG, diff=True)
    assert created["changed"] and created["parameter"] == {"name": NAME, "version": 1, "tier": "Standard", "type": "String"}
    assert created["config"] == CONFIG and created["size"] == len(COMPACT)
    assert created["diff"]["before_header"] == f"{NAME} (absent)" and created["diff"]["before"] == ""
    again = ac.ensure_present(client, NAME, content=COMPACT)
    assert not again["changed"] and again["parameter"]["version"] == 1 and "diff" not in again


def test_check_mode_writes_nothing(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_parameter", {"Parameter": parameter()}, {"Name": NAME, "WithDecryption": False})
    stubber.add_response("list_tags_for_resource", {"TagList": [{"Key": "a", "Value": "1"}]},
                         {"ResourceType": "Parameter", "ResourceId": NAME})
    result = ac.ensure_present(client, NAME, config={"agent": {}}, tags={"b": "2"}, check_mode=True)
    assert result["changed"] and result["parameter"]["version"] == 4 and result["parameter"]["tags"] == {"b": "2"}


def test_invalid_input_reads_nothing(stubbed):
    client, _stubber = stubbed
    with pytest.raises(ac.AgentConfigInputError):
        ac.ensure_present(client, NAME, content='{"agent": {')
    with pytest.raises(ac.AgentConfigInputError, match="9000|bytes"):
        ac.ensure_present(client, NAME, config={"agent": {"logfile": "x" * 9000}})


def test_restore_a_missing_version(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_parameter", "ParameterVersionNotFound")
    with pytest.raises(ac.AgentConfigInputError) as raised:
        ac.ensure_present(client, NAME, restore_version=42)
    assert raised.value.message == (
        f"Cannot restore version 42 of {NAME}: the parameter or that version does not exist"
        " (Parameter Store keeps the last 100 versions)."
    )


def test_absent(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_parameter", {"Parameter": parameter()}, {"Name": NAME, "WithDecryption": False})
    stubber.add_response("delete_parameter", {}, {"Name": NAME})
    stubber.add_client_error("get_parameter", "ParameterNotFound")
    deleted = ac.ensure_absent(client, NAME, diff=True)
    assert deleted["changed"] and deleted["parameter"] == {}
    assert deleted["diff"]["before"] == json.dumps(CONFIG, indent=2, sort_keys=True) + "\n"
    assert deleted["diff"]["after_header"] == f"{NAME} (absent)" and deleted["diff"]["after"] == ""
    assert ac.ensure_absent(client, NAME) == {"changed": False, "parameter": {}}
