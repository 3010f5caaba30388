#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agent_configure
short_description: Decide on the controller what the agent role changes on a host, and apply only that
version_added: 0.1.0
description:
  - The steps of the role P(observability.cloudwatch.agent#role), as an action plugin that runs on the controller; use the
    role rather than this plugin.
  - V(check) reads the host in one call of M(observability.cloudwatch.agent_facts) (with the digest the credentials
    file should have, so that only whether it matches comes back), resolves the agent's mode and refuses settings
    that cannot work there, naming them, before anything changes. Configuration documents known on the
    controller that ask for what the inventory does not allow (the role's C(cloudwatch_agent_allowed_*) variables)
    are refused there too, naming the document, the key, the value and the variable.
  - V(apply) assembles the wanted credentials file, C(common-config.toml), drop-in and configuration documents,
    compares them with what the check read (read again after an installation, and the installed version checked),
    and calls M(observability.cloudwatch.agent_apply) on the host only when something differs.
  - V(rollback) puts back the configuration kept before this run's change.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  step:
    description: Which step to run.
    type: str
    choices: [check, apply, rollback]
    required: true
  settings:
    description: The role's settings, as the role's C(__cloudwatch_agent_settings) gathers them.
    type: dict
    required: true
  paths:
    description: The role's paths on the host, as the role's C(__cloudwatch_agent_paths) gathers them.
    type: dict
    default: {}
  keys:
    description: The key pairs the P(observability.cloudwatch.agent_sources#lookup) lookup read, by store and region.
    type: dict
    default: {}
  credentials:
    description: A key pair given inline (C(access_key_id), C(secret_access_key)).
    type: dict
    default: {}
  checked:
    description: The result of the V(check) step, for V(apply) and V(rollback).
    type: dict
    default: {}
  latest:
    description: The latest agent version, when the settings ask for V(latest).
    type: str
    default: ""
  ssm_values:
    description: The parameter values read on the controller, by name.
    type: dict
    default: {}
  log_reader_groups:
    description: Groups that give read access to log files.
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs on the controller; it reaches the host through the modules it calls.
  check_mode:
    support: full
    description: Reports what would change.
  diff_mode:
    support: full
    description: Shows the delivered documents and the files that are not secret.
"""

EXAMPLES = r"""
# The role's own steps (roles/agent/tasks/present.yml).
- name: Read the agent's state on the host and check the settings
  observability.cloudwatch.agent_configure:
    step: check
    settings: "{{ __cloudwatch_agent_settings }}"
    paths: "{{ __cloudwatch_agent_paths }}"
  register: checked
"""

RETURN = r"""
mode:
  description: The agent's mode on this host.
  returned: step=check
  type: str
  sample: onPremise
wanted_version:
  description: The agent version the settings ask for.
  returned: step=check
  type: str
installed_version:
  description: The installed agent version, empty when there is none.
  returned: step=check
  type: str
applied:
  description: Whether the agent's configuration was changed.
  returned: step=apply
  type: bool
"""
