# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts, per host, the task results that ran something on the host itself (not skipped, not delegated,
not an action the controller answers alone such as set_fact or assert, not an agent_configure apply step that
decided on the controller that nothing differs), and prints them at the end as ``HOST_TASKS {"host": n, ...}``.
The fleet benchmark reads that line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: host_tasks
type: aggregate
short_description: Count the tasks that reached each host
description:
  - Prints C(HOST_TASKS) and a JSON object of host names and counts at the end of the run.
requirements:
  - enabled in configuration (ANSIBLE_CALLBACKS_ENABLED)
"""

# Actions that run on the controller only, whatever the host.
CONTROLLER_ONLY = {
    "add_host", "assert", "debug", "fail", "group_by", "include_role", "include_tasks", "import_role", "import_tasks",
    "include_vars", "meta", "set_fact", "set_stats", "validate_argument_spec",
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "host_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.counts = {}

    def _count(self, result):
        task = result._task
        action = task.action.rsplit(".", 1)[-1]
        if action in CONTROLLER_ONLY or task.delegate_to or self._decided_on_controller(action, task, result._result):
            return
        host = result._host.get_name()
        self.counts[host] = self.counts.get(host, 0) + 1

    @staticmethod
    def _decided_on_controller(action, task, outcome):
        # agent_configure's apply step calls the host only to apply a difference (a change) or, after an
        # installation, to read the host again (it then returns the facts it read).
        return (action == "agent_configure" and task.args.get("step") == "apply"
                and not outcome.get("changed") and "ansible_facts" not in outcome)

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._display.display("HOST_TASKS " + json.dumps(self.counts, sort_keys=True))
