# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One playbook for many inputs that must be refused: one block per case, its failure rescued and shown,
so that a case that fails does not stop the others (tests/integration/test_bad_input.py, test_aws_limits.py).
The agent role's cases (``role:agent``) run in check mode."""

import json

AGENT = "role:agent"


def _fill(value, tmp):
    return json.loads(json.dumps(value).replace("{tmp}", str(tmp)))


def case_tasks(case, tmp):
    """The block of one case ``(id, module or role:NAME, arguments or variables, expect[, environment])``."""
    case_id, target, args, _expect = case[:4]
    environment = case[4] if len(case) > 4 else None
    args = _fill(args, tmp)
    if target.startswith("role:"):
        action = {
            "name": f"run {case_id}",
            "ansible.builtin.include_role": {"name": f"observability.cloudwatch.{target[5:]}"},
            "vars": args,
        }
        if target == AGENT:
            action["ansible.builtin.include_role"]["apply"] = {"check_mode": True}
    else:
        action = {"name": f"run {case_id}", f"observability.cloudwatch.{target}": args}
    if environment:
        action["environment"] = environment
    return {
        "name": f"case {case_id}",
        "block": [action, {"name": f"passed {case_id}", "ansible.builtin.debug": {"msg": "no failure"}}],
        "rescue": [
            {
                "name": f"failed {case_id}",
                "ansible.builtin.debug": {
                    "msg": {
                        "task": "{{ ansible_failed_task.name }}",
                        "msg": "{{ ansible_failed_result.msg | default('') }}",
                        "errors": "{{ ansible_failed_result.argument_errors | default([]) }}",
                        "items": "{{ ansible_failed_result.results | default([]) | map(attribute='msg', default='') | list }}",
                        "changed": "{{ ansible_failed_result.changed | default(false) }}",
                    }
                },
            }
        ],
    }


def matches(token, text):
    """Whether ``text`` holds ``token``, or one of its ``|``-separated alternatives."""
    return any(alternative.lower() in text for alternative in token.split("|"))
