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
      - Parameter Store's rules apply, checked before any call. Letters, digits and C(_.-/); a hierarchical name
        starts with C(/) and has at most 15 levels; no name starts with C(aws) or C(ssm). The name and the ARN
        before it (C(arn:aws:ssm:REGION:ACCOUNT:parameter/)) have at most 1011 characters together, so the name
        at most 966 in C(us-east-1).
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
      - Description of the parameter, at most 1024 characters.
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
      - Validate the configuration on the controller, before the module runs, against the configuration format kept
        in this collection (a JSON schema document naming the agent version it describes, and the checks the agent's
        translator makes beyond its schema), with the Python library C(jsonschema) on the controller.
      - Every error names its JSON path. A key the agent ignores in a section the agent leaves open is a warning with
        its path (and the nearest known key), not an error.
      - A restored version (O(restore_version)) is read in check mode first and validated before it is published.
      - With V(false) the value still has to be a JSON object; O(schema) is applied when set.
    type: bool
    default: true
  schema:
    description:
      - Path to a JSON schema file on the controller, to validate the configuration against as well, for example a
        copy of the C(doc/amazon-cloudwatch-agent-schema.json) the agent's package installs.
      - Checked with the Python library C(jsonschema) on the controller, like O(validate).
    type: path
  allow_any_name:
    description:
      - Allow a O(name) without the C(AmazonCloudWatch-) prefix. The module then warns that agents using
        C(CloudWatchAgentServerPolicy) cannot read the parameter.
    type: bool
    default: false
  on_conflict:
    description:
      - What to do when another writer wrote the parameter between this module's read and its write, for example
        two playbooks publishing at once.
      - Parameter Store has no conditional write, so a conflict is found after the write. Every write makes one new
        version, and C(ssm:PutParameter) returns it. A write planned on version N that gets a version other than
        N+1 had another writer in between. The other writer's value is not lost; it stays in the parameter's
        history (see O(restore_version)). A create refused because the parameter exists meanwhile
        (C(ParameterAlreadyExists)) is a conflict too; this module wrote nothing then.
      - V(fail) fails, naming the parameter, the region, the version read, the version this module's write got, and
        whose value is current. RV(parameter) still tells the version this module wrote.
      - V(retry) reads the parameter again. When it holds this configuration (this module's write, or another
        writer's with the same configuration), the module succeeds with a warning that names the other writer's
        versions. When another writer wrote after this module, it writes again, up to 3 writes in all, then fails
        as with V(fail).
      - Runs without a conflict make no extra call. V(retry) needs no permission beyond publishing.
    type: str
    choices: ['fail', 'retry']
    default: fail
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
  - A run (or check mode run) that changes something also reads the caller identity once (C(sts:GetCallerIdentity),
    which needs no permission) for O(allow_root) and O(allow_federated_user); a run that changes nothing does not.
  - The validation runs on the controller (an action plugin in front of the module) and needs the Python library
    C(jsonschema) there; the module itself, wherever it runs, needs only boto3.
  - Supports C(check_mode) and C(diff_mode). The diff shows the configuration as pretty printed JSON with sorted keys.
extends_documentation_fragment:
  - observability.cloudwatch.caller
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

- name: Publish a configuration file, checked against a copy of the schema of the agent version in use as well
  observability.cloudwatch.agent_config:
    name: AmazonCloudWatch-windows
    content: "{{ lookup('ansible.builtin.file', 'files/windows-agent.json') }}"
    schema: files/amazon-cloudwatch-agent-schema.json
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
  description:
    - The parameter, as published (or, in check mode, as it would be). Empty after O(state=absent).
    - When the module fails on a conflict (O(on_conflict)), C(name) and the C(version) this module's last write
      got, without C(version) when none of its writes was made.
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

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config import AgentConfigInputError
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config import check_metadata
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config import check_name
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config import ensure_absent
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_config import ensure_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import CALLER_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import Caller
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AUTO
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import TIER_CHOICES
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import FAIL
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import ON_CONFLICT_CHOICES
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import AnsibleSSMConflictError


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
        on_conflict=dict(type="str", choices=ON_CONFLICT_CHOICES, default=FAIL),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **CALLER_OPTIONS,
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("config", "content", "restore_version")],
        required_if=[("state", "present", ("config", "content", "restore_version"), True)],
        supports_check_mode=True,
    )
    params = module.params
    if params["restore_version"] is not None and params["restore_version"] < 1:
        module.fail_json(msg="restore_version must be a version number, 1 or more.")
    present = params["state"] == "present"

    try:
        for warning in check_name(params["name"], params["allow_any_name"], module.region):
            module.warn(warning)
        check_metadata(params["description"], params["tags"])
        client = module.client("ssm", retry_decorator=jittered_backoff())
        # Never the root user (nor a federated user) unless allowed; asked only when a write is due.
        sts = module.client("sts", retry_decorator=jittered_backoff())
        guard = Caller(sts, params["allow_root"], params["allow_federated_user"]).guard
        if present:
            result = ensure_present(
                client,
                params["name"],
                config=params["config"],
                content=params["content"],
                restore_version=params["restore_version"],
                tier=params["tier"],
                description=params["description"],
                tags=params["tags"],
                purge_tags=params["purge_tags"],
                on_conflict=params["on_conflict"],
                check_mode=module.check_mode,
                diff=module._diff,
                guard=guard,
            )
        else:
            result = ensure_absent(client, params["name"], check_mode=module.check_mode, diff=module._diff, guard=guard)
    except AgentConfigInputError as e:
        module.fail_json(msg=e.message, **e.details)
    except AnsibleSSMConflictError as e:
        module.fail_json(msg=e.message, parameter=e.parameter)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
