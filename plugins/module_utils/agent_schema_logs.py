# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``logs`` section of the agent configuration schema (definitions merged into AGENT_CONFIG_SCHEMA)."""

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import any_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import array_of
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import closed_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import non_empty_string
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import open_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import ref
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import required_one_of
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import service_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS


def _collect_list(properties, required, **extra):
    """A log source section: a non-empty ``collect_list`` of distinct entries, each an object of ``properties``."""
    entry = closed_object(properties, required=required, **extra)
    return closed_object({"collect_list": array_of(entry, min_items=1, uniqueItems=True)}, required=["collect_list"])


def _destination():
    """Where the entries of a log source go: the log group (with its class and retention) and the stream."""
    return {
        "log_group_name": ref("name_512"),
        "log_stream_name": ref("name_512"),
        "log_group_class": ref("log_group_class"),
        "retention_in_days": ref("retention_in_days"),
    }


LOGS_DEFINITIONS = {
    "retention_in_days": {
        "type": "integer",
        "enum": [-1, *LOG_RETENTION_DAYS],
    },
    "log_group_class": {"type": "string", "enum": ["STANDARD", "INFREQUENT_ACCESS"]},
    "log_filters": array_of(closed_object({
        "type": {"type": "string", "enum": ["include", "exclude"]},
        "expression": ref("name"),
    }, required=["type", "expression"])),
    # ---- logs -----------------------------------------------------------------------
    "logs": closed_object({
        "logs_collected": closed_object({
            "files": ref("log_files"),
            "windows_events": ref("windows_events"),
            "journald": ref("journald"),
            "application_signals": any_object(),
        }, minProperties=1),
        "metrics_collected": open_object({
            "emf": any_object(),
            "prometheus": ref("logs_prometheus"),
            "otlp": ref("otlp"),
            "ecs": any_object(),
            "kubernetes": any_object(),
            "app_signals": any_object(),
            "application_signals": any_object(),
        }),
        "log_stream_name": ref("name_512"),
        "endpoint_override": ref("endpoint"),
        "force_flush_interval": ref("interval"),
        "credentials": ref("credentials"),
        "concurrency": {"type": "integer", "minimum": 1},
        **service_identity("name_255"),
    }, anyOf=required_one_of("logs_collected", "metrics_collected")),
    # log_group_name is optional in a file entry: the agent derives it from file_path.
    "log_files": _collect_list({
        "file_path": non_empty_string(maxLength=4096),
        **_destination(),
        "timestamp_format": ref("name"),
        "timezone": {"enum": ["Local", "LOCAL", "UTC"]},
        "trim_timestamp": {"type": "boolean"},
        "multi_line_start_pattern": ref("name"),
        "encoding": ref("name"),
        "auto_removal": {"type": "boolean"},
        "publish_multi_logs": {"type": "boolean"},
        "blacklist": ref("name"),
        "backpressure_mode": {"enum": ["fd_release"]},
        "filters": ref("log_filters"),
        **service_identity("name_255"),
    }, required=["file_path"]),
    "windows_events": _collect_list({
        # The agent cannot read the "Forwarded Events" channel under that name (it is ForwardedEvents).
        "event_name": {**ref("name_255"), "not": {"enum": ["Forwarded Events"]}},
        "event_levels": array_of({"enum": ["CRITICAL", "ERROR", "WARNING", "INFORMATION", "VERBOSE"]}, min_items=1),
        "event_ids": array_of({"type": "integer", "minimum": 0, "maximum": 65535}, min_items=1),
        "filters": ref("log_filters"),
        **_destination(),
        "event_format": {"enum": ["text", "xml"]},
    }, required=["event_name", "log_group_name"], anyOf=required_one_of("event_levels", "event_ids", "filters")),
    "journald": _collect_list({
        **_destination(),
        "filters": ref("log_filters"),
        "units": array_of(non_empty_string(), min_items=1),
        "priority": {
            "enum": ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "0", "1", "2", "3", "4", "5", "6", "7"],
        },
        "matches": array_of({"type": "object", "additionalProperties": {"type": "string"}}, min_items=1),
    }, required=["log_group_name"]),
    "logs_prometheus": closed_object({
        "cluster_name": ref("name"),
        "log_group_name": ref("name_512"),
        "prometheus_config_path": ref("name"),
        "disable_metric_extraction": {"type": "boolean"},
        "ecs_service_discovery": any_object(),
        "emf_processor": closed_object({
            "metric_declaration_dedup": {"type": "boolean"},
            "metric_namespace": ref("name_255"),
            "metric_unit": ref("dimensions"),
            "metric_declaration": array_of(closed_object({
                "source_labels": ref("string_list"),
                "label_matcher": {"type": "string"},
                "label_separator": {"type": "string"},
                "metric_selectors": ref("string_list"),
                "dimensions": array_of(ref("string_list")),
            })),
        }),
    }),
}
