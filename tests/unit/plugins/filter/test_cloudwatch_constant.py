# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter observability.cloudwatch.cloudwatch_constant hands the modules' own values to roles and playbooks."""

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.observability.cloudwatch.plugins.filter import cloudwatch_constant as plugin
from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX

ROOT = Path(__file__).resolve().parents[4]


def test_prefix_is_the_modules_prefix():
    assert plugin.cloudwatch_constant("config_name_prefix") == CONFIG_NAME_PREFIX == "AmazonCloudWatch-"


def test_retention_days_are_the_modules_values_as_a_list():
    days = plugin.cloudwatch_constant("log_retention_days")
    assert days == list(LOG_RETENTION_DAYS)
    assert days[0] == 1 and days[-1] == 3653 and days == sorted(days)
    # A caller's change never reaches the modules' values.
    days.append(0)
    assert 0 not in plugin.cloudwatch_constant("log_retention_days")


def test_unknown_name_fails_naming_the_known_ones():
    with pytest.raises(AnsibleFilterError, match="unknown name 'prefix'.*config_name_prefix, log_retention_days"):
        plugin.cloudwatch_constant("prefix")


def test_documented_choices_are_the_names():
    options = yaml.safe_load(plugin.DOCUMENTATION)["options"]
    assert options["_input"]["choices"] == sorted(plugin.CONSTANTS)
    assert plugin.FilterModule().filters() == {"cloudwatch_constant": plugin.cloudwatch_constant}


def test_roles_and_playbooks_hold_no_copy_of_the_prefix():
    """Only prose (task names, descriptions, comments) may spell the prefix out."""
    copies = []
    for path in [*(ROOT / "roles").rglob("*.yml"), *(ROOT / "playbooks").rglob("*.yml")]:
        if path.parent.name == "meta":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if CONFIG_NAME_PREFIX in code and "- name:" not in code:
                copies.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not copies, "\n".join(copies)
