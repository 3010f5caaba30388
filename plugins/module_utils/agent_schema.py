# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of Amazon CloudWatch agent configuration files.

The schema below follows AWS's documentation of the agent configuration file
("Manually create or edit the CloudWatch agent configuration file") and the
behaviour of the agent itself. It is a data literal in a small subset of JSON
Schema, checked by ``validate_agent_config``; the module is stdlib only so that
it can be shipped to targets.

Error format: every error is one string ``<path>: <message>``. The path names
the offending value: keys are joined with dots, list indexes are written
``[i]``, keys that are not plain identifiers are written ``["key"]`` (for
example ``agent["service.name"]`` or ``metrics.metrics_collected["Network Interface"]``)
and the configuration itself is ``(root)``. Errors are sorted by path (list
indexes numerically), then by message.

Where the documentation gives a closed set of keys (the top level, ``agent``,
``metrics``, ``logs``, ``traces`` and most of their sub-sections) unknown keys
are rejected. Where the agent accepts extra keys (metric plugin sections,
``logs.metrics_collected``, ``opentelemetry``) they are tolerated.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Mapping

from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS

try:
    import jsonschema
except ImportError:
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None


class AgentConfigError(Exception):
    """An agent configuration, or a schema given to validate it, cannot be used."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


_REF = "#/definitions/"

AGENT_CONFIG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "agent": {"$ref": _REF + "agent"},
        "metrics": {"$ref": _REF + "metrics"},
        "logs": {"$ref": _REF + "logs"},
        "traces": {"$ref": _REF + "traces"},
        # Newer agents read an OpenTelemetry section; its content is left to the agent.
        "opentelemetry": {"type": "object"},
    },
    "definitions": {
        # ---- shared value types -------------------------------------------------------
        "interval": {"type": "integer", "minimum": 1, "maximum": 172800},
        "interval_or_zero": {"type": "integer", "minimum": 0, "maximum": 172800},
        "name": {"type": "string", "minLength": 1},
        "name_255": {"type": "string", "minLength": 1, "maxLength": 255},
        "name_512": {"type": "string", "minLength": 1, "maxLength": 512},
        "endpoint": {"type": "string", "minLength": 1, "maxLength": 2048},
        "string_list": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "credentials": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "role_arn": {
                    "type": "string",
                    "pattern": r"^(arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+|\$\{.+\})$",
                    "x-pattern-hint": "an IAM role ARN such as arn:aws:iam::123456789012:role/name",
                },
            },
        },
        # append_dimensions of one plugin: free-form dimension names and values.
        "dimensions": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 1024}},
        "measurement": {
            "type": "array",
            "minItems": 1,
            "items": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"$ref": _REF + "name"},
                            "rename": {"$ref": _REF + "name"},
                            "unit": {"$ref": _REF + "name"},
                        },
                    },
                ],
            },
        },
        # procstat accepts metric names only (no rename/unit objects).
        "measurement_names": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "metric_plugin": {
            "type": "object",
            "required": ["measurement"],
            "properties": {
                "measurement": {"$ref": _REF + "measurement"},
                "metrics_collection_interval": {"$ref": _REF + "interval"},
                "append_dimensions": {"$ref": _REF + "dimensions"},
                "drop_original_metrics": {"$ref": _REF + "string_list"},
            },
        },
        "metric_plugin_with_resources": {
            "type": "object",
            "required": ["measurement"],
            "properties": {
                "measurement": {"$ref": _REF + "measurement"},
                "metrics_collection_interval": {"$ref": _REF + "interval"},
                "append_dimensions": {"$ref": _REF + "dimensions"},
                "drop_original_metrics": {"$ref": _REF + "string_list"},
                "resources": {"$ref": _REF + "string_list"},
            },
        },
        "tls": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ca_file": {"$ref": _REF + "name"},
                "cert_file": {"$ref": _REF + "name"},
                "key_file": {"$ref": _REF + "name"},
                "insecure": {"type": "boolean"},
            },
        },
        "otlp_receiver": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "grpc_endpoint": {"$ref": _REF + "endpoint"},
                "http_endpoint": {"$ref": _REF + "endpoint"},
                "tls": {"$ref": _REF + "tls"},
                "service.name": {"$ref": _REF + "name"},
                "deployment.environment": {"$ref": _REF + "name"},
            },
        },
        "otlp": {
            "oneOf": [
                {"$ref": _REF + "otlp_receiver"},
                {"type": "array", "minItems": 1, "items": {"$ref": _REF + "otlp_receiver"}},
            ],
        },
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
        # ---- agent ----------------------------------------------------------------------
        "agent": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "metrics_collection_interval": {"$ref": _REF + "interval"},
                "region": {"$ref": _REF + "name"},
                "credentials": {"$ref": _REF + "credentials"},
                "debug": {"type": "boolean"},
                "aws_sdk_log_level": {
                    "type": "string",
                    "pattern": r"^\s*(LogDebug|LogDebugWithSigning|LogDebugWithHTTPBody|LogDebugWithRequestRetries|LogDebugWithRequestErrors"
                               r"|LogDebugWithEventStreamBody)\s*(\|\s*(LogDebug|LogDebugWithSigning|LogDebugWithHTTPBody|LogDebugWithRequestRetries"
                               r"|LogDebugWithRequestErrors|LogDebugWithEventStreamBody)\s*)*$",
                    "x-pattern-hint": "one or more of LogDebug, LogDebugWithSigning, LogDebugWithHTTPBody, LogDebugWithRequestRetries,"
                                      " LogDebugWithRequestErrors, LogDebugWithEventStreamBody separated by |",
                },
                "logfile": {"type": "string"},
                "omit_hostname": {"type": "boolean"},
                "run_as_user": {"$ref": _REF + "name"},
                "user_agent": {"type": "string"},
                "usage_data": {"type": "boolean"},
                "use_dualstack_endpoint": {"type": "boolean"},
                "service.name": {"$ref": _REF + "name_255"},
                "deployment.environment": {"$ref": _REF + "name"},
            },
        },
        # ---- metrics --------------------------------------------------------------------
        "metrics": {
            "type": "object",
            "additionalProperties": False,
            "required": ["metrics_collected"],
            "properties": {
                "namespace": {"$ref": _REF + "name_255"},
                # The agent honours exactly these four pairs and silently ignores anything else.
                "append_dimensions": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "ImageId": {"enum": ["${aws:ImageId}"]},
                        "InstanceId": {"enum": ["${aws:InstanceId}"]},
                        "InstanceType": {"enum": ["${aws:InstanceType}"]},
                        "AutoScalingGroupName": {"enum": ["${aws:AutoScalingGroupName}"]},
                    },
                },
                # A list of dimension lists; an empty inner list rolls up over all dimensions.
                "aggregation_dimensions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "array", "items": {"type": "string", "minLength": 1}},
                },
                "endpoint_override": {"$ref": _REF + "endpoint"},
                "force_flush_interval": {"$ref": _REF + "interval"},
                "credentials": {"$ref": _REF + "credentials"},
                "metrics_destinations": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "cloudwatch": {"type": "object"},
                        "amp": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["workspace_id"],
                            "properties": {"workspace_id": {"$ref": _REF + "name_255"}},
                        },
                    },
                },
                "service.name": {"$ref": _REF + "name"},
                "deployment.environment": {"$ref": _REF + "name"},
                "metrics_collected": {"$ref": _REF + "metrics_collected"},
            },
        },
        "metrics_collected": {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "cpu": {
                    "type": "object",
                    "required": ["measurement"],
                    "properties": {
                        "measurement": {"$ref": _REF + "measurement"},
                        "metrics_collection_interval": {"$ref": _REF + "interval"},
                        "append_dimensions": {"$ref": _REF + "dimensions"},
                        "drop_original_metrics": {"$ref": _REF + "string_list"},
                        "resources": {"type": "array", "items": {"enum": ["*"]}},
                        "totalcpu": {"type": "boolean"},
                    },
                },
                "disk": {
                    "type": "object",
                    "required": ["measurement"],
                    "properties": {
                        "measurement": {"$ref": _REF + "measurement"},
                        "metrics_collection_interval": {"$ref": _REF + "interval"},
                        "append_dimensions": {"$ref": _REF + "dimensions"},
                        "drop_original_metrics": {"$ref": _REF + "string_list"},
                        "resources": {"$ref": _REF + "string_list"},
                        "ignore_file_system_types": {"$ref": _REF + "string_list"},
                        "drop_device": {"type": "boolean"},
                    },
                },
                "diskio": {"$ref": _REF + "metric_plugin_with_resources"},
                "net": {"$ref": _REF + "metric_plugin_with_resources"},
                "swap": {"$ref": _REF + "metric_plugin"},
                "mem": {"$ref": _REF + "metric_plugin"},
                "netstat": {"$ref": _REF + "metric_plugin"},
                "processes": {"$ref": _REF + "metric_plugin"},
                "nvidia_gpu": {"$ref": _REF + "metric_plugin"},
                "efa": {"$ref": _REF + "metric_plugin"},
                "procstat": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["measurement"],
                        # The agent uses pid_file, else exe, else pattern.
                        "anyOf": [{"required": ["pid_file"]}, {"required": ["exe"]}, {"required": ["pattern"]}],
                        "properties": {
                            "pid_file": {"$ref": _REF + "name"},
                            "exe": {"$ref": _REF + "name"},
                            "pattern": {"$ref": _REF + "name"},
                            "measurement": {"$ref": _REF + "measurement_names"},
                            "metrics_collection_interval": {"$ref": _REF + "interval"},
                            "append_dimensions": {"$ref": _REF + "dimensions"},
                        },
                    },
                },
                "statsd": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "service_address": {"$ref": _REF + "name"},
                        "metrics_collection_interval": {"$ref": _REF + "interval"},
                        "metrics_aggregation_interval": {"$ref": _REF + "interval_or_zero"},
                        "allowed_pending_messages": {"type": "integer", "minimum": 1},
                        "metric_separator": {"$ref": _REF + "name"},
                        "drop_original_metrics": {"$ref": _REF + "string_list"},
                        "service.name": {"$ref": _REF + "name"},
                        "deployment.environment": {"$ref": _REF + "name"},
                    },
                },
                "collectd": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "service_address": {"$ref": _REF + "name"},
                        "name_prefix": {"$ref": _REF + "name_255"},
                        "collectd_auth_file": {"$ref": _REF + "name"},
                        "collectd_security_level": {"enum": ["none", "sign", "encrypt"]},
                        "collectd_typesdb": {"$ref": _REF + "string_list"},
                        "metrics_aggregation_interval": {"$ref": _REF + "interval_or_zero"},
                        "drop_original_metrics": {"$ref": _REF + "string_list"},
                        "append_dimensions": {"$ref": _REF + "dimensions"},
                        "service.name": {"$ref": _REF + "name"},
                        "deployment.environment": {"$ref": _REF + "name"},
                    },
                },
                "ethtool": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "interface_include": {"$ref": _REF + "string_list"},
                        "interface_exclude": {"$ref": _REF + "string_list"},
                        "metrics_include": {"$ref": _REF + "string_list"},
                        "append_dimensions": {"$ref": _REF + "dimensions"},
                        "drop_original_metrics": {"$ref": _REF + "string_list"},
                    },
                },
                "prometheus": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["prometheus_config_path"],
                    "properties": {"prometheus_config_path": {"$ref": _REF + "name"}},
                },
                "otlp": {"$ref": _REF + "otlp"},
                "jmx": {
                    "oneOf": [
                        {"$ref": _REF + "jmx_target"},
                        {"type": "array", "minItems": 1, "items": {"$ref": _REF + "jmx_target"}},
                    ],
                },
            },
            # Any other key is a Windows performance counter object such as "Processor" or "LogicalDisk".
            "additionalProperties": {"$ref": _REF + "metric_plugin_with_resources"},
        },
        "jmx_metrics": {
            "type": "object",
            "required": ["measurement"],
            "properties": {"measurement": {"$ref": _REF + "measurement"}},
        },
        "jmx_target": {
            "type": "object",
            "additionalProperties": False,
            "anyOf": [
                {"required": ["jvm"]},
                {"required": ["kafka"]},
                {"required": ["kafka-consumer"]},
                {"required": ["kafka-producer"]},
                {"required": ["tomcat"]},
            ],
            "properties": {
                "endpoint": {"$ref": _REF + "endpoint"},
                "metrics_collection_interval": {"$ref": _REF + "interval"},
                "username": {"type": "string"},
                "password_file": {"type": "string"},
                "keystore_path": {"type": "string"},
                "keystore_type": {"type": "string"},
                "truststore_path": {"type": "string"},
                "truststore_type": {"type": "string"},
                "registry_ssl_enabled": {"type": "boolean"},
                "remote_profile": {"type": "string"},
                "realm": {"type": "string"},
                "insecure": {"type": "boolean"},
                "append_dimensions": {"$ref": _REF + "dimensions"},
                "jvm": {"$ref": _REF + "jmx_metrics"},
                "kafka": {"$ref": _REF + "jmx_metrics"},
                "kafka-consumer": {"$ref": _REF + "jmx_metrics"},
                "kafka-producer": {"$ref": _REF + "jmx_metrics"},
                "tomcat": {"$ref": _REF + "jmx_metrics"},
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
        # ---- traces ---------------------------------------------------------------------
        "traces": {
            "type": "object",
            "additionalProperties": False,
            "required": ["traces_collected"],
            "properties": {
                "traces_collected": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "xray": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "bind_address": {"$ref": _REF + "endpoint"},
                                "tcp_proxy": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {"bind_address": {"$ref": _REF + "endpoint"}},
                                },
                            },
                        },
                        "otlp": {"$ref": _REF + "otlp"},
                        "app_signals": {"type": "object"},
                        "application_signals": {"type": "object"},
                    },
                },
                "buffer_size_mb": {"type": "integer", "minimum": 3},
                "concurrency": {"type": "integer", "minimum": 1},
                "resource_arn": {"$ref": _REF + "name"},
                "local_mode": {"type": "boolean"},
                "insecure": {"type": "boolean"},
                "credentials": {"$ref": _REF + "credentials"},
                "endpoint_override": {"$ref": _REF + "endpoint"},
                "region_override": {"$ref": _REF + "name"},
                "proxy_override": {"$ref": _REF + "endpoint"},
                "transit_spans_in_otlp_format": {"type": "boolean"},
            },
        },
    },
}


# ---- paths and messages -------------------------------------------------------------------

ROOT_PATH = "(root)"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path):
    """Render a sequence of keys and list indexes as ``a.b[2]["odd key"]``; the empty path is ``(root)``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += ("." if text else "") + part
        else:
            text += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return text or ROOT_PATH


def _sort_key(error):
    path, message = error
    return tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in path), message


def _render(errors):
    return [f"{format_path(path)}: {message}" for path, message in sorted(set(errors), key=_sort_key)]


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value, name):
    actual = _json_type(value)
    if name == "integer":
        return actual == "integer" or (actual == "number" and value.is_integer())
    if name == "number":
        return actual in ("integer", "number")
    return actual == name


def _show(value, limit=60):
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


# ---- the validator --------------------------------------------------------------------------

class _Validator:
    """Checks a value against the JSON Schema subset used by AGENT_CONFIG_SCHEMA.

    Keywords: $ref (local "#/..." pointers), type, enum, minimum, maximum, exclusiveMinimum,
    exclusiveMaximum, minLength, maxLength, pattern (with the x-pattern-hint extension for the
    message), minItems, maxItems, uniqueItems, items, required, properties, patternProperties,
    additionalProperties (bool or schema), minProperties, allOf, anyOf, oneOf, not. Other keywords
    are ignored, as JSON Schema does with unknown keywords.
    """

    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#"):
            raise AgentConfigError(f"schema: only local references are supported, not {ref}")
        node = self.root
        for token in [t for t in ref[1:].split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise AgentConfigError(f"schema: unresolvable reference {ref}")
            node = node[token]
        return node

    def check(self, value, schema, path=()):
        """Return the list of (path, message) errors of value against schema."""
        errors = []
        if schema is True or schema == {}:
            return errors
        if schema is False:
            return [(path, "not allowed")]
        if "$ref" in schema:
            errors.extend(self.check(value, self.resolve(schema["$ref"]), path))
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, name) for name in types):
                errors.append((path, f"must be of type {' or '.join(types)}, got {_json_type(value)}"))
                return errors
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            options = schema["enum"]
            if len(options) == 1:
                errors.append((path, f"must be {_show(options[0])}, got {_show(value)}"))
            else:
                errors.append((path, f"must be one of {', '.join(_show(o, 200) for o in options)}, got {_show(value)}"))
        kind = _json_type(value)
        if kind in ("integer", "number"):
            errors.extend(self._check_number(value, schema, path))
        elif kind == "string":
            errors.extend(self._check_string(value, schema, path))
        elif kind == "array":
            errors.extend(self._check_array(value, schema, path))
        elif kind == "object":
            errors.extend(self._check_object(value, schema, path))
        if "not" in schema and not self.check(value, schema["not"], path):
            excluded = schema["not"].get("enum") if isinstance(schema["not"], Mapping) else None
            if excluded:
                errors.append((path, f"must not be {' or '.join(_show(o) for o in excluded)}"))
            else:
                errors.append((path, "is not allowed here"))
        for sub in schema.get("allOf", []):
            errors.extend(self.check(value, sub, path))
        if "anyOf" in schema:
            errors.extend(self._check_alternatives(value, schema["anyOf"], path, exactly_one=False))
        if "oneOf" in schema:
            errors.extend(self._check_alternatives(value, schema["oneOf"], path, exactly_one=True))
        return errors

    @staticmethod
    def _check_number(value, schema, path):
        errors = []
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"must be >= {schema['minimum']}, got {_show(value)}"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append((path, f"must be > {schema['exclusiveMinimum']}, got {_show(value)}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"must be <= {schema['maximum']}, got {_show(value)}"))
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append((path, f"must be < {schema['exclusiveMaximum']}, got {_show(value)}"))
        return errors

    @staticmethod
    def _check_string(value, schema, path):
        errors = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            if schema["minLength"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must be at least {_plural(schema['minLength'], 'character')} long"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((path, f"must be at most {_plural(schema['maxLength'], 'character')} long, got {len(value)}"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            expected = schema.get("x-pattern-hint") or f"a string matching {schema['pattern']}"
            errors.append((path, f"must be {expected}, got {_show(value)}"))
        return errors

    def _check_array(self, value, schema, path):
        errors = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            if schema["minItems"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must contain at least {_plural(schema['minItems'], 'item')}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((path, f"must contain at most {_plural(schema['maxItems'], 'item')}"))
        if schema.get("uniqueItems"):
            seen = {}
            for index, item in enumerate(value):
                first = seen.setdefault(_show(item, limit=None), index)
                if first != index:
                    errors.append((path + (index,), f"duplicate of item [{first}]"))
        if "items" in schema:
            for index, item in enumerate(value):
                errors.extend(self.check(item, schema["items"], path + (index,)))
        return errors

    def _check_object(self, value, schema, path):
        errors = []
        for key in schema.get("required", []):
            if key not in value:
                errors.append((path + (key,), "required"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            if schema["minProperties"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must contain at least {_plural(schema['minProperties'], 'key')}"))
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            key_path = path + (key if isinstance(key, str) else str(key),)
            matched = False
            if key in properties:
                matched = True
                errors.extend(self.check(item, properties[key], key_path))
            for pattern, sub in patterns.items():
                if isinstance(key, str) and re.search(pattern, key):
                    matched = True
                    errors.extend(self.check(item, sub, key_path))
            if matched:
                continue
            if additional is False:
                allowed = sorted(properties)
                hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
                errors.append((key_path, "unknown key" + hint))
            elif isinstance(additional, Mapping):
                errors.extend(self.check(item, additional, key_path))
        return errors

    def _check_alternatives(self, value, alternatives, path, exactly_one):
        results = [self.check(value, sub, path) for sub in alternatives]
        passed = sum(1 for errors in results if not errors)
        if passed == 1 or (passed > 1 and not exactly_one):
            return []
        keys = [sub["required"][0] for sub in alternatives if set(sub) == {"required"} and len(sub["required"]) == 1]
        if len(keys) == len(alternatives):
            quantity = "exactly one" if exactly_one else "at least one"
            return [(path, f"must contain {quantity} of: {', '.join(keys)}")]
        if passed > 1:
            return [(path, f"must match exactly one of the allowed forms, but matches {passed}")]
        # Nothing matched: explain against the alternatives of the value's own type, if any.
        declared = [self._declared_types(sub) for sub in alternatives]
        fitting = [errors for errors, types in zip(results, declared) if types is None or any(_is_type(value, t) for t in types)]
        if not fitting:
            names = []
            for types in declared:
                names.extend(t for t in types if t not in names)
            return [(path, f"must be of type {' or '.join(names)}, got {_json_type(value)}")]
        return min(fitting, key=len)

    def _declared_types(self, schema):
        while "type" not in schema and "$ref" in schema:
            schema = self.resolve(schema["$ref"])
        if "type" not in schema:
            return None
        return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _same(value, option):
    """JSON equality: true is not 1, 1.0 is 1."""
    if isinstance(value, bool) or isinstance(option, bool):
        return isinstance(value, bool) and isinstance(option, bool) and value == option
    return value == option


# ---- public API ---------------------------------------------------------------------------

def validate_agent_config(config, schema=None):
    """Validate an agent configuration (a dict) and return all errors as sorted ``path: message`` strings.

    ``schema`` defaults to AGENT_CONFIG_SCHEMA; any schema written in the same subset of JSON Schema works.
    An empty list means the configuration is valid.
    """
    schema = AGENT_CONFIG_SCHEMA if schema is None else schema
    return _render(_Validator(schema).check(config, schema))


def validate_with_json_schema(config, schema_document):
    """Validate config against a full JSON Schema document (dict or JSON text) with the jsonschema library.

    This is what the ``schema`` option uses, for example with the agent package's
    ``doc/amazon-cloudwatch-agent-schema.json``. Errors use the same path style as
    validate_agent_config.
    """
    if not HAS_JSONSCHEMA:
        raise AgentConfigError(
            "The schema option needs the Python library jsonschema on the host that runs the module;"
            " install it there (pip install jsonschema) or leave schema unset to use the built-in validation."
        )
    if isinstance(schema_document, (str, bytes)):
        schema_document = _loads(schema_document, "schema")
    if not isinstance(schema_document, Mapping):
        raise AgentConfigError(f"schema: must be a JSON object, got {_json_type(schema_document)}")
    cls = jsonschema.validators.validator_for(schema_document)
    try:
        cls.check_schema(schema_document)
    except jsonschema.exceptions.SchemaError as e:
        raise AgentConfigError(f"schema: not a valid JSON schema: {e.message}") from e
    errors = []
    try:
        for error in cls(schema_document).iter_errors(config):
            errors.extend(_explain(error))
    except jsonschema.exceptions.SchemaError as e:
        raise AgentConfigError(f"schema: not a valid JSON schema: {e.message}") from e
    except Exception as e:
        # Unresolvable $ref and similar problems in the schema document itself.
        if type(e).__module__.partition(".")[0] in ("jsonschema", "referencing"):
            raise AgentConfigError(f"schema: cannot be used: {e}") from e
        raise
    return _render(errors)


def _explain(error):
    """(path, message) pairs for a jsonschema error; a failed oneOf/anyOf is explained by the one branch of the value's type."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [subs for subs in branches.values() if not any(sub.validator == "type" and not sub.relative_path for sub in subs)]
        if len(fitting) == 1:
            return [pair for sub in fitting[0] for pair in _explain(sub)]
    message = error.message
    shown = repr(error.instance)
    if len(shown) > 60 and message.startswith(shown):
        # jsonschema starts most messages with the whole offending value; keep its beginning only.
        message = shown[:57] + "..." + message[len(shown):]
    return [(tuple(error.absolute_path), message)]


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise AgentConfigError("invalid JSON: duplicate key " + json.dumps(key, ensure_ascii=False))
        result[key] = value
    return result


def _loads(text, what):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AgentConfigError(f"{what}: not UTF-8 text: {e}") from e
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as e:
        raise AgentConfigError(f"{what}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e


def normalize_config(value):
    """Return (config dict, compact JSON text) for a dict or a JSON string.

    The compact text has sorted keys and no whitespace, so configurations that differ only in
    key order or layout give the same text. The dict returned is parsed back from that text: it
    holds exactly what the agent will read. Raises AgentConfigError for invalid input.
    """
    if isinstance(value, (str, bytes)):
        value = _loads(value, "config")
    if not isinstance(value, Mapping):
        raise AgentConfigError(f"config: must be a JSON object (a dict), got {_json_type(value)}")
    try:
        compact = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise AgentConfigError(f"config: cannot be written as JSON: {e}") from e
    return json.loads(compact), compact


def config_size(compact):
    """Size of the compact JSON text in UTF-8 bytes (what SSM Parameter Store counts)."""
    return len(compact.encode("utf-8"))
