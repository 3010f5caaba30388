# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the agent's translator refuses beyond its published schema: the checks a JSON schema cannot say.

Each rule follows one file of the agent's translator (translator/translate/...) at the version the schema document
names, and returns ``(path, message)`` pairs. The rules run after the schema, on configurations of any shape: they
look only at values of the type the schema asks for and leave the rest to its errors.

Not here, because the translator does not refuse them at that version: kubernetes, ecs and prometheus together under
``logs.metrics_collected`` (metrics_collected.go checks it, but only prometheus registers a rule there, so the check
never fires); a ``log_group_class`` other than STANDARD or INFREQUENT_ACCESS (an info message; the class is dropped).
"""

from __future__ import annotations

import re

# Go's regexp (RE2) has no look-around and no back-references; Python's re has both.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=")


def _objects(value):
    return value if isinstance(value, dict) else {}


def _items(value):
    return list(enumerate(value)) if isinstance(value, list) else []


def filter_rules(entry, path):
    """logs_collected/files/collect_list/ruleLogFilters.go, windowsevents/collect_list/ruleEventLogFilters.go: a filter
    needs a type and an expression, and the expression must compile as a Go regular expression."""
    for index, item in _items(_objects(entry).get("filters")):
        if not isinstance(item, dict):
            continue
        here = path + ("filters", index)
        for key in ("type", "expression"):
            if item.get(key) in (None, ""):
                yield here + (key,), "required"
        expression = item.get("expression")
        if isinstance(expression, str) and expression:
            try:
                re.compile(expression)
            except re.error as e:
                yield here + ("expression",), f"not a valid regular expression: {e}"
            else:
                if _NOT_RE2.search(expression):
                    yield here + ("expression",), "not a valid regular expression for the agent (no look-around or back-references)"


def log_group_rules(entries, path):
    """logs/util/validate_fields.go: one log group (names compared case-insensitively) cannot get two
    retention_in_days values (those of 1 day or more) or two log_group_class values (STANDARD, INFREQUENT_ACCESS, any
    case) within one collect_list."""
    for key, usable in (
        ("retention_in_days", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        ("log_group_class", lambda v: isinstance(v, str) and v.upper() in ("STANDARD", "INFREQUENT_ACCESS")),
    ):
        first = {}
        for index, entry in _items(entries):
            entry = _objects(entry)
            group, value = entry.get("log_group_name"), entry.get(key)
            if not isinstance(group, str) or not usable(value):
                continue
            value = value.upper() if isinstance(value, str) else value
            seen = first.setdefault(group.lower(), (index, value))
            if seen[1] != value:
                yield path + (index, key), f"log group {group} already has {key} {seen[1]} (item [{seen[0]}])"


def measurement_rules(plugins, path):
    """metrics/util/measurementutil.go: a measurement given as an object needs a name."""
    for plugin, body in _objects(plugins).items():
        bodies = _items(body) if isinstance(body, list) else [(None, body)]
        for index, item in bodies:
            here = path + ((plugin,) if index is None else (plugin, index))
            for position, measurement in _items(_objects(item).get("measurement")):
                if isinstance(measurement, dict) and "name" not in measurement:
                    yield here + ("measurement", position, "name"), "required"


def ecs_service_discovery_rules(discovery, path):
    """prometheus/ecsservicediscovery/{taskdefinition,serviceendpoint}/rule*.go: each target names its metrics ports
    (``sd_metrics_ports``, ports separated by ``;``) and its task definition ARN or service name pattern."""
    targets = (
        ("task_definition_list", "sd_task_definition_arn_pattern"),
        ("service_name_list_for_tasks", "sd_service_name_pattern"),
    )
    for section, pattern in targets:
        for index, target in _items(_objects(discovery).get(section)):
            if not isinstance(target, dict):
                continue
            here = path + (section, index)
            for key in ("sd_metrics_ports", pattern):
                if key not in target:
                    yield here + (key,), "required"
            ports = target.get("sd_metrics_ports")
            if isinstance(ports, str) and not re.fullmatch(r"[1-9][0-9]{0,4}(;\s*[1-9][0-9]{0,4})*", ports):
                yield here + ("sd_metrics_ports",), f"must be port numbers separated by ';', got {ports!r}"


def translator_errors(config):
    """Every ``(path, message)`` the translator rules find in ``config`` (a dict)."""
    errors = []
    logs_collected = _objects(_objects(config.get("logs")).get("logs_collected"))
    for section in ("files", "windows_events"):
        path = ("logs", "logs_collected", section, "collect_list")
        entries = _objects(logs_collected.get(section)).get("collect_list")
        errors.extend(log_group_rules(entries, path))
        for index, entry in _items(entries):
            errors.extend(filter_rules(entry, path + (index,)))
    errors.extend(measurement_rules(_objects(config.get("metrics")).get("metrics_collected"), ("metrics", "metrics_collected")))
    prometheus = _objects(_objects(_objects(config.get("logs")).get("metrics_collected")).get("prometheus"))
    discovery_path = ("logs", "metrics_collected", "prometheus", "ecs_service_discovery")
    errors.extend(ecs_service_discovery_rules(prometheus.get("ecs_service_discovery"), discovery_path))
    return errors
