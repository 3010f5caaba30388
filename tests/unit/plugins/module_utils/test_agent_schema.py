# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests for the agent configuration schema and validators.

Fixtures: tests/fixtures/agent_configs/valid/*.json must validate without errors;
tests/fixtures/agent_configs/invalid/<name>.json must give exactly the lines of <name>.errors.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import (
    config_size,
    normalize_config,
    validate_with_json_schema,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import (
    AGENT_CONFIG_SCHEMA,
    DEFINITIONS,
    validate_agent_config,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_logs import LOGS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_metrics import METRICS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import AgentConfigError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "agent_configs"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))


def _load(path):
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def _expected_errors(path):
    return path.with_suffix(".errors").read_text(encoding="utf-8").splitlines()


def _minimal(**sections):
    config = {"metrics": {"metrics_collected": {"mem": {"measurement": ["used_percent"]}}}}
    config.update(sections)
    return config


# ---- behaviour of the built-in schema --------------------------------------------------------

def test_validation_does_not_modify_the_configuration():
    config = _load(FIXTURES / "invalid" / "several_errors.json")
    before = copy.deepcopy(config)
    validate_agent_config(config)
    assert config == before


def test_result_does_not_depend_on_key_order():
    config = _load(FIXTURES / "invalid" / "several_errors.json")
    reordered = json.loads(json.dumps(config, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert validate_agent_config(reordered) == validate_agent_config(config)


@pytest.mark.parametrize("value", [60, 60.0])
def test_integral_number_is_an_integer(value):
    assert validate_agent_config({"agent": {"metrics_collection_interval": value}}) == []


@pytest.mark.parametrize(
    "value, message",
    [
        (60.5, "agent.metrics_collection_interval: must be of type integer, got number"),
        (True, "agent.metrics_collection_interval: must be of type integer, got boolean"),
        (None, "agent.metrics_collection_interval: must be of type integer, got null"),
        (172801, "agent.metrics_collection_interval: must be <= 172800, got 172801"),
    ],
)
def test_interval_rejects(value, message):
    assert validate_agent_config({"agent": {"metrics_collection_interval": value}}) == [message]


def test_integer_where_boolean_expected_is_rejected():
    assert validate_agent_config({"agent": {"omit_hostname": 0}}) == ["agent.omit_hostname: must be of type boolean, got integer"]


def test_keys_that_are_not_identifiers_are_quoted_in_paths():
    config = _minimal(agent={"service.name": ""})
    config["metrics"]["metrics_collected"]["Network Interface"] = {"measurement": "Bytes Sent/sec"}
    assert validate_agent_config(config) == [
        'agent["service.name"]: must not be empty',
        'metrics.metrics_collected["Network Interface"].measurement: must be of type array, got string',
    ]


def test_metric_sections_tolerate_keys_the_agent_tolerates():
    config = {"metrics": {"metrics_collected": {"cpu": {"measurement": ["usage_idle"], "drop_original_metrics": ["cpu_usage_idle"], "future_flag": 1}}}}
    assert validate_agent_config(config) == []
    assert validate_agent_config({"opentelemetry": {"collect": {"host_metrics": {}}}}) == []
    assert validate_agent_config({"logs": {"metrics_collected": {"emf": {}, "something_new": {}}}}) == []


def test_optional_log_group_name_for_files_but_not_for_windows_events():
    files = {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/var/log/messages"}]}}}}
    events = {"logs": {"logs_collected": {"windows_events": {"collect_list": [{"event_name": "System", "event_ids": [7036]}]}}}}
    assert validate_agent_config(files) == []
    assert validate_agent_config(events) == ["logs.logs_collected.windows_events.collect_list[0].log_group_name: required"]


def test_retention_accepts_every_value_cloudwatch_logs_accepts():
    accepted = [-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
    for days in accepted:
        config = {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x", "retention_in_days": days}]}}}}
        assert validate_agent_config(config) == [], days
    for days in (0, 2, 42, 366, 730, 3650, True):
        config = {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x", "retention_in_days": days}]}}}}
        assert len(validate_agent_config(config)) == 1, days


def test_aws_sdk_log_level_accepts_combinations():
    assert validate_agent_config({"agent": {"aws_sdk_log_level": "LogDebug"}}) == []
    assert validate_agent_config({"agent": {"aws_sdk_log_level": "LogDebugWithSigning|LogDebugWithHTTPBody"}}) == []
    assert len(validate_agent_config({"agent": {"aws_sdk_log_level": "LogDebug|"}})) == 1


def test_otlp_as_list_or_object():
    for otlp in ({"grpc_endpoint": "127.0.0.1:4317"}, [{"grpc_endpoint": "127.0.0.1:4317"}, {"http_endpoint": "127.0.0.1:4318"}]):
        assert validate_agent_config({"traces": {"traces_collected": {"otlp": otlp}}}) == []
    assert validate_agent_config({"traces": {"traces_collected": {"otlp": [{"grpc": "x"}]}}}) == [
        "traces.traces_collected.otlp[0].grpc: unknown key (expected one of: deployment.environment, grpc_endpoint, http_endpoint, service.name, tls)",
    ]


def test_the_schema_is_plain_json_data():
    assert json.loads(json.dumps(AGENT_CONFIG_SCHEMA)) == AGENT_CONFIG_SCHEMA


def test_the_section_files_define_each_name_once():
    parts = [DEFINITIONS, METRICS_DEFINITIONS, LOGS_DEFINITIONS]
    assert sum(len(part) for part in parts) == len(AGENT_CONFIG_SCHEMA["definitions"])


# ---- the validator with a caller's schema ----------------------------------------------------

SMALL_SCHEMA = {
    "type": "object",
    "properties": {
        "size": {"$ref": "#/definitions/size"},
        "labels": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        "either": {"oneOf": [{"type": "integer"}, {"type": "number", "exclusiveMinimum": 0}]},
        "both": {"allOf": [{"type": "string", "minLength": 2}, {"pattern": "^a"}]},
        "tags": {"type": "array", "maxItems": 2, "uniqueItems": True},
        "name": {"type": "string", "maxLength": 3, "not": {"enum": ["bad"]}},
    },
    "definitions": {"size": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10}},
}


@pytest.mark.parametrize(
    "config, errors",
    [
        ({"size": 5, "labels": {"x-a": "s", "b": 1}, "either": 0.5, "both": "ab", "tags": [1, 2], "name": "ok"}, []),
        ({"size": 0}, ["size: must be > 0, got 0"]),
        ({"size": 10}, ["size: must be < 10, got 10"]),
        ({"labels": {"x-a": 1, "b": "s"}}, ["labels.b: must be of type integer, got string", "labels.x-a: must be of type string, got integer"]),
        # 3 is an integer and a number > 0: oneOf fails because both match
        ({"either": 3}, ["either: must match exactly one of the allowed forms, but matches 2"]),
        ({"either": "3"}, ["either: must be of type integer or number, got string"]),
        ({"both": "b"}, ["both: must be a string matching ^a, got \"b\"", "both: must be at least 2 characters long"]),
        ({"tags": [1, 2, 1]}, ["tags: must contain at most 2 items", "tags[2]: duplicate of item [0]"]),
        ({"name": "bad"}, ['name: must not be "bad"']),
        ({"name": "long"}, ["name: must be at most 3 characters long, got 4"]),
    ],
)
def test_validator_keywords(config, errors):
    assert validate_agent_config(config, SMALL_SCHEMA) == errors


def test_unresolvable_reference_is_a_schema_error():
    with pytest.raises(AgentConfigError, match="unresolvable reference #/definitions/nowhere"):
        validate_agent_config({"a": 1}, {"properties": {"a": {"$ref": "#/definitions/nowhere"}}})


# ---- normalize_config and config_size --------------------------------------------------------

def test_key_order_and_whitespace_do_not_change_the_compact_form():
    as_dict = {"metrics": {"metrics_collected": {"mem": {"measurement": ["used_percent"]}}}, "agent": {"region": "eu-west-1"}}
    as_text = '{\n  "agent" : { "region": "eu-west-1" },\n\t"metrics": {"metrics_collected": {"mem": {"measurement": [ "used_percent" ]}}}\n}\n'
    dict_config, dict_compact = normalize_config(as_dict)
    text_config, text_compact = normalize_config(as_text)
    assert dict_compact == text_compact == '{"agent":{"region":"eu-west-1"},"metrics":{"metrics_collected":{"mem":{"measurement":["used_percent"]}}}}'
    assert dict_config == text_config == as_dict


def test_compact_form_keeps_non_ascii_text_and_normalizes_containers():
    config, compact = normalize_config({"logs": {"log_stream_name": "ログ-é", "tags": ("a", "b")}})
    assert compact == '{"logs":{"log_stream_name":"ログ-é","tags":["a","b"]}}'
    assert config == {"logs": {"log_stream_name": "ログ-é", "tags": ["a", "b"]}}


def test_bytes_are_read_as_utf8():
    assert normalize_config('{"a": "é"}'.encode())[1] == '{"a":"é"}'


@pytest.mark.parametrize(
    "text, message",
    [
        # Python 3.13 words a trailing comma itself and points at the comma
        (
            '{"agent": {"region": "eu-west-1",}}',
            "config: invalid JSON at line 1, column 34: Expecting property name enclosed in double quotes"
            if sys.version_info < (3, 13)
            else "config: invalid JSON at line 1, column 33: Illegal trailing comma before end of object",
        ),
        ('{\n  "agent": {\n    "region" "eu-west-1"\n  }\n}', "config: invalid JSON at line 3, column 14: Expecting ':' delimiter"),
        ("", "config: invalid JSON at line 1, column 1: Expecting value"),
        ('{"agent": {}, "agent": {}}', 'invalid JSON: duplicate key "agent"'),
    ],
)
def test_invalid_json_text(text, message):
    with pytest.raises(AgentConfigError) as raised:
        normalize_config(text)
    assert raised.value.message == message


@pytest.mark.parametrize(
    "value, message",
    [
        ("[1, 2]", "config: must be a JSON object (a dict), got array"),
        ('"agent"', "config: must be a JSON object (a dict), got string"),
        ([{"agent": {}}], "config: must be a JSON object (a dict), got array"),
        (42, "config: must be a JSON object (a dict), got integer"),
        (None, "config: must be a JSON object (a dict), got null"),
    ],
)
def test_config_that_is_not_an_object(value, message):
    with pytest.raises(AgentConfigError) as raised:
        normalize_config(value)
    assert str(raised.value) == message


@pytest.mark.parametrize("value", [{"a": float("nan")}, {"a": object()}, {1: "a", "b": 2}])
def test_config_that_cannot_be_written_as_json(value):
    with pytest.raises(AgentConfigError, match="^config: cannot be written as JSON: "):
        normalize_config(value)


def test_config_size_counts_utf8_bytes():
    _config, compact = normalize_config({"n": "é日🙂"})
    assert compact == '{"n":"é日🙂"}'
    assert len(compact) == 11
    assert config_size(compact) == 8 + 2 + 3 + 4
    assert config_size("") == 0


# ---- validate_with_json_schema ----------------------------------------------------------------

DRAFT7_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["metrics"],
    "properties": {"metrics": {"$ref": "#/definitions/metrics"}},
    "definitions": {
        "interval": {"type": "integer", "minimum": 1},
        "metrics": {
            "type": "object",
            "properties": {
                "interval": {"$ref": "#/definitions/interval"},
                "targets": {"type": "array", "items": {"$ref": "#/definitions/target"}},
            },
        },
        "target": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}, "additionalProperties": False},
            ],
        },
    },
}


def test_json_schema_accepts_a_valid_document():
    pytest.importorskip("jsonschema")
    assert validate_with_json_schema({"metrics": {"interval": 60, "targets": ["a", {"name": "b"}]}}, DRAFT7_SCHEMA) == []


def test_json_schema_errors_use_the_same_path_style():
    pytest.importorskip("jsonschema")
    config = {"metrics": {"interval": 0, "targets": ["", {"nme": "b"}, 3]}, "extra": 1}
    assert validate_with_json_schema(config, DRAFT7_SCHEMA) == [
        "(root): Additional properties are not allowed ('extra' was unexpected)",
        "metrics.interval: 0 is less than the minimum of 1",
        "metrics.targets[0]: '' should be non-empty",
        "metrics.targets[1]: 'name' is a required property",
        "metrics.targets[1]: Additional properties are not allowed ('nme' was unexpected)",
        "metrics.targets[2]: 3 is not valid under any of the given schemas",
    ]


def test_json_schema_given_as_text_and_boolean_is_not_integer():
    pytest.importorskip("jsonschema")
    assert validate_with_json_schema({"metrics": {"interval": True}}, json.dumps(DRAFT7_SCHEMA)) == [
        "metrics.interval: True is not of type 'integer'",
    ]


def test_json_schema_shortens_long_values_in_messages():
    pytest.importorskip("jsonschema")
    schema = {"type": "array", "uniqueItems": True}
    entry = {"file_path": "/var/log/application/with/a/rather/long/path.log"}
    assert validate_with_json_schema([entry, entry], schema) == [
        "(root): [{'file_path': '/var/log/application/with/a/rather/long/p... has non-unique elements",
    ]


@pytest.mark.parametrize(
    "schema, message",
    [
        ({"type": "objekt"}, "schema: not a valid JSON schema: "),
        ({"$ref": "#/definitions/missing"}, "schema: cannot be used: "),
        ('{"type": ', "schema: invalid JSON at line 1, column 10: Expecting value"),
        ("[]", "schema: must be a JSON object, got array"),
    ],
)
def test_unusable_json_schema(schema, message):
    pytest.importorskip("jsonschema")
    with pytest.raises(AgentConfigError) as raised:
        validate_with_json_schema({}, schema)
    assert raised.value.message.startswith(message)


def test_json_schema_without_the_library_names_the_option_and_the_library(monkeypatch):
    monkeypatch.setattr(sys.modules[validate_with_json_schema.__module__], "HAS_JSONSCHEMA", False)
    with pytest.raises(AgentConfigError) as raised:
        validate_with_json_schema({}, DRAFT7_SCHEMA)
    message = raised.value.message
    assert "schema option" in message
    assert "jsonschema" in message
    assert "host that runs the module" in message
