# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_constant
short_description: A fixed value the collection's modules use, for roles and playbooks
version_added: 0.1.0
description:
  - Returns one of the values the collection's modules hold once, so that roles and playbooks use the same value
    instead of a copy.
  - V(config_name_prefix) - the prefix of the agent configuration parameters in SSM Parameter Store that the AWS
    managed policies grant (C(AmazonCloudWatch-)).
  - V(log_retention_days) - every log group retention CloudWatch Logs accepts, in days, in ascending order.
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input
options:
  _input:
    description: The name of the value.
    type: str
    choices: [config_name_prefix, log_retention_days]
    required: true
"""

EXAMPLES = r"""
- name: Refuse parameter names the agents could not read
  ansible.builtin.assert:
    that: my_parameters | reject('match', 'config_name_prefix' | observability.cloudwatch.cloudwatch_constant) | length == 0

- name: Refuse a retention CloudWatch Logs does not accept
  ansible.builtin.assert:
    that: my_retention in 'log_retention_days' | observability.cloudwatch.cloudwatch_constant
"""

RETURN = r"""
_value:
  description: A string for V(config_name_prefix), a list of integers for V(log_retention_days).
  type: raw
  sample: AmazonCloudWatch-
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX

CONSTANTS = {
    "config_name_prefix": CONFIG_NAME_PREFIX,
    "log_retention_days": LOG_RETENTION_DAYS,
}


def cloudwatch_constant(name):
    if name not in CONSTANTS:
        raise AnsibleFilterError(f"cloudwatch_constant: unknown name {name!r}; expected one of {', '.join(CONSTANTS)}")
    value = CONSTANTS[name]
    # A list, so a caller cannot change the module's tuple and templates see a plain sequence.
    return list(value) if isinstance(value, tuple) else value


class FilterModule:
    def filters(self):
        return {"cloudwatch_constant": cloudwatch_constant}
