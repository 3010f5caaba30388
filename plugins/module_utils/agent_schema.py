# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The schema of Amazon CloudWatch agent configuration files, and ``validate_agent_config``.

The schema follows AWS's documentation of the agent configuration file
("Manually create or edit the CloudWatch agent configuration file") and the
behaviour of the agent itself. It is plain data in a small subset of JSON
Schema, written with the builders of ``agent_schema_builders`` and checked by
``validate_agent_config`` (the validator and the error format:
``agent_schema_validator``); the section definitions of ``metrics`` and ``logs``
live in ``agent_schema_metrics`` and ``agent_schema_logs``. Stdlib only, so that
it can be shipped to targets.

Where the documentation gives a closed set of keys (the top level, ``agent``,
``metrics``, ``logs``, ``traces`` and most of their sub-sections) unknown keys
are rejected. Where the agent accepts extra keys (metric plugin sections,
``logs.metrics_collected``, ``opentelemetry``) they are tolerated.
"""

from __future__ import annotations

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import any_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import array_of
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import closed_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import non_empty_string
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import one_or_many
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import ref
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import service_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_logs import LOGS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_metrics import METRICS_DEFINITIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import Validator
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import render_errors

# The shared value types and the agent and traces sections; metrics and logs have files of their own.
DEFINITIONS = {
    # ---- shared value types -------------------------------------------------------
    "interval": {"type": "integer", "minimum": 1, "maximum": 172800},
    "interval_or_zero": {"type": "integer", "minimum": 0, "maximum": 172800},
    "name": non_empty_string(),
    "name_255": non_empty_string(maxLength=255),
    "name_512": non_empty_string(maxLength=512),
    "endpoint": non_empty_string(maxLength=2048),
    "string_list": array_of(non_empty_string()),
    "credentials": closed_object({
        "role_arn": {
            "type": "string",
            "pattern": r"^(arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+|\$\{.+\})$",
            "x-pattern-hint": "an IAM role ARN such as arn:aws:iam::123456789012:role/name",
        },
    }),
    # append_dimensions of one plugin: free-form dimension names and values.
    "dimensions": {"type": "object", "additionalProperties": non_empty_string(maxLength=1024)},
    "tls": closed_object({
        "ca_file": ref("name"),
        "cert_file": ref("name"),
        "key_file": ref("name"),
        "insecure": {"type": "boolean"},
    }),
    "otlp_receiver": closed_object({
        "grpc_endpoint": ref("endpoint"),
        "http_endpoint": ref("endpoint"),
        "tls": ref("tls"),
        **service_identity(),
    }),
    "otlp": one_or_many(ref("otlp_receiver")),
    # ---- agent ----------------------------------------------------------------------
    "agent": closed_object({
        "metrics_collection_interval": ref("interval"),
        "region": ref("name"),
        "credentials": ref("credentials"),
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
        "run_as_user": ref("name"),
        "user_agent": {"type": "string"},
        "usage_data": {"type": "boolean"},
        "use_dualstack_endpoint": {"type": "boolean"},
        **service_identity("name_255"),
    }),
    # ---- traces ---------------------------------------------------------------------
    "traces": closed_object({
        "traces_collected": closed_object({
            "xray": closed_object({
                "bind_address": ref("endpoint"),
                "tcp_proxy": closed_object({"bind_address": ref("endpoint")}),
            }),
            "otlp": ref("otlp"),
            "app_signals": any_object(),
            "application_signals": any_object(),
        }, minProperties=1),
        "buffer_size_mb": {"type": "integer", "minimum": 3},
        "concurrency": {"type": "integer", "minimum": 1},
        "resource_arn": ref("name"),
        "local_mode": {"type": "boolean"},
        "insecure": {"type": "boolean"},
        "credentials": ref("credentials"),
        "endpoint_override": ref("endpoint"),
        "region_override": ref("name"),
        "proxy_override": ref("endpoint"),
        "transit_spans_in_otlp_format": {"type": "boolean"},
    }, required=["traces_collected"]),
}

AGENT_CONFIG_SCHEMA = closed_object({
    "agent": ref("agent"),
    "metrics": ref("metrics"),
    "logs": ref("logs"),
    "traces": ref("traces"),
    # Newer agents read an OpenTelemetry section; its content is left to the agent.
    "opentelemetry": any_object(),
}, definitions={**DEFINITIONS, **METRICS_DEFINITIONS, **LOGS_DEFINITIONS})


def validate_agent_config(config, schema=None):
    """Validate an agent configuration (a dict) and return all errors as sorted ``path: message`` strings.

    ``schema`` defaults to AGENT_CONFIG_SCHEMA; any schema written in the same subset of JSON Schema works.
    An empty list means the configuration is valid.
    """
    schema = AGENT_CONFIG_SCHEMA if schema is None else schema
    return render_errors(Validator(schema).check(config, schema))
