# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role writes and removes the credentials file and common-config.toml only through agent_file (no link
followed, final owner and mode from the first byte), with the secret out of output and diffs."""

from pathlib import Path

import yaml

from tests.unit.roles.test_secret_facts import _tasks

REPO = Path(__file__).resolve().parents[3]
TASKS = list(_tasks(yaml.safe_load((REPO / "roles" / "agent" / "tasks" / "configure.yml").read_text())))
HOST_FILES = ("cloudwatch_agent_credentials_file", "__cloudwatch_agent_common_config", "__cloudwatch_agent_downloader_files", "credentials.j2",
              "common-config.toml.j2")


# Tasks that only name the files: the key pair's facts and check, the downloader and translator (--config).
READERS = {"ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.command"}


def _module(task):
    return next(key for key in task if key.startswith(("ansible.", "observability.")))


def test_every_task_that_writes_or_removes_them_is_agent_file():
    writers = {task["name"]: _module(task) for task in TASKS
               if any(name in yaml.safe_dump(task) for name in HOST_FILES) and _module(task) not in READERS}
    assert writers == dict.fromkeys(
        [
            "Remove the credentials file on EC2 (the instance profile provides credentials)",
            "Give the agent's downloader its credentials and common-config.toml",
            "Write the shared-credentials file for the agent's user alone",
            "Write common-config.toml",
        ],
        "observability.cloudwatch.agent_file",
    )


def test_the_credentials_are_written_once_for_the_agents_user_with_no_log_and_no_diff():
    by_name = {task["name"]: task for task in TASKS}
    task = by_name["Write the shared-credentials file for the agent's user alone"]
    args = task["observability.cloudwatch.agent_file"]
    assert (args["owner"], args["mode"]) == ("{{ __cloudwatch_agent_run_as_user }}", "0600")
    assert task["no_log"] is True and task["diff"] is False
    staged = by_name["Give the agent's downloader its credentials and common-config.toml"]
    assert staged["no_log"] is True and staged["diff"] is False
    assert "owner" not in staged["observability.cloudwatch.agent_file"]


def test_common_config_is_0640_for_the_agents_group_and_secret_when_it_names_credentials_or_a_proxy():
    args = {task["name"]: task for task in TASKS}["Write common-config.toml"]["observability.cloudwatch.agent_file"]
    assert (args["mode"], args["group_of"]) == ("0640", "{{ __cloudwatch_agent_run_as_user }}")
    assert args["secret"] == "{{ __cloudwatch_agent_mode == 'onPremise' or cloudwatch_agent_proxy | length > 0 }}"
