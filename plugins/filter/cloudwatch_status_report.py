# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_status_report
short_description: The status report from its rows, each host judged healthy, warning or failing
version_added: 0.1.0
description:
  - Judges each row of P(observability.cloudwatch.cloudwatch_status_rows#filter) (or of a report's JSON written
    earlier). V(failing) when the agent does not run, when AWS refused any of its requests in the window its log was
    read for (credentials or permissions), or when its access key is unknown to IAM or inactive. V(warning) for AWS
    throttling, an agent version other than the one wanted, an access key at least O(key_max_age_days) old, a
    parameter value that is not the parameter's latest version (or not in its history at all), and a log that could
    not be read. Otherwise V(healthy).
  - Adds to each row C(health), C(notes) (why) and C(display) (the texts shown), and returns the counts and the
    terminal table's lines. Values are text; the page escapes them.
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input, generated, key_max_age_days
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
  generated:
    description: When the report was made, as shown.
    type: str
    required: true
  key_max_age_days:
    description: The access key age from which a host is a warning.
    type: int
    default: 90
"""

EXAMPLES = r"""
- name: Judge the rows
  ansible.builtin.set_fact:
    report: "{{ rows | observability.cloudwatch.cloudwatch_status_report('2024-01-01 00:00:00 UTC', 90) }}"
"""

RETURN = r"""
_value:
  description: C(summary) (counts by health and state, versions), C(hosts) (the rows) and C(table) (lines).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.observability.cloudwatch.plugins.plugin_utils.status_report import report


def cloudwatch_status_report(rows, generated, key_max_age_days=90):
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise AnsibleFilterError("cloudwatch_status_report needs a list of rows (dictionaries), as cloudwatch-status.json holds under hosts")
    return report(rows, str(generated), int(key_max_age_days))


class FilterModule:
    def filters(self):
        return {"cloudwatch_status_report": cloudwatch_status_report}
