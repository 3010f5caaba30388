# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``metrics`` section of the agent configuration schema (definitions merged into AGENT_CONFIG_SCHEMA)."""

_REF = "#/definitions/"

# What every metric plugin section accepts.
_PLUGIN_PROPERTIES = {
    "measurement": {"$ref": _REF + "measurement"},
    "metrics_collection_interval": {"$ref": _REF + "interval"},
    "append_dimensions": {"$ref": _REF + "dimensions"},
    "drop_original_metrics": {"$ref": _REF + "string_list"},
}

METRICS_DEFINITIONS = {
    # ---- metric plugins -------------------------------------------------------------
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
    "metric_plugin": {"type": "object", "required": ["measurement"], "properties": {**_PLUGIN_PROPERTIES}},
    "metric_plugin_with_resources": {
        "type": "object",
        "required": ["measurement"],
        "properties": {**_PLUGIN_PROPERTIES, "resources": {"$ref": _REF + "string_list"}},
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
                    **_PLUGIN_PROPERTIES,
                    "resources": {"type": "array", "items": {"enum": ["*"]}},
                    "totalcpu": {"type": "boolean"},
                },
            },
            "disk": {
                "type": "object",
                "required": ["measurement"],
                "properties": {
                    **_PLUGIN_PROPERTIES,
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
}
