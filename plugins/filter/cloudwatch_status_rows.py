# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_status_rows
short_description: One row of the status report per host, from what the host and AWS said
version_added: 0.1.0
description:
  - For each host, from what M(observability.cloudwatch.agent_facts) returned there (C(__cloudwatch_status_facts)),
    its C(cloudwatch_agent_version) and C(cloudwatch_agent_region), and what
    M(observability.cloudwatch.status_sources) read, the agent's state and version, the version wanted, the parameters
    it runs with the version each has in the parameter's history, its access key with its age from IAM (on-premises
    hosts), and the AWS errors its agent logged lately.
  - Facts only; P(observability.cloudwatch.cloudwatch_status_report#filter) judges them.
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input, hosts, ec2_hosts, aws
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of the report, in its order.
    type: list
    elements: str
    required: true
  ec2_hosts:
    description: Which of them are EC2 instances (the others are on premises).
    type: list
    elements: str
    required: true
  aws:
    description:
      - What AWS said, C(parameters) (by region as in P(observability.cloudwatch.cloudwatch_status_wants#filter), the
        RV(observability.cloudwatch.status_sources#module:parameters) read there) and C(access_keys)
        (RV(observability.cloudwatch.status_sources#module:access_keys)).
      - Without it, versions and key ages show as not read.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Build the rows of every host, the EC2 instances' first
  ansible.builtin.set_fact:
    rows: "{{ hostvars | observability.cloudwatch.cloudwatch_status_rows(ec2 + onprem, ec2, aws) }}"
  vars:
    ec2: "{{ groups['cloudwatch_ec2'] }}"
    onprem: "{{ groups['cloudwatch_onprem'] }}"
"""

RETURN = r"""
_value:
  description: One dictionary per host.
  type: list
  elements: dict
"""

from ansible_collections.observability.cloudwatch.plugins.plugin_utils.status_report import rows


def cloudwatch_status_rows(hostvars, hosts, ec2_hosts, aws=None):
    return rows(hostvars, list(hosts), set(ec2_hosts), aws or {})


class FilterModule:
    def filters(self):
        return {"cloudwatch_status_rows": cloudwatch_status_rows}
