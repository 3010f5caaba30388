# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: agent_sources
short_description: Read the key pairs and parameters the agent role's hosts need, each once
version_added: 0.1.0
description:
  - Used by the role P(observability.cloudwatch.agent#role), in a C(set_fact) run once per batch and delegated to
    C(localhost), whose result the role keeps there, hidden, for the play's other batches.
  - With O(needs=true), reads nothing and returns what this host needs read, from its O(settings); the role keeps it
    as the host's C(__cloudwatch_agent_needs), so that role and include variables count as they do for the host.
  - Otherwise, for the hosts of the batch (C(ansible_play_batch)), reads what their C(__cloudwatch_agent_needs) name
    (for a host without it, what O(settings) needs), each on-premises key store with the
    P(observability.cloudwatch.access_key#lookup) lookup and each parameter read on the controller with
    P(amazon.aws.ssm_parameter#lookup), in each region once, skipping what O(known) already holds.
  - Returns O(known) with what was read added and the batch's hosts added to C(seen).
  - The result holds secrets. Use it in tasks with C(no_log) set to C(true), and keep it out of fact caches (a
    C(set_fact) without C(cacheable) is).
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  settings:
    description: The role's settings (C(__cloudwatch_agent_settings)), for what the hosts' inventory does not set.
    type: dict
    required: true
  known:
    description: What an earlier batch read, C(key_pairs), C(parameters) and C(seen).
    type: dict
    default: {}
  key_pairs:
    description: Whether to read the key stores; V(false) reads parameters only, and the result holds no secret.
    type: bool
    default: true
  needs:
    description: Return what this host needs read (C(keys) by store and region, C(parameters) by region), reading nothing.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the key pairs and configuration parameters of this batch on the controller (none read before)
  ansible.builtin.set_fact:
    __cloudwatch_agent_read: >-
      {{ lookup('observability.cloudwatch.agent_sources', settings=__cloudwatch_agent_settings,
                known=hostvars['localhost']['__cloudwatch_agent_read'] | default({}, true)) }}
  run_once: true
  delegate_to: localhost
  delegate_facts: true
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary, with C(key_pairs) (by store and region), C(parameters) (by name) and C(seen).
    - With O(needs=true), one dictionary with C(keys) and C(parameters), what this host needs read.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.loader import lookup_loader  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import AgentPlanError  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import agent_host  # noqa: E402


class LookupModule(LookupBase):
    def read(self, name, terms, variables, region):
        plugin = lookup_loader.get(name, loader=self._loader, templar=self._templar)
        return plugin.run(terms, variables=variables, **({"region": region} if region else {}))

    def run(self, terms, variables=None, settings=None, known=None, key_pairs=True, needs=False, **kwargs):
        if not isinstance(settings, dict):
            raise AnsibleLookupError("agent_sources needs settings, a dict of the agent role's settings")
        try:
            own = agent_host.needs_read(agent_host.settings(settings))
        except AgentPlanError as e:
            raise AnsibleLookupError(str(e)) from None
        if needs:
            return [own]
        known = known or {}
        batch = list(variables.get("ansible_play_batch", []))
        wanted = agent_host.batch_needs(variables["hostvars"][name].get("__cloudwatch_agent_needs") or own for name in batch)
        pairs = dict(known.get("key_pairs") or {})
        for store_id, (store, region) in wanted["keys"].items() if key_pairs else ():
            if store_id not in pairs:
                pairs[store_id] = self.read("observability.cloudwatch.access_key", [store], variables, region)[0]
        values = dict(known.get("parameters") or {})
        for region, names in wanted["parameters"].items():
            missing = [name for name in names if name not in values]
            if missing:
                values.update(zip(missing, self.read("amazon.aws.ssm_parameter", missing, variables, region)))
        return [{"key_pairs": pairs, "parameters": values, "seen": sorted(set(known.get("seen") or []) | set(batch))}]
