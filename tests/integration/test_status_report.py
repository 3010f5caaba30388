# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status report: a terminal table and one HTML page, checked as headless Chromium renders it.

One test asks real hosts (the controller itself, without the agent, and a host that cannot be reached);
the other renders a fleet that would be hard to stage (an old key, an agent AWS refuses, a stopped agent with
hostile values) from a saved report's JSON, as ``cloudwatch_status_input`` allows. The site Molecule scenario
checks the page of running agents (extensions/molecule/site/verify.yml).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

import status_page  # from tests/tools (pytest.ini pythonpath)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium; installed with apt-get when missing (the tests run as root)."""
    if not shutil.which("chromium"):
        if os.geteuid() != 0:
            pytest.skip("chromium is not installed and only root can install it (apt-get install chromium chromium-driver)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"], check=True, env=env, capture_output=True)
    return shutil.which("chromium")


def read_report(chromium, html, tmp_path):
    return status_page.read_report(chromium, html, tmp_path / "chromium-profile")


def run_status(tmp_path, inventory, extra_vars):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCALHOST_WARNING="false")
    completed = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "observability.cloudwatch.status", "-e", json.dumps(extra_vars)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_report_of_real_hosts_shows_missing_agent_and_unreachable_host(chromium, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "cloudwatch_onprem": {
                    "hosts": {
                        "controller-box": {"ansible_connection": "local", "ansible_become": False},
                        "gone-host": {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh"},
                    }
                },
                "cloudwatch_ec2": {"hosts": {}},
                "all": {"vars": {"ansible_python_interpreter": sys.executable}},
            }
        )
    )
    output = run_status(tmp_path, inventory, {"cloudwatch_status_dir": str(tmp_path)})

    # The terminal table: a header and one line per host.
    assert "2 hosts: 0 healthy, 0 warning, 2 failing" in output
    table = [line for line in output.splitlines() if "controller-box" in line and "not installed" in line]
    assert table, output

    data = json.loads((tmp_path / "cloudwatch-status.json").read_text())
    assert {h["host"]: h["state"] for h in data["hosts"]} == {"controller-box": "not installed", "gone-host": "unreachable"}

    report = read_report(chromium, tmp_path / "cloudwatch-status.html", tmp_path)
    assert report.counts["total"] == 2
    assert report.counts["failing"] == 2
    assert report.counts["unreachable"] == 1
    assert report.counts["not-installed"] == 1
    assert report.host("gone-host")["attrs"]["data-state"] == "unreachable"
    assert "Connection refused" in report.host("gone-host")["cells"][-1]
    assert report.host("controller-box")["cells"][3] == "not installed"


def row(host, location, state="running", version="1.300069.0b1529", **kwargs):
    """A row as cloudwatch-status.json keeps it (what cloudwatch_status_rows builds)."""
    base = {"host": host, "location": location, "state": state, "version": version, "wanted_version": "1.300069.0b1529",
            "mode": "ec2" if location == "ec2" else "onPremise", "config_source": "ssm",
            "parameters": [{"name": "AmazonCloudWatch-linux", "read": True, "exists": True, "version": 3, "latest": 3}],
            "key": None, "aws_errors": {"minutes": 15, "refused": 0, "throttled": 0, "codes": {}, "last": None}, "error": ""}
    return dict(base, **kwargs)


def key(age, key_id="AKIAIOSFODNN7EXAMPLE"):
    return {"id": key_id, "read": True, "exists": True, "status": "Active", "age_days": age, "user_name": "cloudwatch-agent-onprem"}


HOSTILE = "<script>alert(1)</script>"
FLEET = [
    row("web-1", "ec2"),
    row("db-1", "onprem", key=key(120.5)),
    row("db-2", "onprem", key=key(3.0), aws_errors={
        "minutes": 15, "refused": 40, "throttled": 0, "codes": {"AccessDeniedException": 40},
        "last": "2024-01-01T00:00:00Z E! cloudwatch: WriteToCloudWatch failure, err: AccessDeniedException: " + HOSTILE}),
    row("db-3" + HOSTILE, "onprem", state="stopped", version="1.300068.0" + HOSTILE, error=HOSTILE, key=key(3.0),
        parameters=[{"name": "AmazonCloudWatch-" + HOSTILE, "read": True, "exists": True, "version": 2, "latest": 3}]),
]


def test_report_of_a_fabricated_fleet(chromium, tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"summary": {}, "hosts": FLEET}))
    inventory = tmp_path / "empty.yml"
    inventory.write_text("all:\n  hosts: {}\n")
    out = tmp_path / "out"
    out.mkdir()
    output = run_status(tmp_path, inventory, {"cloudwatch_status_dir": str(out), "cloudwatch_status_input": str(saved)})
    assert "4 hosts: 1 healthy, 1 warning, 2 failing (3 running, 1 stopped, 0 not installed, 0 unreachable)" in output

    report = read_report(chromium, out / "cloudwatch-status.html", tmp_path)
    assert report.title.strip() == "CloudWatch agent fleet: 1/4 healthy"
    assert report.counts == {
        "total": 4,
        "healthy": 1,
        "warning": 1,
        "failing": 2,
        "running": 3,
        "stopped": 1,
        "not-installed": 0,
        "unreachable": 0,
    }
    assert [row["attrs"]["data-host"] for row in report.rows] == ["web-1", "db-1", "db-2", "db-3" + HOSTILE]
    assert [row["attrs"]["data-health"] for row in report.rows] == ["healthy", "warning", "failing", "failing"]
    web = report.host("web-1")["cells"]
    assert web[:6] == ["web-1", "EC2", "healthy", "running", "1.300069.0b1529", "ec2"]
    assert web[6] == "ssm AmazonCloudWatch-linux v3"
    assert report.host("db-1")["cells"][7] == "120.5 days (AKIAIOSFODNN7EXAMPLE, Active)"
    assert "access key older than 90 days" in report.host("db-1")["cells"][-1]
    # A running agent that AWS refuses is failing, its refusals counted and quoted.
    assert report.host("db-2")["cells"][8] == "40 refused in 15 min"
    assert "AWS refused 40 requests in the last 15 minutes (AccessDeniedException)" in report.host("db-2")["cells"][-1]
    # Every value is text, never markup: the browser shows the hostile strings as they are and runs nothing.
    hostile = report.host("db-3" + HOSTILE)["cells"]
    assert hostile[0] == "db-3" + HOSTILE
    assert hostile[4] == "1.300068.0%s (wanted 1.300069.0b1529)" % HOSTILE
    assert hostile[6] == "ssm AmazonCloudWatch-%s v2 (latest v3)" % HOSTILE
    assert hostile[-1].startswith(HOSTILE)
    assert report.host("db-2")["cells"][-1].endswith(HOSTILE)
    assert "<script>" not in (out / "cloudwatch-status.html").read_text()
