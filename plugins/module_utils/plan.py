# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan/apply core the collection's reconcile helpers share.

A helper reads the current state once, records the changes it would make in a :class:`Plan` (the
``before``/``after`` views are the ``--diff`` and the check-mode prediction), and applies the plan
unless in check mode. :func:`wait_until` polls, with a bound, until AWS reads back what was created.
"""

import copy
import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


class Plan:
    """The changes computed from one read of the current state, applied in order.

    ``before`` is the state read, ``after`` the state predicted once the steps have run: together
    they are the ``--diff``, and ``after`` is what check mode returns. ``changes`` lists a one-line
    summary per step (never a secret). ``apply()`` runs the steps and returns the results of those
    added with a ``key``.
    """

    def __init__(self, before):
        self.before = before
        self.after = copy.deepcopy(before)
        self.warnings = []
        self._steps = []

    def add(self, summary, call, key=None):
        self._steps.append((summary, call, key))
        return True

    @property
    def changed(self):
        return bool(self._steps)

    @property
    def changes(self):
        return [summary for summary, _call, _key in self._steps]

    def apply(self):
        results = {}
        for _summary, call, key in self._steps:
            result = call()
            if key:
                results[key] = result
        return results

    def result(self, **extra):
        result = dict(changed=self.changed, changes=self.changes, diff=dict(before=self.before, after=self.after))
        result.update(self.after)
        result.update(extra)
        return result


def merge_results(plans, result=None, warnings=()):
    """One module result from plans applied in order (``result``: a result already made by another helper)."""
    merged = result or dict(changed=False, changes=[], diff=dict(before={}, after={}), warnings=[])
    for plan in plans:
        merged["changed"] = merged["changed"] or plan.changed
        merged["changes"] = merged["changes"] + plan.changes
        merged["diff"]["before"].update(plan.before)
        merged["diff"]["after"].update(plan.after)
        merged.update(plan.after)
        merged["warnings"] = list(merged.get("warnings") or []) + plan.warnings
    merged["warnings"] = list(merged.get("warnings") or []) + list(warnings)
    return merged


def wait_until(check, timeout, what, delay=1.0, max_delay=5.0, error=AnsibleAWSError):
    """Call ``check()`` until it returns a true value, at most ``timeout`` seconds (polling backs off
    from ``delay`` to ``max_delay`` seconds); return that value or raise ``error``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() + delay > deadline:
            raise error(message=f"Timed out after {timeout} seconds waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)
