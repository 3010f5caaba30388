# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fact that holds a secret during a play is set with no_log, and cleared (set to null, with no_log) later in
the same task file, so that it does not stay in hostvars for the rest of the play."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
TASK_FILES = sorted((REPO / "roles").glob("*/tasks/*.yml")) + sorted((REPO / "playbooks").glob("*.yml"))
# What puts a secret into a value: the key store lookup, or the agent role's explicit key pair. The agent role's
# sources without key pairs, or only noting what a host needs read, hold none.
SECRET_SOURCES = re.compile(r"lookup\(\s*'observability\.cloudwatch\.(access_key'|agent_sources'(?![^)]*(key_pairs=false|needs=true)))"
                            r"|\bcloudwatch_agent_credentials\b")
# Setting a fact to null clears it; the agent role's sources keep their parameters and drop the key pairs.
CLEARED = re.compile(r"^None$|'key_pairs': \{\}")
SET_FACT = ("ansible.builtin.set_fact", "set_fact")


def _tasks(node):
    """Every task of a task file or playbook, in order, blocks and plays flattened."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if any(key in node for key in ("block", "tasks", "pre_tasks", "post_tasks", "handlers")):
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers", "block", "rescue", "always"):
                yield from _tasks(node.get(key, []))
        else:
            yield node


def _set_facts(path):
    for task in _tasks(yaml.safe_load(path.read_text()) or []):
        facts = next((task[key] for key in SET_FACT if key in task), None)
        if isinstance(facts, dict):
            yield task, facts


def secret_facts(path):
    """{fact: (set with no_log, cleared later with no_log)} for each fact whose value reads a secret."""
    found = {}
    for task, facts in _set_facts(path):
        for name, value in facts.items():
            if name in found and CLEARED.search(str(value)):
                found[name] = (found[name][0], task.get("no_log") is True)
            elif isinstance(value, str) and SECRET_SOURCES.search(value):
                found[name] = (task.get("no_log") is True, False)
    return found


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_a_fact_holding_a_secret_is_hidden_and_cleared(path):
    for name, (hidden, cleared) in secret_facts(path).items():
        assert hidden, f"{name} holds a secret but the task that sets it has no no_log: true"
        assert cleared, f"{name} holds a secret and is never cleared (set_fact {name}: null, no_log: true) in {path.name}"


def test_the_agent_role_forgets_the_key_pairs_it_read_when_its_play_ends():
    """The check above finds the role's one such fact (so it is not vacuous): read hidden, forgotten in an always
    section, so also when hosts failed."""
    present = yaml.safe_load((REPO / "roles" / "agent" / "tasks" / "present.yml").read_text())
    assert secret_facts(REPO / "roles" / "agent" / "tasks" / "present.yml") == {"__cloudwatch_agent_read": (True, True)}
    block = next(node for node in present if "block" in node)
    assert any("__cloudwatch_agent_read" in (task.get("ansible.builtin.set_fact") or {}) for task in block["always"])


def test_a_fact_never_cleared_is_found(tmp_path):
    tasks = tmp_path / "tasks.yml"
    tasks.write_text(
        "- name: Read\n  ansible.builtin.set_fact:\n    key: \"{{ lookup('observability.cloudwatch.access_key', 'file:/k') }}\"\n"
        "  no_log: true\n- name: Use\n  ansible.builtin.debug:\n    msg: hi\n"
    )
    assert secret_facts(tasks) == {"key": (True, False)}
