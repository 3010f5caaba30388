# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's schema document checked with jsonschema: fixtures, messages, warnings and the user's schema.

Fixtures: tests/fixtures/agent_configs/valid/*.json validate without errors; invalid/<name>.json gives exactly the
lines of <name>.errors; either may have a <name>.warnings with exactly the warnings it gives.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.agent_config_schema import built_in
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.agent_config_schema import check_config
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.agent_config_schema import check_value

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "agent_configs"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _lines(path, suffix):
    other = path.with_suffix(suffix)
    return other.read_text(encoding="utf-8").splitlines() if other.is_file() else []


def errors_of(config):
    return check_config(config)[0]


def warnings_of(config):
    return check_config(config)[1]


def test_fixture_sets_are_large_enough():
    assert len(VALID) >= 15 and len(INVALID) >= 15
    for path in INVALID:
        assert _lines(path, ".errors"), f"{path.name} has no expected errors"


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_configuration_is_accepted(path):
    assert check_config(_load(path)) == ([], _lines(path, ".warnings"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_configuration_reports_exactly_the_expected_errors(path):
    assert check_value(path.read_text(encoding="utf-8")) == (_lines(path, ".errors"), _lines(path, ".warnings"))


def test_several_errors_are_all_reported_in_path_order():
    errors = errors_of(_load(FIXTURES / "invalid" / "several_errors.json"))
    assert len(errors) == 14
    files = [e for e in errors if e.startswith("logs.logs_collected.files.collect_list[")]
    # list indexes sort numerically: [10] comes after [3]
    assert [e.split("]")[0] + "]" for e in files] == [f"logs.logs_collected.files.collect_list[{i}]" for i in (0, 2, 3, 10)]


def test_validation_does_not_modify_the_configuration_and_ignores_key_order():
    config = _load(FIXTURES / "invalid" / "several_errors.json")
    before = copy.deepcopy(config)
    reordered = dict(reversed(list(json.loads(json.dumps(config, sort_keys=True)).items())))
    assert errors_of(reordered) == errors_of(config)
    assert config == before


@pytest.mark.parametrize("value", [60, 60.0])
def test_integral_number_is_an_integer(value):
    assert errors_of({"agent": {"metrics_collection_interval": value}}) == []


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "must be >= 1, got 0"),
        (172801, "must be <= 172800, got 172801"),
        (60.5, "must be of type integer, got number"),
        (True, "must be of type integer, got boolean"),
        ("60", "must be of type integer, got string"),
    ],
)
def test_interval_rejects(value, message):
    assert errors_of({"agent": {"metrics_collection_interval": value}}) == [f"agent.metrics_collection_interval: {message}"]


def test_keys_that_are_not_identifiers_are_quoted_in_paths():
    config = {"agent": {"service.name": ""}, "metrics": {"metrics_collected": {"Network Interface": {"measurement": [""]}}}}
    assert errors_of(config) == [
        'agent["service.name"]: must not be empty',
        'metrics.metrics_collected["Network Interface"].measurement[0]: must not be empty',
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"agent": {"hostname": "web-1", "internal": True, "quiet": True, "flush_interval": "5s", "metric_batch_size": 500}},
        {"agent": {"credentials": {"role_arn": "${aws:RoleArn}-placeholder"}}},
        {"metrics": {"append_dimensions": {"Team": "web"}, "metrics_collected": {"mem": {"measurement": []}}}},
        {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/a", "log_group_class": "standard"}]}}}},
        {"logs": {"logs_collected": {"windows_events": {"collect_list": [{"event_name": "System", "event_ids": [1]}]}}}},
        {"traces": {"traces_collected": {"xray": {}}, "region_override": ""}},
        {"traces": {"traces_collected": {"otlp": {"tls": {"ca_file": "/ca.pem", "min_version": "1.2"}}}}},
    ],
    ids=["agent-keys", "role-arn-placeholder", "open-dimensions", "class-any-case", "no-log-group", "empty-region", "open-tls"],
)
def test_what_the_agent_runs_is_accepted(config):
    assert errors_of(config) == []


def test_unknown_keys_in_open_objects_are_warnings_with_a_suggestion():
    config = {"agent": {"regio": "eu-west-1"}, "metrics": {"metrics_collected": {"cpu": {"measurement": ["usage_idle"], "totalcpus": True}}}}
    assert check_config(config) == (
        [],
        [
            "agent.regio: unknown key, the agent ignores it (did you mean region?)",
            "metrics.metrics_collected.cpu.totalcpus: unknown key, the agent ignores it (did you mean totalcpu?)",
        ],
    )


def test_the_document_names_the_agent_version_and_is_a_valid_2020_12_schema():
    schema = built_in()
    assert schema.agent_version.count(".") == 2
    assert schema.document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    type(schema.validator).check_schema(schema.document)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"agent": {"debug": true,}}', "invalid JSON at line 1"),
        ('{"agent": {}, "agent": {}}', 'duplicate key "agent"'),
    ],
)
def test_text_that_is_not_usable_json(text, message):
    with pytest.raises(AgentConfigError, match=message):
        check_value(text)


def test_json_that_is_not_an_object_is_a_root_error():
    assert check_value("[1]") == (["(root): must be of type object, got array"], [])


def test_user_schema_adds_its_errors_with_its_path(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"agent": {"required": ["region"]}}}))
    errors, dummy = check_config({"agent": {}}, validate=False, schema_path=str(schema))
    assert errors == [f"agent.region: required (schema {schema})"]


@pytest.mark.parametrize(
    "document, message",
    [
        ("[]", "must be a JSON object, got array"),
        ('{"type": 5}', "not a valid JSON schema"),
        ('{"properties": {"a": {"$ref": "#/nowhere"}}}', "Cannot use the schema file"),
        ("{", "Cannot use the schema file"),
    ],
)
def test_unusable_user_schema(tmp_path, document, message):
    schema = tmp_path / "schema.json"
    schema.write_text(document)
    with pytest.raises(AgentConfigError, match=message):
        check_config({"a": 1}, validate=False, schema_path=str(schema))


# ---- the translator's rules (agent_config_rules) ----------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        # metrics_collected.go refuses two of them only when each registers a rule; at this version only prometheus does.
        {"logs": {"metrics_collected": {"kubernetes": {}, "ecs": {}, "prometheus": {}}}},
        # validate_fields.go: a class other than STANDARD or INFREQUENT_ACCESS and retention -1 take no part.
        {
            "logs": {
                "logs_collected": {
                    "files": {
                        "collect_list": [
                            {"file_path": "/a", "log_group_name": "g", "log_group_class": "standard", "retention_in_days": -1},
                            {"file_path": "/b", "log_group_name": "G", "log_group_class": "cold", "retention_in_days": 7},
                            {"file_path": "/c", "log_group_name": "g", "log_group_class": "STANDARD", "retention_in_days": 7},
                        ]
                    }
                }
            }
        },
        {
            "logs": {
                "metrics_collected": {
                    "prometheus": {
                        "ecs_service_discovery": {
                            "task_definition_list": [{"sd_metrics_ports": "9404; 9406", "sd_task_definition_arn_pattern": ".*:task-definition/web:[0-9]+"}]
                        }
                    }
                }
            }
        },
    ],
    ids=["features-together", "log-group-settings-that-agree", "ecs-targets"],
)
def test_what_the_translator_accepts(config):
    assert errors_of(config) == []


def test_rules_skip_values_of_the_wrong_type_and_leave_them_to_the_schema():
    config = {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/a", "filters": "x"}, "y"]}}}}
    assert errors_of(config) == [
        "logs.logs_collected.files.collect_list[0].filters: must be of type array, got string",
        "logs.logs_collected.files.collect_list[1]: must be of type object, got string",
    ]


# ---- drift: the document, the role's agent version and the stand-in agent ---------------------

ROOT = Path(__file__).resolve().parents[4]


def _version(text):
    """(1, 300069, 0) of "1.300069.0b1529" or "1.300069.0": the release, without the build."""
    return tuple(int(part) for part in re.match(r"^(\d+)\.(\d+)\.(\d+)", text).groups())


def test_the_role_does_not_install_an_agent_newer_than_the_document_describes():
    default = yaml.safe_load((ROOT / "roles" / "agent" / "defaults" / "main.yml").read_text())["cloudwatch_agent_version"]
    described = built_in().agent_version
    assert _version(default) <= _version(described), (
        f"roles/agent installs agent {default} by default, but agent_config_schema.json describes {described}:"
        " read the agent's translator at the new version, update the document and its x-agent-version"
    )


def _stand_in_translator():
    source = ROOT / "tests" / "fixtures" / "agent-package" / "src" / "amazon_cloudwatch_agent.py"
    spec = importlib.util.spec_from_file_location("stand_in_agent", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SchemaValidator(built_in().document)


@pytest.mark.parametrize("path", VALID + INVALID, ids=[p.parent.name + "-" + p.stem for p in VALID + INVALID])
def test_the_stand_in_agent_translator_agrees_with_the_document(path):
    config = _load(path)
    validator = _stand_in_translator()
    validator.validate(config, validator.root)
    schema_errors = [line for line in _lines(path, ".errors") if not TRANSLATOR_RULE.search(line)]
    assert bool(validator.errors) == bool(schema_errors), (validator.errors, schema_errors)


# The messages of agent_config_rules, which the stand-in's schema check does not make.
TRANSLATOR_RULE = re.compile(r"already has|regular expression|\.(name|type|expression|sd_metrics_ports|sd_\w+_pattern): required|port numbers")
