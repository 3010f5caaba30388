# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An inventory that cannot be hijacked: the example inventory against moto's EC2, and the playbooks' refusal of
a host that is both an EC2 instance and an on-premises server."""

import json
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

ONPREM_HOST = "db-01.example.internal"
EXAMPLE_REGION = "eu-west-1"  # the example's aws_ec2.yml reads this region only
BOTH_GROUPS = (
    f"{ONPREM_HOST} is in both cloudwatch_ec2 and cloudwatch_onprem, so it would get the group variables of both "
    "(and the on-premises key). An EC2 instance may have taken an on-premises host's name: name EC2 hosts by instance "
    "id (hostnames: instance-id in the aws_ec2 inventory) and keep each host in one of the two groups."
)


def example_inventory(tmp_path):
    """The example inventory directory, unchanged: its aws_ec2 source reaches moto through AWS_URL."""
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "examples" / "inventory", inventory)
    return inventory


def inventory_list(ansible, inventory):
    completed = subprocess.run(
        ["ansible-inventory", "-i", str(inventory), "--list"],
        env=ansible.environment(), capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # A source that fails to parse is only a warning for ansible-inventory: the EC2 source must have answered.
    assert "Failed to parse" not in completed.stderr, completed.stderr
    return json.loads(completed.stdout)


def plain(value):
    """A value as the inventory holds it; ansible-inventory marks values from AWS as unsafe."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def launch(aws, tags):
    ec2 = aws.client("ec2", region_name=EXAMPLE_REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"][0]
    return instance["InstanceId"], instance["PrivateIpAddress"]


def test_an_instance_named_after_an_onprem_host_does_not_take_its_entry(ansible, aws, tmp_path):
    inventory = example_inventory(tmp_path)
    before = inventory_list(ansible, inventory)
    assert before["cloudwatch_onprem"]["hosts"] == ["db-01.example.internal", "db-02.example.internal", "app-01.example.internal"]
    onprem_vars = before["_meta"]["hostvars"][ONPREM_HOST]
    assert onprem_vars["cloudwatch_agent_mode"] == "onPremise"

    hijacker, hijacker_ip = launch(aws, {"Name": ONPREM_HOST, "CloudWatchAgent": "enabled"})
    after = inventory_list(ansible, inventory)

    # The on-premises host keeps its address, mode and key store, and stays out of the EC2 group.
    assert after["_meta"]["hostvars"][ONPREM_HOST] == onprem_vars
    assert "ansible_host" not in after["_meta"]["hostvars"][ONPREM_HOST]
    assert after["cloudwatch_onprem"]["hosts"] == before["cloudwatch_onprem"]["hosts"]
    # The instance appears under its id, in the EC2 group only, reached at its own address; its Name tag is a label.
    assert after["cloudwatch_ec2"]["hosts"] == [hijacker]
    instance_vars = after["_meta"]["hostvars"][hijacker]
    assert plain(instance_vars["ansible_host"]) == hijacker_ip
    assert plain(instance_vars["cloudwatch_ec2_name"]) == ONPREM_HOST
    assert instance_vars["cloudwatch_agent_mode"] == "ec2"
    assert "cloudwatch_agent_access_key_store" not in instance_vars


def both_groups_inventory(tmp_path, extra_vars=None):
    """A host listed as on-premises and as an EC2 instance, and an ordinary on-premises host. Should the role ever
    run on them, it stops in its checks: the package file does not exist."""
    local = {"ansible_connection": "local", "ansible_become": False, "cloudwatch_agent_version": "9.9.9",
             "cloudwatch_agent_package_file": str(tmp_path / "no-such-package.deb"), "cloudwatch_agent_region": "us-east-1"}
    local.update(extra_vars or {})
    hosts = {
        "cloudwatch_onprem": {"hosts": {ONPREM_HOST: None, "db-02.example.internal": None}, "vars": local},
        "cloudwatch_ec2": {"hosts": {ONPREM_HOST: None}, "vars": local},
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(hosts))
    return path


def tasks_run(run):
    return [(task["task"]["name"], host) for play in run.report.get("plays", []) for task in play.get("tasks", []) for host in task["hosts"]]


def test_agents_playbook_stops_before_any_change_on_a_host_in_both_groups(ansible, aws, tmp_path):
    hosts = both_groups_inventory(tmp_path, {"cloudwatch_agent_access_key_store": f"file:{tmp_path}/key.json"})
    run = ansible.playbook("observability.cloudwatch.agents", args=["-i", str(hosts)], expect_failure=True)
    assert BOTH_GROUPS in run.output
    # Only the check ran, on that host alone: no other play, no host reached by the role.
    assert tasks_run(run) == [("Fail a host that is in both cloudwatch_ec2 and cloudwatch_onprem", ONPREM_HOST)]
    assert all(stats["changed"] == 0 for stats in run.stats.values())


def test_rotate_keys_playbook_makes_no_key_when_a_host_is_in_both_groups(ansible, aws, tmp_path, iam_snapshot):
    store = tmp_path / "cw-onprem.json"
    variables = {"cloudwatch_iam_roles": [], "cloudwatch_iam_users": [{"name": "cw-onprem", "access_key_store": f"file:{store}"}]}
    ansible.playbook("observability.cloudwatch.iam", extra_vars=variables)
    stored = store.read_text()
    before = iam_snapshot()

    hosts = both_groups_inventory(tmp_path, {"cloudwatch_agent_access_key_store": f"file:{store}"})
    run = ansible.playbook(
        "observability.cloudwatch.rotate_keys", extra_vars=dict(variables, cloudwatch_iam_key_max_age_days=0),
        args=["-i", str(hosts)], expect_failure=True,
    )
    assert BOTH_GROUPS in run.output
    assert tasks_run(run) == [("Fail a host that is in both cloudwatch_ec2 and cloudwatch_onprem", ONPREM_HOST)]
    # A key old enough to rotate, and still no new key, the store as it was.
    assert iam_snapshot() == before
    assert store.read_text() == stored
