#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: agent_config
version_added: 0.1.0
short_description: Validate a CloudWatch agent configuration and publish it to SSM Parameter Store
description:
  - Validates an Amazon CloudWatch agent configuration and publishes it as a String parameter in
    AWS Systems Manager Parameter Store, where agents fetch it with
    C(amazon-cloudwatch-agent-ctl -a fetch-config -c ssm:NAME).
  - "The configuration is validated before anything is written; an invalid configuration changes nothing in AWS
    and every error is reported with its JSON path, for example
    C(logs.logs_collected.files.collect_list[2].file_path: required)."
  - The parameter holds the configuration as compact JSON (sorted keys, no insignificant white space). The module is
    idempotent by meaning. The same configuration with other key order or white space is no change.
  - Parameters are regional; publish to each region whose agents fetch the configuration.
  - Plain publishing needs only C(ssm:GetParameter) and C(ssm:PutParameter), the rights the AWS managed policy
    C(CloudWatchAgentAdminPolicy) grants on C(AmazonCloudWatch-*). Options that need more say so; when AWS
    denies such a call the module fails with the name of the missing permission.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  name:
    description:
      - Name of the parameter.
      - Must start with C(AmazonCloudWatch-), the prefix the AWS managed policies grant agents read access
        (C(CloudWatchAgentServerPolicy)) and administrators write access (C(CloudWatchAgentAdminPolicy)) to.
        See O(allow_any_name).
    type: str
    required: true
  config:
    description:
      - The agent configuration as a dictionary, with the sections C(agent), C(metrics), C(logs) and C(traces).
      - One of O(config), O(content) and O(restore_version) is required when O(state=present).
    type: dict
  content:
    description:
      - The agent configuration as JSON text, for example read with C(lookup('ansible.builtin.file', 'agent.json')).
      - Invalid JSON fails with its line and column.
    type: str
  restore_version:
    description:
      - Publish the value an earlier version of the parameter held as the newest version.
      - The value is read with C(ssm:GetParameter) and a version selector (C(NAME:VERSION)), so no more rights are
        needed than for publishing. Parameter Store keeps the last 100 versions.
      - The restored configuration is validated like any other; restoring a version whose configuration equals the
        current one is no change.
    type: int
  description:
    description:
      - Description of the parameter.
      - When set and the parameter exists, the module reads the current description with
        C(ssm:DescribeParameters), a permission C(CloudWatchAgentAdminPolicy) does not grant.
      - A changed description is written with C(ssm:PutParameter) and makes a new parameter version.
      - When not set, the description is left as it is.
    type: str
  tier:
    description:
      - The Parameter Store tier.
      - V(auto) uses V(Standard) when the stored configuration fits in 4096 bytes and V(Advanced) only when it must
        (up to 8192 bytes). It never moves a parameter back from V(Advanced) to V(Standard), which Parameter Store
        cannot do without deleting the history. V(auto) needs no permission beyond publishing.
      - V(Standard) and V(Advanced) make the module read the current tier of an existing parameter with
        C(ssm:DescribeParameters) and write the parameter again when the tier differs.
      - V(Intelligent-Tiering) lets Parameter Store choose on each write.
      - Above 8192 bytes the module fails, naming the size and the limit, whatever the tier.
      - Advanced parameters are charged for; see AWS Systems Manager pricing.
    type: str
    choices: ['auto', 'Standard', 'Advanced', 'Intelligent-Tiering']
    default: auto
  validate:
    description:
      - Validate the configuration against the agent configuration format kept in this collection before publishing.
      - With V(false) the value still has to be a JSON object; O(schema) is applied when set.
    type: bool
    default: true
  schema:
    description:
      - Path to a JSON schema file on the host that runs the module, to validate the configuration against as well,
        for example the C(doc/amazon-cloudwatch-agent-schema.json) the agent's package installs, so that the
        configuration is checked against the exact agent version that runs it.
      - Needs the Python library C(jsonschema) on that host.
    type: path
  allow_any_name:
    description:
      - Allow a O(name) without the C(AmazonCloudWatch-) prefix. The module then warns that agents using
        C(CloudWatchAgentServerPolicy) cannot read the parameter.
    type: bool
    default: false
  state:
    description:
      - V(present) publishes the configuration, V(absent) deletes the parameter and all its versions.
      - V(absent) needs C(ssm:DeleteParameter), a permission C(CloudWatchAgentAdminPolicy) does not grant.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Permissions by feature. Publishing, check mode, no-op runs, O(tier=auto) and O(restore_version) need
    C(ssm:GetParameter) and C(ssm:PutParameter) only. O(description) and O(tier=Standard) or O(tier=Advanced) add
    C(ssm:DescribeParameters); O(tags) add C(ssm:ListTagsForResource) (reading the tags of an existing parameter),
    C(ssm:AddTagsToResource) (also for creating a parameter with tags) and C(ssm:RemoveTagsFromResource);
    O(state=absent) needs C(ssm:GetParameter) and C(ssm:DeleteParameter).
  - Moto, the AWS emulator, does not enforce the 8192 byte limit nor refuse a move from Advanced to Standard;
    AWS does both, and the module checks the limit itself.
  - Supports C(check_mode) and C(diff_mode). The diff shows the configuration as pretty printed JSON with sorted keys.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the Linux agent configuration
  observability.cloudwatch.agent_config:
    name: AmazonCloudWatch-linux
    config:
      agent:
        metrics_collection_interval: 60
      metrics:
        append_dimensions:
          InstanceId: "${aws:InstanceId}"
        metrics_collected:
          mem:
            measurement: [mem_used_percent]
          disk:
            resources: ["/"]
            measurement: [used_percent]
      logs:
        logs_collected:
          files:
            collect_list:
              - file_path: /var/log/messages
                log_group_name: /ec2/messages
                retention_in_days: 30

- name: Publish a configuration file, checked against the schema of the agent version in use
  observability.cloudwatch.agent_config:
    name: AmazonCloudWatch-windows
    content: "{{ lookup('ansible.builtin.file', 'files/windows-agent.json') }}"
    schema: /opt/aws/amazon-cloudwatch-agent/doc/amazon-cloudwatch-agent-schema.json
    region: eu-west-1

- name: Roll back to version 3
  observability.cloudwatch.agent_config:
    name: AmazonCloudWatch-linux
    restore_version: 3

- name: Remove the configuration (needs ssm:DeleteParameter)
  observability.cloudwatch.agent_config:
    name: AmazonCloudWatch-linux
    state: absent
"""

RETURN = r"""
parameter:
  description: The parameter, as published (or, in check mode, as it would be). Empty after O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the parameter.
      type: str
      sample: AmazonCloudWatch-linux
    version:
      description: Version of the parameter holding the configuration.
      type: int
      sample: 4
    tier:
      description:
        - The parameter's tier.
        - GetParameter does not return the tier. After a write it is the tier Parameter Store reported. In a run that
          wrote nothing it is the tier read with C(ssm:DescribeParameters) when O(description), O(tier=Standard) or
          O(tier=Advanced) made the module read it, otherwise the tier the stored size proves (V(Advanced) above
          4096 bytes) or else V(Standard), which misses a small configuration kept in the advanced tier.
      type: str
      sample: Standard
    type:
      description: The parameter type. Always V(String).
      type: str
      sample: String
    description:
      description: The description, when O(description) is set.
      type: str
      returned: when O(description) is set
    tags:
      description: The tags, when O(tags) is set.
      type: dict
      returned: when O(tags) is set
config:
  description: The normalised configuration published (what agents fetch).
  returned: when O(state=present)
  type: dict
  sample: {"agent": {"metrics_collection_interval": 60}}
size:
  description: Size of the stored configuration in bytes (compact JSON, UTF-8).
  returned: when O(state=present)
  type: int
  sample: 412
errors:
  description: Every validation error, each prefixed with its JSON path.
  returned: when validation fails
  type: list
  elements: str
  sample: ["logs.logs_collected.files.collect_list[2].file_path: required"]
"""

import json

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import HAS_JSONSCHEMA
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import JSONSCHEMA_IMPORT_ERROR
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import config_size
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import normalize_config
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import validate_agent_config
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config_json import validate_with_json_schema
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import ADVANCED
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AUTO
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import INTELLIGENT_TIERING
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import PARAMETER_TYPE
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import STANDARD
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import TIER_CHOICES
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AnsibleSSMError
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import TierError
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import choose_tier
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import delete_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import describe_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import get_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import known_tier
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import list_parameter_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import put_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import update_parameter_tags


def pretty(config):
    return json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stored_config(parameter):
    """The configuration an existing parameter holds, or None when its value is not a JSON object."""
    if parameter is None:
        return None
    try:
        return normalize_config(parameter["Value"])[0]
    except AgentConfigError:
        return None


def check_name(module):
    name = module.params["name"]
    if name.startswith(CONFIG_NAME_PREFIX):
        return
    if not module.params["allow_any_name"]:
        module.fail_json(
            msg=f"The parameter name {name!r} does not start with {CONFIG_NAME_PREFIX!r}: the AWS managed policies let"
            f" agents read (CloudWatchAgentServerPolicy) and administrators write (CloudWatchAgentAdminPolicy) only"
            f" parameters named {CONFIG_NAME_PREFIX}*. Rename it, or set allow_any_name=true if you grant access otherwise."
        )
    module.warn(
        f"The parameter name {name!r} does not start with {CONFIG_NAME_PREFIX!r}: agents using CloudWatchAgentServerPolicy"
        f" cannot read it, and CloudWatchAgentAdminPolicy cannot write it; grant ssm:GetParameter on it yourself."
    )


def read_schema(module):
    path = module.params["schema"]
    if path is None:
        return None
    if not HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema", reason="to use the schema option"), exception=JSONSCHEMA_IMPORT_ERROR)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as e:
        module.fail_json(msg=f"Cannot read the schema file {path}: {to_native(e)}")


def prepare(module, value, schema_document, what):
    """Normalise and validate ``value``; fail, having written nothing, when it is not a valid configuration."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None  # normalize_config reports where the JSON breaks
        if parsed is not None and not isinstance(parsed, dict):
            # Valid JSON, but not an object: report it like any other validation error, with its path.
            fail_invalid(module, what, validate_agent_config(parsed) or ["(root): must be of type object"])
    try:
        config, compact = normalize_config(value)
        errors = []
        if module.params["validate"]:
            errors.extend(validate_agent_config(config))
        if schema_document is not None:
            errors.extend(f"{error} (schema {module.params['schema']})" for error in validate_with_json_schema(config, schema_document))
    except AgentConfigError as e:
        module.fail_json(msg=f"The agent configuration for {module.params['name']} ({what}) cannot be used: {e.message}")
    if errors:
        fail_invalid(module, what, errors)
    size = config_size(compact)
    return config, compact, size


def fail_invalid(module, what, errors):
    module.fail_json(
        msg=f"The agent configuration for {module.params['name']} ({what}) is not valid, nothing was written."
        f" {len(errors)} error{'s' if len(errors) != 1 else ''}: " + "; ".join(errors),
        errors=errors,
    )


def desired_value(module, client, schema_document):
    """The configuration to publish: from config/content, or read from the parameter's history."""
    params = module.params
    if params["restore_version"] is None:
        value = params["config"] if params["config"] is not None else params["content"]
        return prepare(module, value, schema_document, "config" if params["config"] is not None else "content")
    version = params["restore_version"]
    earlier = get_parameter(client, params["name"], version=version)
    if earlier is None:
        module.fail_json(
            msg=f"Cannot restore version {version} of {params['name']}: the parameter or that version does not exist"
            " (Parameter Store keeps the last 100 versions)."
        )
    return prepare(module, earlier["Value"], schema_document, f"version {version}")


def ensure_present(module, client, schema_document):
    params = module.params
    name = params["name"]
    requested_tier = params["tier"]

    config, compact, size = desired_value(module, client, schema_document)
    # A size no tier (or the tier asked for) can hold fails before the current state is even read.
    tier_or_fail(module, requested_tier, size, None)

    current = get_parameter(client, name)

    described = None
    if current is not None and (params["description"] is not None or requested_tier in (STANDARD, ADVANCED)):
        described = describe_parameter(client, name)
    current_tier = known_tier(current["Value"] if current else None, (described or {}).get("Tier"))
    tier = tier_or_fail(module, requested_tier, size, current_tier)

    value_changed = current is None or current.get("Type") != PARAMETER_TYPE or stored_config(current) != config
    description_changed = params["description"] is not None and (
        current is None or (described or {}).get("Description", "") != params["description"]
    )
    tier_changed = current is not None and requested_tier in (STANDARD, ADVANCED) and tier != current_tier
    write = value_changed or description_changed or tier_changed

    version = current["Version"] if current else 0
    result_tier = current_tier or (described or {}).get("Tier") or STANDARD
    if write:
        version += 1
        # Intelligent-Tiering resolves like auto; Parameter Store reports the tier it chose.
        result_tier = tier if tier != INTELLIGENT_TIERING else choose_tier(AUTO, size, current_tier)
        if not module.check_mode:
            written = write_value(client, name, compact, tier, requested_tier, current, params)
            version, result_tier = written["version"], written["tier"]

    tags = None
    tags_changed = False
    if params["tags"] is not None:
        tags, tags_changed = ensure_tags(module, client, name, current)

    parameter = {"name": name, "version": version, "tier": result_tier, "type": PARAMETER_TYPE}
    if params["description"] is not None:
        parameter["description"] = params["description"]
    if tags is not None:
        parameter["tags"] = tags
    result = {"changed": write or tags_changed, "parameter": parameter, "config": config, "size": size}
    if module._diff:
        result["diff"] = {
            "before_header": f"{name} (version {current['Version']})" if current else f"{name} (absent)",
            "after_header": f"{name} (version {version})",
            "before": pretty(stored_config(current)) if stored_config(current) is not None else (current or {}).get("Value", ""),
            "after": pretty(config),
        }
    return result


def tier_or_fail(module, requested, size, current_tier):
    try:
        return choose_tier(requested, size, current_tier)
    except TierError as e:
        module.fail_json(msg=f"Cannot publish {module.params['name']}: {e}; nothing was written.", size=size)


def write_value(client, name, compact, tier, requested_tier, current, params):
    kwargs = {"tier": tier, "description": params["description"]}
    if current is None:
        return put_parameter(client, name, compact, tags=params["tags"], overwrite=False, **kwargs)
    # With auto, a small configuration may go to a parameter that is advanced already: keep it advanced.
    return put_parameter(client, name, compact, keep_advanced=requested_tier == AUTO, **kwargs)


def ensure_tags(module, client, name, current):
    desired = module.params["tags"]
    if current is None:
        # A new parameter gets its tags with PutParameter.
        return dict(desired), bool(desired)
    current_tags = list_parameter_tags(client, name)
    to_set, to_unset = compare_aws_tags(current_tags, desired, module.params["purge_tags"])
    if not (to_set or to_unset):
        return current_tags, False
    if not module.check_mode:
        update_parameter_tags(client, name, to_set, to_unset)
    tags = {k: v for k, v in current_tags.items() if k not in to_unset}
    tags.update(to_set)
    return tags, True


def ensure_absent(module, client):
    name = module.params["name"]
    current = get_parameter(client, name)
    if current is None:
        return {"changed": False, "parameter": {}}
    if not module.check_mode:
        delete_parameter(client, name)
    result = {"changed": True, "parameter": {}}
    if module._diff:
        before = stored_config(current)
        result["diff"] = {
            "before_header": f"{name} (version {current['Version']})",
            "after_header": f"{name} (absent)",
            "before": pretty(before) if before is not None else current.get("Value", ""),
            "after": "",
        }
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        config=dict(type="dict"),
        content=dict(type="str"),
        restore_version=dict(type="int"),
        description=dict(type="str"),
        tier=dict(type="str", choices=TIER_CHOICES, default=AUTO),
        validate=dict(type="bool", default=True),
        schema=dict(type="path"),
        allow_any_name=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("config", "content", "restore_version")],
        required_if=[("state", "present", ("config", "content", "restore_version"), True)],
        supports_check_mode=True,
    )
    if module.params["restore_version"] is not None and module.params["restore_version"] < 1:
        module.fail_json(msg="restore_version must be a version number, 1 or more.")

    check_name(module)
    schema_document = read_schema(module) if module.params["state"] == "present" else None
    client = module.client("ssm", retry_decorator=jittered_backoff())

    try:
        if module.params["state"] == "present":
            result = ensure_present(module, client, schema_document)
        else:
            result = ensure_absent(module, client)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)

    module.exit_json(**result)


if __name__ == "__main__":
    main()
