# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's fetch_parameters entry point runs where the agents playbook runs it: on localhost, with no
facts gathered, reading nothing it was given and no key pair."""

import json
import os
import shutil
import subprocess

import pytest

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: observability.cloudwatch.agent
        tasks_from: fetch_parameters
      vars:
        cloudwatch_agent_ssm_parameters: [AmazonCloudWatch-a]
        cloudwatch_agent_ssm_fetch: controller
        cloudwatch_agent_ssm_parameter_values: {AmazonCloudWatch-a: '{"agent": {}}'}
        cloudwatch_agent_access_key_store: "file:/nonexistent/key.json"
    - ansible.builtin.copy:
        content: "{{ hostvars.localhost.__cloudwatch_agent_read | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


@pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="needs ansible-playbook")
def test_fetch_parameters_runs_without_facts_and_reads_no_key(tmp_path):
    (tmp_path / "pb.yml").write_text(PLAYBOOK)
    run = subprocess.run(["ansible-playbook", str(tmp_path / "pb.yml"), "-e", "out=%s" % (tmp_path / "read.json")],
                         capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert json.loads((tmp_path / "read.json").read_text()) == {"key_pairs": {}, "parameters": {}, "seen": ["localhost"]}
