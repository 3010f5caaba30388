# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every write of the agent role on a host goes through the collection's own modules, which follow no link
(agent_apply, agent_file, package_stage) or through a package manager or systemd: no task of the role copies,
templates, chowns or runs a script as root on the host."""

from pathlib import Path

import yaml

from tests.unit.roles.test_secret_facts import _tasks

REPO = Path(__file__).resolve().parents[3]
TASK_FILES = sorted((REPO / "roles" / "agent" / "tasks").glob("*.yml"))
ALLOWED = {
    "observability.cloudwatch.agent_apply", "observability.cloudwatch.agent_configure", "observability.cloudwatch.agent_facts",
    "observability.cloudwatch.agent_file",
    "observability.cloudwatch.agent_package", "observability.cloudwatch.package_stage",
    "ansible.builtin.apt", "ansible.builtin.dnf", "community.general.zypper", "ansible.builtin.systemd_service",
    "ansible.builtin.setup", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.meta",
    "ansible.builtin.assert", "ansible.builtin.fail", "ansible.builtin.set_fact", "ansible.builtin.debug",
    "ansible.builtin.wait_for", "ansible.builtin.uri", "ansible.builtin.command", "ansible.builtin.copy",
}
# The two that could write: copy only puts the package into package_stage's fresh root-only directory, and
# command only reads (the agent's log and journal).
READ_ONLY_COMMANDS = {"tail", "journalctl"}


def _module(task):
    return next(key for key in task if key.startswith(("ansible.", "observability.", "community.")))


def role_tasks():
    for path in TASK_FILES:
        for task in _tasks(yaml.safe_load(path.read_text()) or []):
            yield path.name, task


def test_every_task_uses_a_module_that_follows_no_link_or_only_reads():
    used = {(name, _module(task)) for name, task in role_tasks()}
    assert {module for name, module in used} <= ALLOWED, sorted(used)


def test_commands_only_read_and_copy_only_stages_the_package():
    for task in (task for _file, task in role_tasks()):
        module = _module(task)
        if module == "ansible.builtin.command":
            assert task[module]["argv"][0] in READ_ONLY_COMMANDS, task["name"]
        if module == "ansible.builtin.copy":
            assert task[module]["dest"] == "{{ __cloudwatch_agent_staged }}", task["name"]


def test_the_role_keeps_no_template_or_script():
    assert not (REPO / "roles" / "agent" / "templates").exists()
    assert not (REPO / "roles" / "agent" / "files").exists()
