# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``metrics`` section of the agent configuration schema (definitions merged into AGENT_CONFIG_SCHEMA)."""

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import any_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import array_of
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import closed_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import non_empty_string
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import one_or_many
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import open_object
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import ref
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import required_one_of
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_builders import service_identity


def _metric_plugin(**properties):
    """A metric plugin section: a measurement list and the keys every plugin accepts, plus ``properties``."""
    return open_object({
        "measurement": ref("measurement"),
        "metrics_collection_interval": ref("interval"),
        "append_dimensions": ref("dimensions"),
        "drop_original_metrics": ref("string_list"),
        **properties,
    }, required=["measurement"])


# The applications a JMX target section names; it must name at least one.
_JMX_TARGETS = ("jvm", "kafka", "kafka-consumer", "kafka-producer", "tomcat")

METRICS_DEFINITIONS = {
    # ---- metric plugins -------------------------------------------------------------
    "measurement": array_of({
        "oneOf": [
            non_empty_string(),
            open_object({"name": ref("name"), "rename": ref("name"), "unit": ref("name")}, required=["name"]),
        ],
    }, min_items=1),
    # procstat accepts metric names only (no rename/unit objects).
    "measurement_names": array_of(non_empty_string(), min_items=1),
    "metric_plugin": _metric_plugin(),
    "metric_plugin_with_resources": _metric_plugin(resources=ref("string_list")),
    # ---- metrics --------------------------------------------------------------------
    "metrics": closed_object({
        "namespace": ref("name_255"),
        # The agent honours exactly these four pairs and silently ignores anything else.
        "append_dimensions": closed_object({
            "ImageId": {"enum": ["${aws:ImageId}"]},
            "InstanceId": {"enum": ["${aws:InstanceId}"]},
            "InstanceType": {"enum": ["${aws:InstanceType}"]},
            "AutoScalingGroupName": {"enum": ["${aws:AutoScalingGroupName}"]},
        }),
        # A list of dimension lists; an empty inner list rolls up over all dimensions.
        "aggregation_dimensions": array_of(array_of(non_empty_string()), min_items=1),
        "endpoint_override": ref("endpoint"),
        "force_flush_interval": ref("interval"),
        "credentials": ref("credentials"),
        "metrics_destinations": closed_object({
            "cloudwatch": any_object(),
            "amp": closed_object({"workspace_id": ref("name_255")}, required=["workspace_id"]),
        }, minProperties=1),
        **service_identity(),
        "metrics_collected": ref("metrics_collected"),
    }, required=["metrics_collected"]),
    # Any other key than these is a Windows performance counter object such as "Processor" or "LogicalDisk".
    "metrics_collected": open_object({
        "cpu": _metric_plugin(resources=array_of({"enum": ["*"]}), totalcpu={"type": "boolean"}),
        "disk": _metric_plugin(
            resources=ref("string_list"),
            ignore_file_system_types=ref("string_list"),
            drop_device={"type": "boolean"},
        ),
        "diskio": ref("metric_plugin_with_resources"),
        "net": ref("metric_plugin_with_resources"),
        "swap": ref("metric_plugin"),
        "mem": ref("metric_plugin"),
        "netstat": ref("metric_plugin"),
        "processes": ref("metric_plugin"),
        "nvidia_gpu": ref("metric_plugin"),
        "efa": ref("metric_plugin"),
        # The agent uses pid_file, else exe, else pattern.
        "procstat": array_of(open_object({
            "pid_file": ref("name"),
            "exe": ref("name"),
            "pattern": ref("name"),
            "measurement": ref("measurement_names"),
            "metrics_collection_interval": ref("interval"),
            "append_dimensions": ref("dimensions"),
        }, required=["measurement"], anyOf=required_one_of("pid_file", "exe", "pattern")), min_items=1),
        "statsd": closed_object({
            "service_address": ref("name"),
            "metrics_collection_interval": ref("interval"),
            "metrics_aggregation_interval": ref("interval_or_zero"),
            "allowed_pending_messages": {"type": "integer", "minimum": 1},
            "metric_separator": ref("name"),
            "drop_original_metrics": ref("string_list"),
            **service_identity(),
        }),
        "collectd": closed_object({
            "service_address": ref("name"),
            "name_prefix": ref("name_255"),
            "collectd_auth_file": ref("name"),
            "collectd_security_level": {"enum": ["none", "sign", "encrypt"]},
            "collectd_typesdb": ref("string_list"),
            "metrics_aggregation_interval": ref("interval_or_zero"),
            "drop_original_metrics": ref("string_list"),
            "append_dimensions": ref("dimensions"),
            **service_identity(),
        }),
        "ethtool": closed_object({
            "interface_include": ref("string_list"),
            "interface_exclude": ref("string_list"),
            "metrics_include": ref("string_list"),
            "append_dimensions": ref("dimensions"),
            "drop_original_metrics": ref("string_list"),
        }),
        "prometheus": closed_object({"prometheus_config_path": ref("name")}, required=["prometheus_config_path"]),
        "otlp": ref("otlp"),
        "jmx": one_or_many(ref("jmx_target")),
    }, minProperties=1, additionalProperties=ref("metric_plugin_with_resources")),
    "jmx_metrics": open_object({"measurement": ref("measurement")}, required=["measurement"]),
    "jmx_target": closed_object({
        "endpoint": ref("endpoint"),
        "metrics_collection_interval": ref("interval"),
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
        "append_dimensions": ref("dimensions"),
        **{target: ref("jmx_metrics") for target in _JMX_TARGETS},
    }, anyOf=required_one_of(*_JMX_TARGETS)),
}
