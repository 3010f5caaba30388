# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan/apply core (module_utils/plan.py)."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import plan as plan_core


def test_plan_apply_runs_steps_in_order_and_keeps_keyed_results():
    ran = []
    plan = plan_core.Plan({"thing": None})
    assert plan.changed is False
    assert plan.add("first", lambda: ran.append(1) or "one", key="first") is True
    plan.add("second", lambda: ran.append(2))
    assert plan.changes == ["first", "second"]
    assert plan.apply() == {"first": "one"}
    assert ran == [1, 2]


def test_wait_until_times_out(monkeypatch):
    monkeypatch.setattr(plan_core.time, "sleep", lambda seconds: None)
    assert plan_core.wait_until(lambda: "ready", 1, "x") == "ready"
    with pytest.raises(AnsibleIAMError, match="Timed out after 0 seconds waiting for the thing"):
        plan_core.wait_until(lambda: None, 0, "the thing", error=AnsibleIAMError)
    with pytest.raises(AnsibleAWSError, match="Timed out after 0 seconds waiting for the thing") as error:
        plan_core.wait_until(lambda: None, 0, "the thing")
    assert not isinstance(error.value, AnsibleIAMError), "without an error type, a neutral one"
