# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The caller check of every module that writes to AWS, against the moto server.

moto's GetCallerIdentity always names an IAM user. The fault proxy (tests/tools/fault_proxy.py) sits between
Ansible and moto and rewrites the ARN of its answer, so that the modules see the account root user, or a federated
user, as AWS would show them. Every other request reaches moto unchanged.
"""

import pytest
import yaml

import fault_proxy  # from tests/tools (pytest.ini pythonpath)

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/Bob"
PARAMETER = "AmazonCloudWatch-guarded"
ADMIN_ROLE = "CloudWatchAgentAdminRole"


@pytest.fixture
def world(aws):
    """An instance with the server profile, an admin profile and role, a user: what the modules would change."""
    iam, ec2 = aws.client("iam"), aws.client("ec2")
    for name in ("CloudWatchAgentServerProfile", "CloudWatchAgentAdminProfile"):
        role = name.replace("Profile", "Role")
        iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.create_user(UserName="publisher")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, IamInstanceProfile={"Name": "CloudWatchAgentServerProfile"})
    return {"instance": instance["Instances"][0]["InstanceId"]}


def tasks(world, tmp_path, allow):
    """One task per module that writes to AWS, each of which would change something."""
    store = f"file:{tmp_path}/key-{{}}.json".format
    config = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
    calls = {
        "agent_config": {"name": PARAMETER, "config": config},
        "instance_profile_association": {"instance_id": world["instance"], "instance_profile": "CloudWatchAgentAdminProfile"},
        "admin_grant": {"role_name": ADMIN_ROLE, "holder": "ops 1"},
        "agent_iam_role": {"purpose": "server", "name": "GuardedServerRole"},
        "agent_iam_user": {"purpose": "server", "name": "guarded-onprem", "access_key_state": "present", "access_key_store": store("user")},
        "access_key": {"user_name": "publisher", "access_key_store": store("publisher")},
        "exporter_access": {"name": "guarded-exporter", "auth_method": "iam_user", "access_key_store": store("exporter"), "log_group_names": ["/db"]},
    }
    return [
        {"name": module, f"observability.cloudwatch.{module}": dict(args, **allow), "ignore_errors": True}
        for module, args in calls.items()
    ]


def state(aws, iam_snapshot, world, tmp_path):
    ec2, ssm = aws.client("ec2"), aws.client("ssm")
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [world["instance"]]}]
    )["IamInstanceProfileAssociations"]
    return {
        "iam": iam_snapshot(),
        "admin_role_policies": aws.client("iam").list_role_policies(RoleName=ADMIN_ROLE)["PolicyNames"],
        "parameters": [p["Name"] for p in ssm.describe_parameters()["Parameters"]],
        "associations": [(a["IamInstanceProfile"]["Arn"], a["State"]) for a in associations],
        "files": sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".json"),
    }


def run_all(ansible, aws, world, tmp_path, arn, allow=None, check=False):
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks(world, tmp_path, allow or {})}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    with fault_proxy.FaultProxy(aws.url, after_forward=fault_proxy.caller_as(arn)) as proxy:
        run = ansible.playbook(path, check=check, env={"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url})
    return {task["name"]: run.result(task["name"]) for task in play[0]["tasks"]}, proxy


@pytest.mark.parametrize(
    "arn, option, check",
    [(ROOT, "allow_root", False), (ROOT, "allow_root", True), (FEDERATED, "allow_federated_user", False)],
    ids=["root", "root-check-mode", "federated-user"],
)
def test_every_writing_module_refuses_and_writes_nothing(aws, ansible, iam_snapshot, world, tmp_path, arn, option, check):
    before = state(aws, iam_snapshot, world, tmp_path)
    results, proxy = run_all(ansible, aws, world, tmp_path, arn, check=check)
    for module, result in results.items():
        assert result.get("failed"), (module, result)
        assert arn in result["msg"] and f"{option}=true" in result["msg"], (module, result["msg"])
    assert state(aws, iam_snapshot, world, tmp_path) == before
    # Each module read the caller once.
    assert proxy.requests[("sts", "GetCallerIdentity")] == len(results)


def test_with_the_opt_in_every_module_writes(aws, ansible, iam_snapshot, world, tmp_path):
    before = state(aws, iam_snapshot, world, tmp_path)
    results, _proxy = run_all(ansible, aws, world, tmp_path, FEDERATED, allow={"allow_federated_user": True})
    assert all(not r.get("failed") and r["changed"] for r in results.values()), results
    after = state(aws, iam_snapshot, world, tmp_path)
    assert after["parameters"] == [PARAMETER] and after["associations"][0][0].endswith("/CloudWatchAgentAdminProfile")
    assert after["iam"] != before["iam"] and after["admin_role_policies"] != before["admin_role_policies"]


def test_a_run_that_changes_nothing_does_not_read_the_caller(aws, ansible, world, tmp_path):
    config = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
    ansible.module("observability.cloudwatch.agent_config", {"name": PARAMETER, "config": config})
    # As the root user, a run that changes nothing passes: it never asks who the caller is.
    with fault_proxy.FaultProxy(aws.url, after_forward=fault_proxy.caller_as(ROOT)) as proxy:
        again = ansible.module(
            "observability.cloudwatch.agent_config", {"name": PARAMETER, "config": config},
            env={"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url},
        )
    assert again["changed"] is False
    assert proxy.requests[("sts", "GetCallerIdentity")] == 0
