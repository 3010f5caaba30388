# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The schema of Amazon CloudWatch agent configuration files, and ``validate_agent_config``.

The schema follows AWS's documentation of the agent configuration file
("Manually create or edit the CloudWatch agent configuration file") and the
behaviour of the agent itself. It is a data literal in a small subset of JSON
Schema, checked by ``validate_agent_config`` (the validator and the error format:
``agent_schema_validator``); the section definitions of ``metrics`` and ``logs``
live in ``agent_schema_metrics`` and ``agent_schema_logs``. Stdlib only, so that
it can be shipped to targets.

Where the documentation gives a closed set of keys (the top level, ``agent``,
``metrics``, ``logs``, ``traces`` and most of their sub-sections) unknown keys
are rejected. Where the agent accepts extra keys (metric plugin sections,
``logs.metrics_collected``, ``opentelemetry``) they are tolerated.
"""

from __future__ import annotations

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_logs import LOGS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_metrics import METRICS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import Validator
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import render_errors

_REF = "#/definitions/"

# The shared value types and the agent and traces sections; metrics and logs have files of their own.
DEFINITIONS = {
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
}

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
    "definitions": {**DEFINITIONS, **METRICS_DEFINITIONS, **LOGS_DEFINITIONS},
}


def validate_agent_config(config, schema=None):
    """Validate an agent configuration (a dict) and return all errors as sorted ``path: message`` strings.

    ``schema`` defaults to AGENT_CONFIG_SCHEMA; any schema written in the same subset of JSON Schema works.
    An empty list means the configuration is valid.
    """
    schema = AGENT_CONFIG_SCHEMA if schema is None else schema
    return render_errors(Validator(schema).check(config, schema))
