# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's roles used from a playbook outside the collection, by FQCN, with include_role and
import_role, variables on the include only, and the agent role's ``tasks_from: uninstall``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(__file__).parent / "playbooks" / "site_include_role.yml"
IMAGE = "localhost/cloudwatch-test-debian:bookworm"


@pytest.fixture
def container():
    """A fresh systemd container of the test image (built by tests/tools/podman-setup.sh, cached)."""
    if os.geteuid() != 0:
        pytest.skip("the container tests run as root (podman)")
    subprocess.run([str(REPO / "tests" / "tools" / "podman-setup.sh")], check=True, capture_output=True)
    name = f"cw-include-role-{os.getpid()}"
    subprocess.run(["podman", "rm", "-f", name], capture_output=True, check=False)
    subprocess.run(
        ["podman", "run", "-d", "--name", name, "--systemd=always", "--network", "host", IMAGE, "/sbin/init"],
        check=True,
        capture_output=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "2", name], capture_output=True, check=False)


def test_roles_included_by_fqcn_from_another_playbook(aws, tmp_path, container, iam_snapshot):
    if not (REPO / "roles" / "agent" / "tasks" / "uninstall.yml").is_file():
        pytest.fail("the agent role has no uninstall entry point")
    inventory = tmp_path / "hosts.json"
    inventory.write_text(
        json.dumps(
            {
                "decommissioned": {"hosts": {container: {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}}},
                "all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}},
            }
        )
    )
    env = dict(os.environ, **aws.env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    completed = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", json.dumps({"my_key_store_dir": str(tmp_path)})],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr
    report = json.loads(completed.stdout[completed.stdout.index("{") :])
    stats = report["stats"]

    state = iam_snapshot()
    assert list(state["roles"]) == ["MyCloudWatchAgentRole"]
    assert state["instance_profiles"] == {"MyCloudWatchAgentRole": ["MyCloudWatchAgentRole"]}
    assert list(state["users"]) == ["my-onprem-agent"]
    assert json.loads((tmp_path / "my-onprem-agent.json").read_text())["access_key_id"] == state["users"]["my-onprem-agent"]["keys"][0][0]
    # Role and user created once by the include; the import found them in place.
    assert stats["localhost"]["changed"] == 2

    # The uninstall entry point ran on a host without the agent: it checked and changed nothing.
    assert stats[container]["failures"] == 0 and stats[container]["changed"] == 0
    ran = [t["task"]["name"] for p in report["plays"] for t in p["tasks"] if container in t["hosts"]]
    assert "observability.cloudwatch.agent : Remove the package (deb)" in ran, ran
