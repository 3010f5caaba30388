# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``logs`` section of the agent configuration schema (definitions merged into AGENT_CONFIG_SCHEMA)."""

from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS

_REF = "#/definitions/"

LOGS_DEFINITIONS = {
    "retention_in_days": {
        "type": "integer",
        "enum": [-1, *LOG_RETENTION_DAYS],
    },
    "log_group_class": {"type": "string", "enum": ["STANDARD", "INFREQUENT_ACCESS"]},
    "log_filters": {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "expression"],
            "properties": {
                "type": {"type": "string", "enum": ["include", "exclude"]},
                "expression": {"$ref": _REF + "name"},
            },
        },
    },
    # ---- logs -----------------------------------------------------------------------
    "logs": {
        "type": "object",
        "additionalProperties": False,
        "anyOf": [{"required": ["logs_collected"]}, {"required": ["metrics_collected"]}],
        "properties": {
            "logs_collected": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "files": {"$ref": _REF + "log_files"},
                    "windows_events": {"$ref": _REF + "windows_events"},
                    "journald": {"$ref": _REF + "journald"},
                    "application_signals": {"type": "object"},
                },
            },
            "metrics_collected": {
                "type": "object",
                "properties": {
                    "emf": {"type": "object"},
                    "prometheus": {"$ref": _REF + "logs_prometheus"},
                    "otlp": {"$ref": _REF + "otlp"},
                    "ecs": {"type": "object"},
                    "kubernetes": {"type": "object"},
                    "app_signals": {"type": "object"},
                    "application_signals": {"type": "object"},
                },
            },
            "log_stream_name": {"$ref": _REF + "name_512"},
            "endpoint_override": {"$ref": _REF + "endpoint"},
            "force_flush_interval": {"$ref": _REF + "interval"},
            "credentials": {"$ref": _REF + "credentials"},
            "concurrency": {"type": "integer", "minimum": 1},
            "service.name": {"$ref": _REF + "name_255"},
            "deployment.environment": {"$ref": _REF + "name"},
        },
    },
    "log_files": {
        "type": "object",
        "additionalProperties": False,
        "required": ["collect_list"],
        "properties": {
            "collect_list": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    # log_group_name is optional: the agent derives it from file_path.
                    "required": ["file_path"],
                    "properties": {
                        "file_path": {"type": "string", "minLength": 1, "maxLength": 4096},
                        "log_group_name": {"$ref": _REF + "name_512"},
                        "log_stream_name": {"$ref": _REF + "name_512"},
                        "log_group_class": {"$ref": _REF + "log_group_class"},
                        "retention_in_days": {"$ref": _REF + "retention_in_days"},
                        "timestamp_format": {"$ref": _REF + "name"},
                        "timezone": {"enum": ["Local", "LOCAL", "UTC"]},
                        "trim_timestamp": {"type": "boolean"},
                        "multi_line_start_pattern": {"$ref": _REF + "name"},
                        "encoding": {"$ref": _REF + "name"},
                        "auto_removal": {"type": "boolean"},
                        "publish_multi_logs": {"type": "boolean"},
                        "blacklist": {"$ref": _REF + "name"},
                        "backpressure_mode": {"enum": ["fd_release"]},
                        "filters": {"$ref": _REF + "log_filters"},
                        "service.name": {"$ref": _REF + "name_255"},
                        "deployment.environment": {"$ref": _REF + "name"},
                    },
                },
            },
        },
    },
    "windows_events": {
        "type": "object",
        "additionalProperties": False,
        "required": ["collect_list"],
        "properties": {
            "collect_list": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["event_name", "log_group_name"],
                    "anyOf": [{"required": ["event_levels"]}, {"required": ["event_ids"]}, {"required": ["filters"]}],
                    "properties": {
                        # The agent cannot read the "Forwarded Events" channel under that name (it is ForwardedEvents).
                        "event_name": {"$ref": _REF + "name_255", "not": {"enum": ["Forwarded Events"]}},
                        "event_levels": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"enum": ["CRITICAL", "ERROR", "WARNING", "INFORMATION", "VERBOSE"]},
                        },
                        "event_ids": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
                        "filters": {"$ref": _REF + "log_filters"},
                        "log_group_name": {"$ref": _REF + "name_512"},
                        "log_stream_name": {"$ref": _REF + "name_512"},
                        "log_group_class": {"$ref": _REF + "log_group_class"},
                        "retention_in_days": {"$ref": _REF + "retention_in_days"},
                        "event_format": {"enum": ["text", "xml"]},
                    },
                },
            },
        },
    },
    "journald": {
        "type": "object",
        "additionalProperties": False,
        "required": ["collect_list"],
        "properties": {
            "collect_list": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["log_group_name"],
                    "properties": {
                        "log_group_name": {"$ref": _REF + "name_512"},
                        "log_stream_name": {"$ref": _REF + "name_512"},
                        "log_group_class": {"$ref": _REF + "log_group_class"},
                        "retention_in_days": {"$ref": _REF + "retention_in_days"},
                        "filters": {"$ref": _REF + "log_filters"},
                        "units": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                        "priority": {
                            "enum": ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "0", "1", "2", "3", "4", "5", "6", "7"],
                        },
                        "matches": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": {"type": "string"}}},
                    },
                },
            },
        },
    },
    "logs_prometheus": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "cluster_name": {"$ref": _REF + "name"},
            "log_group_name": {"$ref": _REF + "name_512"},
            "prometheus_config_path": {"$ref": _REF + "name"},
            "disable_metric_extraction": {"type": "boolean"},
            "ecs_service_discovery": {"type": "object"},
            "emf_processor": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "metric_declaration_dedup": {"type": "boolean"},
                    "metric_namespace": {"$ref": _REF + "name_255"},
                    "metric_unit": {"$ref": _REF + "dimensions"},
                    "metric_declaration": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "source_labels": {"$ref": _REF + "string_list"},
                                "label_matcher": {"type": "string"},
                                "label_separator": {"type": "string"},
                                "metric_selectors": {"$ref": _REF + "string_list"},
                                "dimensions": {"type": "array", "items": {"$ref": _REF + "string_list"}},
                            },
                        },
                    },
                },
            },
        },
    },
}
