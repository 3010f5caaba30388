# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_status_wants
short_description: What the status report reads from AWS for a fleet, each thing once
version_added: 0.1.0
description:
  - From what M(observability.cloudwatch.agent_facts) returned on each host (registered as
    C(__cloudwatch_status_facts) by the playbook C(observability.cloudwatch.status)), the SHA-256 digests of the
    parameter values the hosts run, by the region they read them in (their C(cloudwatch_agent_region), or V("") for
    the default region) and parameter name, and the access key ids of their credentials files, each once.
  - The input of M(observability.cloudwatch.status_sources).
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input, hosts
options:
  _input:
    description: C(hostvars), where each host of O(hosts) registered C(__cloudwatch_status_facts).
    type: dict
    required: true
  hosts:
    description: The hosts of the report.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Decide what to read from AWS
  ansible.builtin.set_fact:
    wants: "{{ hostvars | observability.cloudwatch.cloudwatch_status_wants(groups['cloudwatch_onprem']) }}"
"""

RETURN = r"""
_value:
  description: C(regions) (by region, by parameter name, the digests) and C(access_key_ids).
  type: dict
  sample: {"regions": {"us-east-1": {"AmazonCloudWatch-linux": ["9f86d0..."]}}, "access_key_ids": ["AKIAIOSFODNN7EXAMPLE"]}
"""

from ansible_collections.observability.cloudwatch.plugins.plugin_utils.status_report import wants


def cloudwatch_status_wants(hostvars, hosts):
    return wants(hostvars, list(hosts))


class FilterModule:
    def filters(self):
        return {"cloudwatch_status_wants": cloudwatch_status_wants}
