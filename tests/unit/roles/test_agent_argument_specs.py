# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role agent's defaults/main.yml and meta/argument_specs.yml describe the same variables, alike."""

from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "agent"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
MAIN = SPECS["main"]["options"]

# Names other playbooks and users depend on (issue: role interface).
INTERFACE = [
    "cloudwatch_agent_state",
    "cloudwatch_agent_version",
    "cloudwatch_agent_package_base_url",
    "cloudwatch_agent_package_file",
    "cloudwatch_agent_mode",
    "cloudwatch_agent_config_source",
    "cloudwatch_agent_ssm_parameters",
    "cloudwatch_agent_ssm_fetch",
    "cloudwatch_agent_config_file",
    "cloudwatch_agent_config",
    "cloudwatch_agent_region",
    "cloudwatch_agent_access_key_store",
    "cloudwatch_agent_credentials",
    "cloudwatch_agent_allow_any_parameter_name",
    "cloudwatch_agent_proxy",
    "cloudwatch_agent_ca_bundle",
]
PYTHON_TYPES = {"str": str, "path": str, "bool": bool, "int": int, "list": list, "dict": dict}


def test_every_default_is_described_and_every_option_has_a_default():
    assert sorted(DEFAULTS) == sorted(MAIN)


@pytest.mark.parametrize("name", sorted(MAIN))
def test_spec_default_equals_defaults_file(name):
    assert MAIN[name].get("default") == DEFAULTS[name]


@pytest.mark.parametrize("name", sorted(MAIN))
def test_default_has_the_declared_type(name):
    assert isinstance(DEFAULTS[name], PYTHON_TYPES[MAIN[name]["type"]])
    if "choices" in MAIN[name]:
        assert DEFAULTS[name] in MAIN[name]["choices"]


@pytest.mark.parametrize("name", sorted(MAIN))
def test_option_is_prefixed_and_described(name):
    assert name.startswith("cloudwatch_agent_")
    assert MAIN[name].get("description")


def test_interface_names_exist():
    assert set(INTERFACE) <= set(MAIN)


def test_entry_points_match_task_files():
    for entry_point in SPECS:
        assert (ROLE / "tasks" / f"{entry_point}.yml").is_file(), entry_point
        for name, option in SPECS[entry_point]["options"].items():
            assert option.get("default") == DEFAULTS[name], (entry_point, name)


def test_defaults_are_literals_not_facts():
    text = (ROLE / "defaults" / "main.yml").read_text()
    assert "ansible_facts" not in text and "ansible_" not in text.replace("ansible_managed", "")


def test_internal_variables_are_prefixed():
    internal = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert all(name.startswith("__cloudwatch_agent_") for name in internal)
