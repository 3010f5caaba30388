# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults for group/observability.cloudwatch.aws reach every IAM module of the collection."""

import json
import subprocess
from pathlib import Path

PLAYBOOK = Path(__file__).parent / "playbooks" / "iam_module_defaults.yml"


def test_region_and_endpoint_from_module_defaults(aws, ansible, make_store_key):
    make_store_key(region="eu-west-1")
    env = ansible.environment()
    for name in ("AWS_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    extra = {"defaults_region": "eu-west-1", "defaults_endpoint_url": aws.url}
    completed = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(extra)],
        env=env,
        cwd=ansible.workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert aws.client("iam").get_role(RoleName="CloudWatchAgentServerRole")["Role"]
    parameter = aws.client("ssm", region_name="eu-west-1").get_parameter(Name="/agent/defaults-user")["Parameter"]
    assert parameter["Type"] == "SecureString"


def test_iam_role_connection_variables_reach_every_task_through_module_defaults(aws, ansible, tmp_path, make_store_key):
    """cloudwatch_iam_region and cloudwatch_iam_endpoint_url alone (no AWS_URL, no AWS_REGION) carry the iam
    role's AWS tasks, the rotate and retire entry points included; cloudwatch_iam_profile, empty, is left out."""
    env = {name: "" for name in ("AWS_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")}
    key = make_store_key(region="eu-west-1")
    variables = {
        "cloudwatch_iam_region": "eu-west-1",
        "cloudwatch_iam_endpoint_url": aws.url,
        "cloudwatch_iam_users": [{"name": "defaults-user", "access_key_store": "ssm:/agent/defaults-user", "kms_key_id": key}],
        "cloudwatch_iam_key_max_age_days": 0,
    }
    ansible.playbook("observability.cloudwatch.iam", extra_vars=variables, env=env)
    assert aws.client("iam").get_role(RoleName="CloudWatchAgentServerRole")["Role"]
    stored = aws.client("ssm", region_name="eu-west-1").get_parameter(Name="/agent/defaults-user")["Parameter"]
    assert stored["Type"] == "SecureString"

    playbook = tmp_path / "rotate.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - {ansible.builtin.include_role: {name: observability.cloudwatch.iam, tasks_from: rotate}}\n"
    )
    run = ansible.playbook(playbook, extra_vars=variables, env=env)
    rotation = run.result("observability.cloudwatch.iam : Remember the new and old key ids of each rotation under way")
    [rotated] = rotation["ansible_facts"]["cloudwatch_iam_rotation"]
    keys = aws.client("iam").list_access_keys(UserName="defaults-user")["AccessKeyMetadata"]
    assert len(keys) == 2
    assert {k["AccessKeyId"] for k in keys} == {rotated["new_access_key_id"], *rotated["old_access_key_ids"]}

    retire = tmp_path / "retire.yml"
    retire.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - {ansible.builtin.include_role: {name: observability.cloudwatch.iam, tasks_from: retire}}\n"
    )
    # Every host has the new key (switched), with no margin for AWS's delay and no grace period.
    ansible.playbook(retire, env=env, extra_vars=dict(
        variables, cloudwatch_iam_rotation=[dict(rotated, switched=True)],
        cloudwatch_iam_key_last_used_margin_minutes=0, cloudwatch_iam_key_retire_grace_days=0,
    ))
    keys = aws.client("iam").list_access_keys(UserName="defaults-user")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [rotated["new_access_key_id"]]
