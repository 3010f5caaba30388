# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role config's defaults/main.yml and meta/argument_specs.yml describe the same variables, alike; its AWS
tasks, and the iam role's, take their connection from module_defaults on the action groups."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "config"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
OPTIONS = {(entry, name): option for entry, spec in SPECS.items() for name, option in spec["options"].items()}
PREFIXES = {"main": "cloudwatch_publish_", "admin_session": "cloudwatch_admin_session_"}
PYTHON_TYPES = {"str": str, "path": str, "bool": bool, "int": int, "float": (int, float), "list": list, "dict": dict}

# Names users already set in their variable files (the playbooks' variables before the role).
INTERFACE = {
    "main": [
        "cloudwatch_publish_configs", "cloudwatch_publish_regions", "cloudwatch_publish_credentials",
        "cloudwatch_publish_admin_user", "cloudwatch_publish_grant_minutes", "cloudwatch_publish_grant_wait_seconds",
        "cloudwatch_publish_validate", "cloudwatch_publish_schema", "cloudwatch_publish_on_conflict",
        "cloudwatch_publish_allow_root", "cloudwatch_publish_allow_federated_user",
    ],
    "admin_session": [
        "cloudwatch_admin_session_instance", "cloudwatch_admin_session_admin_profile", "cloudwatch_admin_session_region",
        "cloudwatch_admin_session_mode", "cloudwatch_admin_session_publish_host", "cloudwatch_admin_session_configs",
        "cloudwatch_admin_session_regions", "cloudwatch_admin_session_validate", "cloudwatch_admin_session_schema",
        "cloudwatch_admin_session_pause_minutes", "cloudwatch_admin_session_verify_on_instance",
        "cloudwatch_admin_session_imds_url", "cloudwatch_admin_session_wait_timeout",
        "cloudwatch_admin_session_on_conflict", "cloudwatch_admin_session_grant_minutes",
        "cloudwatch_admin_session_allow_root", "cloudwatch_admin_session_allow_federated_user",
        "cloudwatch_admin_session_grant_wait_seconds",
    ],
}


def test_entry_points_are_the_interface_and_have_task_files():
    assert {entry: sorted(spec["options"]) for entry, spec in SPECS.items()} == {e: sorted(n) for e, n in INTERFACE.items()}
    for entry in SPECS:
        assert (ROLE / "tasks" / f"{entry}.yml").is_file(), entry


def test_every_default_is_an_option_default():
    defaults = {name: option["default"] for (_entry, name), option in OPTIONS.items() if "default" in option}
    assert DEFAULTS == defaults


@pytest.mark.parametrize("entry, name", sorted(OPTIONS))
def test_option_is_prefixed_described_and_typed(entry, name):
    option = OPTIONS[(entry, name)]
    assert name.startswith(PREFIXES[entry])
    assert option.get("description")
    assert not (option.get("required") and "default" in option)
    if "default" in option:
        assert isinstance(option["default"], PYTHON_TYPES[option["type"]])
        assert option["default"] in option.get("choices", [option["default"]])


def test_defaults_and_specs_hold_no_environment_lookup():
    for path in (ROLE / "defaults" / "main.yml", ROLE / "meta" / "argument_specs.yml"):
        text = path.read_text()
        assert "lookup(" not in text and "ansible_" not in text, path


def test_internal_variables_are_prefixed():
    internal = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert all(name.startswith(("__cloudwatch_publish_", "__cloudwatch_admin_session_", "__cloudwatch_config_")) for name in internal)


def _tasks(items):
    for task in items or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def test_one_task_file_calls_agent_config():
    callers = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            if "observability.cloudwatch.agent_config" in task:
                callers.append(path.name)
    # agent_config.yml is the one loop that validates and publishes.
    assert callers == ["agent_config.yml"]


AWS_GROUP = set(yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["aws"])
CONNECTION = re.compile(r"^\s+(region|profile|endpoint_url):", re.MULTILINE)


@pytest.mark.parametrize("role", ["iam", "config"])
def test_every_aws_module_of_the_collection_in_the_role_is_in_the_action_group(role):
    used = set()
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        used |= set(re.findall(r"(?<![/\w])observability\.cloudwatch\.(\w+):", path.read_text()))
    assert used - {"agent_facts", "cloudwatch_constant"} <= AWS_GROUP


def test_iam_role_tasks_leave_the_connection_to_module_defaults():
    for path in (ROOT / "roles" / "iam" / "tasks").glob("*.yml"):
        assert not CONNECTION.search(path.read_text()), path
    connection = yaml.safe_load((ROOT / "roles" / "iam" / "vars" / "main.yml").read_text())["__cloudwatch_iam_aws_connection"]
    assert sorted(connection) == ["endpoint_url", "profile", "region"]
    for entry in ("main", "rotate", "retire"):
        [block] = yaml.safe_load((ROOT / "roles" / "iam" / "tasks" / f"{entry}.yml").read_text())
        assert block["module_defaults"] == {
            "group/observability.cloudwatch.aws": "{{ __cloudwatch_iam_aws_connection }}",
            "group/amazon.aws.aws": "{{ __cloudwatch_iam_aws_connection }}",
        }, entry
