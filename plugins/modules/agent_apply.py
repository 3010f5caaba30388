#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: agent_apply
short_description: Apply the agent role's plan on a host as root, in one call
version_added: 0.1.0
description:
  - The host side of the role P(observability.cloudwatch.agent#role). Its action plugin C(agent_configure) decides on the
    controller what differs from what M(observability.cloudwatch.agent_facts) read, and calls this module only then,
    with the plan as its arguments. Use the role rather than this module.
  - Writes the agent's shared-credentials file, C(common-config.toml) and the service's drop-in, each compared on
    the host and written only when it differs; removes the files the mode no longer needs.
  - With the documents to be read by the agent's own downloader, runs it as the user that owns the agent's C(etc/),
    in a fresh directory of that user's, and reads back what it wrote without following a link.
  - Refuses documents that ask for what O(allowed) does not allow (checked again after the downloader read them).
  - Adds the agent's user to the log-reading groups it lacks and creates collectd's C(types.db) where none exists.
  - Gives the agent's user read access (a POSIX ACL entry) to the collected log files under the allowed globs that
    it cannot read otherwise, and installs the systemd path unit C(amazon-cloudwatch-agent-log-access.path) that
    gives it again when a rotation recreates one (see the role's documentation).
  - Keeps the delivered documents (what C(--diff) shows), the record of what was applied and the configuration
    snapshots in a root-only directory outside the agent's tree; what earlier versions of the role kept inside the
    tree is moved there (the configuration taken over) or removed.
  - When the agent's configuration must change, checks the documents with the installed agent's translator, keeps
    the current configuration for rollback (and, the first time, the one the host had before the role), and applies
    them with the agent's C(fetch-config) and C(append-config), as the owner of C(etc/).
  - With O(step=rollback), puts back the configuration kept before the last change.
  - With O(step=remove_log_access), takes back the read access it gave the agent's user to log files and removes
    the units that kept it (the role's removal).
  - Every path is walked without following a symbolic link; files are written with their final owner and mode from
    the first byte. This module needs nothing but Python's standard library on the target.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  step:
    description:
      - V(apply) the plan, V(rollback) to the configuration kept before the last change, or V(remove_log_access).
    type: str
    choices: [apply, rollback, remove_log_access]
    default: apply
  paths:
    description:
      - The role's paths, C(prefix), C(state_dir), C(state_file), C(delivered_dir), C(credentials_file), C(common_config)
        and C(dropin).
    type: dict
    required: true
  mode:
    description: The agent's mode.
    type: str
    choices: [ec2, onPremise]
  files:
    description: The files to write, each compared on the host and written only when it differs.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The absolute path.
        type: path
        required: true
      content:
        description: What the file holds.
        type: str
        required: true
      owner:
        description: The owner, a user name, or V(agent) for the user the agent runs as.
        type: str
        required: true
      group:
        description: The group, a group name, or V(agent) for the primary group of the user the agent runs as.
        type: str
        required: true
      mode:
        description: The mode, octal, such as V(0640).
        type: str
        required: true
      secret:
        description: Whether the content is secret, never shown in a diff.
        type: bool
        default: true
  absent:
    description: Files to remove (a link is removed itself, never its target).
    type: list
    elements: path
    default: []
  documents:
    description:
      - The wanted configuration documents as the action plugin assembled them; none when O(download) names the
        parameters the agent's downloader reads on the host.
    type: list
    elements: dict
  download:
    description: Parameter Store names the agent's downloader reads on the host.
    type: list
    elements: str
  held:
    description: What M(observability.cloudwatch.agent_facts) read on the host before this run's changes.
    type: dict
    default: {}
  allowed:
    description:
      - What the inventory allows a configuration to ask for, C(run_as_users), C(endpoints) and C(log_paths) (the
        role's C(cloudwatch_agent_allowed_*) variables). Documents that ask for more are refused before anything
        is written for them, also those the agent's downloader reads on the host.
    type: dict
  reader_groups:
    description: Groups that give read access to log files, for an agent that collects them.
    type: list
    elements: str
    default: []
  log_access_program:
    description: The program of the unit that keeps collected log files readable, installed as it is.
    type: str
    default: ""
  record:
    description: The settings recorded with what was applied, C(config_source) and C(ssm_fetch).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Reports what would change; only the translator's check runs, in a scratch directory.
  diff_mode:
    support: full
    description: Shows the delivered documents and the files that are not secret.
"""

EXAMPLES = r"""
# Called by the role's action plugin; see the role observability.cloudwatch.agent.
- name: Put back the configuration kept before this run's change
  observability.cloudwatch.agent_apply:
    step: rollback
    paths:
      prefix: /opt/aws/amazon-cloudwatch-agent
      state_dir: /var/lib/observability.cloudwatch
"""

RETURN = r"""
applied:
  description: Whether the agent's configuration was changed with C(fetch-config).
  type: bool
  returned: step=apply
run_as_user:
  description: The user the configuration makes the agent run as.
  type: str
  returned: step=apply
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_apply import AgentApplyError, Applier
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import AgentPlanError
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError
from ansible_collections.observability.cloudwatch.plugins.module_utils.log_access import LogAccessError

FILE = dict(path=dict(type="path", required=True), content=dict(type="str", required=True, no_log=True),
            owner=dict(type="str", required=True), group=dict(type="str", required=True),
            mode=dict(type="str", required=True), secret=dict(type="bool", default=True))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", choices=["apply", "rollback", "remove_log_access"], default="apply"),
            paths=dict(type="dict", required=True),
            mode=dict(type="str", choices=["ec2", "onPremise"]),
            files=dict(type="list", elements="dict", options=FILE, default=[]),
            absent=dict(type="list", elements="path", default=[]),
            documents=dict(type="list", elements="dict"),
            download=dict(type="list", elements="str"),
            held=dict(type="dict", default={}),
            allowed=dict(type="dict"),
            reader_groups=dict(type="list", elements="str", default=[]),
            log_access_program=dict(type="str", default=""),
            record=dict(type="dict", default={}),
        ),
        required_if=[("step", "apply", ["mode", "allowed"])],
        supports_check_mode=True,
    )
    applier = Applier(module.params, module.check_mode, module._diff)
    try:
        result = {"apply": applier.apply, "rollback": applier.rollback, "remove_log_access": applier.remove_log_access}[module.params["step"]]()
    except (AgentApplyError, AgentPlanError, AnsibleHostFileError, LogAccessError) as e:
        module.fail_json(msg=str(e), changed=applier.changed)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
