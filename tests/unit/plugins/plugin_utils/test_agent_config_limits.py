# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The schema document's limits, against the agent's, at every place a configuration can meet them.

LIMITS is the agent's limits at the version the document names, each with the file of the agent's source it comes
from (translator/config/schema.json at v1.300069.0, definition named). The document must state exactly these. Then,
for every constrained location the project's valid configurations reach (tests/fixtures/agent_configs/valid, among
them every_section.json, which exercises every section the agent documents), a value just inside each limit is
accepted and one just outside is refused with an error at that location.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import format_path
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.agent_config_schema import built_in

VALID = sorted((Path(__file__).resolve().parents[3] / "fixtures" / "agent_configs" / "valid").glob("*.json"))
KEYWORDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "enum", "const")

# (document pointer, keyword): (the agent's limit, where the agent states it: translator/config/schema.json at v1.300069.0)
LIMITS = {
    ("#/$defs/interval", "minimum"): (1, "schema.json timeIntervalDefinition"),
    ("#/$defs/interval", "maximum"): (172800, "schema.json timeIntervalDefinition"),
    ("#/$defs/interval_or_zero", "minimum"): (0, "schema.json timeIntervalWithZeroDefinition"),
    ("#/$defs/interval_or_zero", "maximum"): (172800, "schema.json timeIntervalWithZeroDefinition"),
    ("#/$defs/name_255", "minLength"): (1, "schema.json (measurement names, namespace, service.name, pid_file, exe, pattern, workspace_id, ...)"),
    ("#/$defs/name_255", "maxLength"): (255, "schema.json (measurement names, namespace, service.name, pid_file, exe, pattern, workspace_id, ...)"),
    ("#/$defs/name_256", "minLength"): (1, "schema.json (measurement unit, emf metric_unit)"),
    ("#/$defs/name_256", "maxLength"): (256, "schema.json (measurement unit, emf metric_unit)"),
    ("#/$defs/name_259", "minLength"): (1, "schema.json (deployment.environment)"),
    ("#/$defs/name_259", "maxLength"): (259, "schema.json (deployment.environment)"),
    ("#/$defs/name_512", "minLength"): (1, "schema.json logsDefinition (logGroupNameDefinition, logStreamNameDefinition, logGroupClassDefinition)"),
    ("#/$defs/name_512", "maxLength"): (512, "schema.json logsDefinition (logGroupNameDefinition, logStreamNameDefinition, logGroupClassDefinition)"),
    ("#/$defs/name_1024", "minLength"): (1, "schema.json generalAppendDimensionsDefinition, aggregation_dimensions, hosted_in"),
    ("#/$defs/name_1024", "maxLength"): (1024, "schema.json generalAppendDimensionsDefinition, aggregation_dimensions, hosted_in"),
    ("#/$defs/name_4096", "minLength"): (1, "schema.json (collectd, statsd service identity, collect_list patterns, resources)"),
    ("#/$defs/name_4096", "maxLength"): (4096, "schema.json (collectd, statsd service identity, collect_list patterns, resources)"),
    ("#/$defs/path_4096", "maxLength"): (4096, "schema.json agentDefinition.logfile, collect_list file_path"),
    ("#/$defs/endpoint", "minLength"): (4, "schema.json endpointOverrideDefinition"),
    ("#/$defs/endpoint", "maxLength"): (2048, "schema.json endpointOverrideDefinition"),
    ("#/$defs/names_256_items", "maxItems"): (256, "schema.json basicResourcesDefinition, diskDefinitions"),
    ("#/$defs/dimensions", "maxProperties"): (30, "schema.json generalAppendDimensionsDefinition"),
    ("#/$defs/drop_original_metrics", "minItems"): (1, "schema.json (drop_original_metrics of collectd, statsd, efa, ethtool)"),
    ("#/$defs/credentials/properties/role_arn", "minLength"): (20, "schema.json credentialsDefinition"),
    ("#/$defs/credentials/properties/role_arn", "maxLength"): (2048, "schema.json credentialsDefinition"),
    ("#/$defs/otlp/else", "minItems"): (1, "schema.json otlpDefinitions"),
    ("#/$defs/otlp/else", "maxItems"): (255, "schema.json otlpDefinitions"),
    ("#/$defs/agent/properties/region", "minLength"): (1, "schema.json agentDefinition"),
    ("#/$defs/agent/properties/region", "maxLength"): (64, "schema.json agentDefinition"),
    ("#/$defs/measurement/items/then", "minLength"): (1, "schema.json metricsMeasurementDefinition"),
    ("#/$defs/measurement/items/then", "maxLength"): (255, "schema.json metricsMeasurementDefinition"),
    ("#/$defs/cpu/properties/resources", "maxItems"): (1, "schema.json cpuDefinitions"),
    ("#/$defs/cpu/properties/resources/items", "const"): ("*", "schema.json cpuDefinitions"),
    ("#/$defs/collectd/properties/collectd_security_level", "enum"): (["none", "sign", "encrypt"], "schema.json collectdDefinitions"),
    ("#/$defs/collectd/properties/collectd_typesdb", "maxItems"): (10, "schema.json collectdDefinitions"),
    ("#/$defs/statsd/properties/allowed_pending_messages", "minimum"): (1, "schema.json statsdDefinitions"),
    ("#/$defs/statsd/properties/allowed_pending_messages", "maximum"): (2147483647, "schema.json statsdDefinitions"),
    ("#/$defs/procstat", "minItems"): (1, "schema.json procstatDefinitions"),
    ("#/$defs/procstat", "maxItems"): (255, "schema.json procstatDefinitions"),
    ("#/$defs/jmx/else", "minItems"): (1, "schema.json jmxDefinitions"),
    ("#/$defs/jmx/else", "maxItems"): (255, "schema.json jmxDefinitions"),
    ("#/$defs/metrics/properties/aggregation_dimensions", "minItems"): (1, "schema.json metricsDefinition"),
    ("#/$defs/metrics/properties/aggregation_dimensions", "maxItems"): (1024, "schema.json metricsDefinition"),
    ("#/$defs/metrics/properties/aggregation_dimensions/items", "maxItems"): (30, "schema.json metricsDefinition"),
    ("#/$defs/metrics/properties/metrics_destinations", "minProperties"): (1, "schema.json metricsDefinition"),
    ("#/$defs/metrics/properties/metrics_collected", "minProperties"): (1, "schema.json metricsDefinition"),
    ("#/$defs/retention_in_days", "enum"): (
        [-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
        "schema.json retentionInDaysDefinition",
    ),
    ("#/$defs/filters/items/properties/type", "enum"): (["include", "exclude"], "schema.json filterDefinition"),
    ("#/$defs/log_file/properties/timezone", "enum"): (["Local", "LOCAL", "UTC"], "schema.json logsFilesDefinition"),
    ("#/$defs/log_file/properties/backpressure_mode", "enum"): (["fd_release"], "schema.json logsFilesDefinition"),
    ("#/$defs/windows_event/properties/event_name/not", "const"): ("Forwarded Events", "schema.json logsWindowsEventsDefinition"),
    ("#/$defs/windows_event/properties/event_levels/items", "enum"): (
        ["CRITICAL", "ERROR", "WARNING", "INFORMATION", "VERBOSE"],
        "schema.json logsWindowsEventsDefinition",
    ),
    ("#/$defs/windows_event/properties/event_ids", "minItems"): (1, "schema.json logsWindowsEventsDefinition"),
    ("#/$defs/windows_event/properties/event_ids/items", "minimum"): (0, "schema.json logsWindowsEventsDefinition"),
    ("#/$defs/windows_event/properties/event_ids/items", "maximum"): (65535, "schema.json logsWindowsEventsDefinition"),
    ("#/$defs/windows_event/properties/event_format", "enum"): (["text", "xml"], "schema.json logsWindowsEventsDefinition"),
    ("#/$defs/collect_list", "minItems"): (1, "schema.json logsFilesDefinition, logsWindowsEventsDefinition (collect_list)"),
    ("#/$defs/collect_list", "maxItems"): (16384, "schema.json logsFilesDefinition, logsWindowsEventsDefinition (collect_list)"),
    ("#/$defs/application_signals_rules/properties/rules/items/properties/action", "enum"): (
        ["drop", "keep", "replace"],
        "schema.json logsDefinition app_signals",
    ),
    ("#/$defs/non_empty", "minLength"): (1, "schema.json logsDefinition app_signals rules"),
    ("#/$defs/logs/properties/logs_collected", "minProperties"): (1, "schema.json logsDefinition"),
    ("#/$defs/logs/properties/concurrency", "minimum"): (1, "schema.json logsDefinition"),
    ("#/$defs/traces/properties/traces_collected", "minProperties"): (1, "schema.json tracesDefinition"),
    ("#/$defs/traces/properties/concurrency", "minimum"): (1, "schema.json tracesDefinition"),
    ("#/$defs/traces/properties/buffer_size_mb", "minimum"): (3, "schema.json tracesDefinition"),
}


def _document_limits(node, pointer="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KEYWORDS and not pointer.endswith("/if"):
                yield (pointer, key), value
            yield from _document_limits(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _document_limits(value, f"{pointer}/{index}")


def test_the_document_states_exactly_the_agents_limits():
    stated = dict(_document_limits(built_in().document))
    assert stated == {key: limit for key, (limit, dummy) in LIMITS.items()}
    assert all(source.startswith("schema.json") for dummy, source in LIMITS.values())


# ---- where a configuration meets each limit ---------------------------------------------------

DOCUMENT = built_in().document


def _lookup(pointer):
    node = DOCUMENT
    for part in pointer.lstrip("#/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _applied(pointer, node, value):
    """(pointer, schema) of every schema that applies to ``value`` there: through $ref, allOf and if/then/else."""
    if not isinstance(node, dict):
        return []
    found = [(pointer, node)]
    if "$ref" in node:
        found += _applied(node["$ref"], _lookup(node["$ref"]), value)
    if isinstance(node.get("not"), dict):
        found.append((f"{pointer}/not", node["not"]))
    for index, part in enumerate(node.get("allOf", [])):
        found += _applied(f"{pointer}/allOf/{index}", part, value)
    if "if" in node:
        branch = "then" if jsonschema.Draft202012Validator(node["if"]).is_valid(value) else "else"
        if branch in node:
            found += _applied(f"{pointer}/{branch}", node[branch], value)
    return found


def _locations(value, applied, path=()):
    yield path, value, applied
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        below = []
        for pointer, node in applied:
            if isinstance(key, int) and "items" in node:
                below += _applied(f"{pointer}/items", node["items"], child)
            elif isinstance(key, str) and key in node.get("properties", {}):
                below += _applied(f"{pointer}/properties/{key}", node["properties"][key], child)
            elif isinstance(key, str) and isinstance(node.get("additionalProperties"), dict):
                below += _applied(f"{pointer}/additionalProperties", node["additionalProperties"], child)
        yield from _locations(child, below, path + (key,))


def _first_locations():
    """For each limit, the first place in the valid configurations where it applies: (config, path, value)."""
    found = {}
    for fixture in VALID:
        config = json.loads(fixture.read_text(encoding="utf-8"))
        for path, value, applied in _locations(config, _applied("#", DOCUMENT, config)):
            for pointer, node in applied:
                for keyword in KEYWORDS:
                    if keyword in node and (pointer, keyword) in LIMITS:
                        found.setdefault((pointer, keyword), (config, path, value))
    return found


LOCATIONS = _first_locations()


def test_the_valid_configurations_reach_every_limit():
    assert sorted(set(LIMITS) - set(LOCATIONS)) == []


def _many(value, count):
    """``count`` distinct items like the first of ``value``."""
    first = value[0]
    if isinstance(first, str):
        return [f"{first}{index}" if index else first for index in range(count)]
    if isinstance(first, list):
        return [[f"Dimension{index}"] for index in range(count)]
    items = []
    for index in range(count):
        item = copy.deepcopy(first)
        key = next(k for k, v in item.items() if isinstance(v, str))
        item[key] = f"{item[key]}{index}"
        items.append(item)
    return items


def _inside_and_outside(keyword, limit, value):
    if keyword == "minimum":
        return limit, limit - 1
    if keyword == "maximum":
        return limit, limit + 1
    if keyword == "minLength":
        return "a" * max(limit, 1), "a" * (limit - 1)
    if keyword == "maxLength":
        return "a" * limit, "a" * (limit + 1)
    if keyword == "minItems":
        return value[:limit], value[: limit - 1]
    if keyword == "maxItems":
        if limit > 1024 and isinstance(value[0], dict):
            # 16385 log entries: jsonschema compares unhashable items pairwise for uniqueItems, minutes of work.
            # The limit itself is checked against the agent's in test_the_document_states_exactly_the_agents_limits.
            pytest.skip("checked in the table only: a list of objects this long takes minutes to compare")
        return _many(value, limit), _many(value, limit + 1)
    if keyword == "minProperties":
        return dict(list(value.items())[:limit]), {}
    if keyword == "maxProperties":
        return {f"Dimension{index}": "v" for index in range(limit)}, {f"Dimension{index}": "v" for index in range(limit + 1)}
    if keyword == "enum":
        return limit[-1], "not-" + str(limit[0])
    return limit, "not-" + str(limit)  # const


def _set(config, path, value):
    config = copy.deepcopy(config)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


def _path_of(line):
    return line.split(": ", 1)[0]


@pytest.mark.parametrize("key", sorted(LOCATIONS), ids=[f"{p.split('/$defs/')[-1]}-{k}" for p, k in sorted(LOCATIONS)])
def test_just_inside_is_accepted_and_just_outside_refused_at_its_path(key):
    pointer, keyword = key
    config, path, value = LOCATIONS[key]
    if pointer.endswith("/not"):
        # event_name: any name but "Forwarded Events"
        inside, outside = "Security", LIMITS[key][0]
    else:
        inside, outside = _inside_and_outside(keyword, LIMITS[key][0], value)
    schema = built_in()
    assert schema.check(_set(config, path, inside))[0] == []
    errors = schema.check(_set(config, path, outside))[0]
    location = format_path(path)
    assert errors and all(_path_of(e).startswith(location) for e in errors), (location, errors)
