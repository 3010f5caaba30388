# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability.cloudwatch.admin_session playbook against moto's EC2 and IAM.

The instance must end with the association it had before, in every path. Associations are read with
DescribeIamInstanceProfileAssociations: moto's DescribeInstances keeps showing the launch profile.
"""

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from local_aws import operation_counts

import fault_proxy  # from tests/tools (pytest.ini pythonpath)

STANDIN = Path(__file__).resolve().parents[1] / "tools" / "imds_standin.py"

PLAYBOOK = "observability.cloudwatch.admin_session"
# Role tasks are reported under the role's name.
ROLE = "observability.cloudwatch.config : "
LINUX = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
INVALID = {"agent": {"metrics_collection_interval": 0}}
MARK = "cloudwatch-admin-session-restore-profile"
ADMIN_ROLE = "CloudWatchAgentAdminRole"
GRANT_TAG = "cloudwatch-admin-grant"


@pytest.fixture
def fleet(aws):
    """Two instance profiles and two running instances: one launched with the server profile, one without."""
    iam = aws.client("iam")
    profiles = {}
    for name in ("CloudWatchAgentServerProfile", "CloudWatchAgentAdminProfile"):
        iam.create_role(RoleName=name.replace("Profile", "Role"), AssumeRolePolicyDocument="{}")
        profiles[name] = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name.replace("Profile", "Role"))
    ec2 = aws.client("ec2")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def launch(name, **kwargs):
        tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
        return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=tags, **kwargs)["Instances"][0]["InstanceId"]

    return {
        "profiles": profiles,
        "with_profile": launch("config-admin", IamInstanceProfile={"Name": "CloudWatchAgentServerProfile"}),
        "without_profile": launch("bare"),
    }


def association(aws, instance_id):
    found = aws.client("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    return [(a["IamInstanceProfile"]["Arn"], a["State"]) for a in found]


def tags(aws, instance_id):
    described = aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return {t["Key"]: t["Value"] for t in described.get("Tags", [])}


def failure(run):
    """The message of the task that failed the run."""
    messages = [
        result.get("msg", "") for play in run.report["plays"] for task in play["tasks"]
        for result in task["hosts"].values() if result.get("failed") and not result.get("ignore_errors")
    ]
    assert messages, run.output
    return " ".join(messages[-1].split())


def session_vars(instance, **extra):
    variables = {
        "cloudwatch_admin_session_instance": instance,
        "cloudwatch_admin_session_admin_profile": "CloudWatchAgentAdminProfile",
        "cloudwatch_admin_session_publish_host": "localhost",
        # The instance is emulated: there is no metadata service to ask.
        "cloudwatch_admin_session_verify_on_instance": False,
        "cloudwatch_admin_session_configs": [{"name": "AmazonCloudWatch-linux", "config": LINUX}],
    }
    variables.update(extra)
    return variables


def test_publishes_with_the_admin_profile_and_restores(aws, ansible, fleet):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    assert before == [(fleet["profiles"]["CloudWatchAgentServerProfile"], "associated")]

    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(instance))

    swap = run.result(ROLE + "Give the instance the admin profile")
    assert swap["changed"]
    assert swap["association"]["iam_instance_profile"]["arn"] == fleet["profiles"]["CloudWatchAgentAdminProfile"]
    assert swap["previous_association"]["iam_instance_profile"]["arn"] == fleet["profiles"]["CloudWatchAgentServerProfile"]
    assert run.result(ROLE + "Publish every changed configuration from the instance")["results"][0]["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]

    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)
    assert aws.client("ssm").get_parameter(Name="AmazonCloudWatch-linux")["Parameter"]["Version"] == 1
    assert operation_counts(calls) == {
        # The admin role from the admin profile; the grant: recovered, taken, released (admin_grant).
        "GetInstanceProfile": 1, "GetRole": 4, "GetRolePolicy": 8, "PutRolePolicy": 6,
        # The caller: caller_guard, then each write (also the check mode read and validation when a change is due).
        "GetCallerIdentity": 9,
        "TagRole": 1, "UntagRole": 1,
        # No instance carries the restore tag: nothing to finish.
        "DescribeInstances": 1,
        "DescribeIamInstanceProfileAssociations": 5, "DescribeTags": 5, "CreateTags": 1,
        "ReplaceIamInstanceProfileAssociation": 2, "GetParameter": 2, "PutParameter": 1, "DeleteTags": 1,
    }
    operations = [c["operation"] for c in calls]
    # The grant comes before the swap, the publish between the swap and the restore, the release after the restore.
    replaces = [i for i, op in enumerate(operations) if op == "ReplaceIamInstanceProfileAssociation"]
    assert operations.index("TagRole") < replaces[0] < operations.index("PutParameter") < replaces[1] < operations.index("UntagRole")
    assert grant_lease(aws) is None


def test_check_mode_changes_nothing(aws, ansible, fleet):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(instance), check=True)
    assert run.result(ROLE + "Validate every configuration in every region on the instance")["results"][0]["changed"]
    writes = {"PutParameter", "ReplaceIamInstanceProfileAssociation", "AssociateIamInstanceProfile", "CreateTags",
              "DeleteTags", "PutRolePolicy", "TagRole", "UntagRole"}
    assert not writes & set(operation_counts(calls))
    assert association(aws, instance) == before and MARK not in tags(aws, instance)


def test_failing_publish_still_restores(aws, ansible, fleet):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(
        instance, cloudwatch_admin_session_configs=[{"name": "AmazonCloudWatch-broken", "config": INVALID}],
    ))
    assert run.result(ROLE + "Give the instance the admin profile")["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]
    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)
    assert aws.client("ssm").describe_parameters()["Parameters"] == []
    assert grant_lease(aws) is None


def test_unknown_admin_profile_fails_naming_it_and_leaves_the_association(aws, ansible, fleet):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(
        instance, cloudwatch_admin_session_admin_profile="NoSuchProfile",
    ))
    assert failure(run) == "The admin instance profile NoSuchProfile (cloudwatch_admin_session_admin_profile) does not exist in this account."
    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)


def test_admin_profile_given_by_hand_is_not_taken_for_the_one_to_restore(aws, ansible, fleet):
    """Without the restore tag, what the instance had before the admin profile is unknown: fail before the swap."""
    instance = fleet["with_profile"]
    give_admin_profile(aws, instance)
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(instance))
    assert failure(run).startswith(
        f"{instance} has the admin profile CloudWatchAgentAdminProfile without the tag {MARK} that a session writes"
    )
    assert not any(c["operation"].startswith(("Replace", "Associate", "Disassociate", "CreateTags")) for c in calls)
    assert association(aws, instance) == [(fleet["profiles"]["CloudWatchAgentAdminProfile"], "associated")]
    assert grant_lease(aws) is None


def test_instance_without_profile_ends_without_one(aws, ansible, fleet):
    instance = fleet["without_profile"]
    assert association(aws, instance) == []
    run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(
        instance, cloudwatch_admin_session_mode="pause", cloudwatch_admin_session_pause_minutes=0.01,
    ))
    assert run.result(ROLE + "Give the instance the admin profile")["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]
    assert association(aws, instance) == []
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


def give_admin_profile(aws, instance_id):
    """What a session does before it publishes: the admin profile, in place of the one the instance had."""
    ec2 = aws.client("ec2")
    current = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    if current:
        ec2.replace_iam_instance_profile_association(
            AssociationId=current[0]["AssociationId"], IamInstanceProfile={"Name": "CloudWatchAgentAdminProfile"}
        )
    else:
        ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Name": "CloudWatchAgentAdminProfile"})


def grant_lease(aws):
    tags = aws.client("iam").list_role_tags(RoleName=ADMIN_ROLE)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}.get(GRANT_TAG)


def test_interrupted_session_is_finished_by_the_next_run(aws, ansible, fleet):
    """A run killed mid-session left two instances with the admin profile and the restore tag, and its grant, now
    expired. The next run gives both back what they had, ends the old grant, then runs its own session."""
    server = fleet["profiles"]["CloudWatchAgentServerProfile"]
    ec2 = aws.client("ec2")
    for instance, previous in ((fleet["with_profile"], server), (fleet["without_profile"], "none")):
        ec2.create_tags(Resources=[instance], Tags=[{"Key": MARK, "Value": previous}])
        give_admin_profile(aws, instance)
    aws.client("iam").tag_role(RoleName=ADMIN_ROLE, Tags=[{"Key": GRANT_TAG, "Value": "ops@dead-controller 1 until 2026-01-01T00:00:00Z"}])

    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(fleet["with_profile"]))

    # Before the grant: no other run held one.
    assert not run.result(ROLE + "Restore the instances an interrupted session left").get("skipped")
    assert run.result(ROLE + "Restore the instances the run this one waited for left").get("skipped")
    assert association(aws, fleet["with_profile"]) == [(server, "associated")]
    assert association(aws, fleet["without_profile"]) == []
    assert MARK not in tags(aws, fleet["with_profile"]) and MARK not in tags(aws, fleet["without_profile"])
    assert grant_lease(aws) is None
    # Then it published, from an instance that had its own profile back: the restore target was not the admin one.
    assert aws.client("ssm").get_parameter(Name="AmazonCloudWatch-linux")["Parameter"]["Version"] == 1
    operations = [c["operation"] for c in calls]
    assert operations.index("DisassociateIamInstanceProfile") < operations.index("TagRole") < operations.index("CreateTags")
    assert operations.index("CreateTags") < operations.index("PutParameter")


def test_failed_restore_still_ends_the_admin_rights(aws, ansible, fleet):
    """The profile to restore disappears during the session: the restore fails, the tag stays on the instance for
    the next run, the admin role's rights end all the same, and the run fails naming the instance."""
    instance = fleet["with_profile"]
    server = fleet["profiles"]["CloudWatchAgentServerProfile"]
    process = ansible.start(PLAYBOOK, extra_vars=session_vars(
        instance, cloudwatch_admin_session_mode="pause", cloudwatch_admin_session_pause_minutes=0.2,
        cloudwatch_admin_session_wait_timeout=5,
    ))
    deadline = time.monotonic() + 120
    while association(aws, instance) != [(fleet["profiles"]["CloudWatchAgentAdminProfile"], "associated")]:
        assert time.monotonic() < deadline and process.poll() is None, "the session never gave the admin profile"
        time.sleep(0.5)
    iam = aws.client("iam")
    iam.remove_role_from_instance_profile(InstanceProfileName="CloudWatchAgentServerProfile", RoleName="CloudWatchAgentServerRole")
    iam.delete_instance_profile(InstanceProfileName="CloudWatchAgentServerProfile")

    run = ansible.finish(process, expect_failure=True)

    assert failure(run).startswith(f"{instance} could not get back {server}: ")
    assert tags(aws, instance)[MARK] == server
    assert grant_lease(aws) is None
    assert run.result(ROLE + "End the admin role's rights")["changed"]


def test_live_grant_of_another_run_is_left_alone_and_named(aws, ansible, fleet):
    """Another run holds the admin role's grant and has an instance in its session: this run does not touch it,
    and with no wait it fails naming the holder, having changed no instance."""
    busy = fleet["without_profile"]
    aws.client("ec2").create_tags(Resources=[busy], Tags=[{"Key": MARK, "Value": "none"}])
    give_admin_profile(aws, busy)
    other = ansible.module("observability.cloudwatch.admin_grant", {"role_name": ADMIN_ROLE, "holder": "ops@other-controller 1"})
    instance = fleet["with_profile"]
    before = association(aws, instance)

    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(
        instance, cloudwatch_admin_session_grant_wait_seconds=0,
    ))

    assert run.result(ROLE + "Finish the grant of an interrupted session on the admin role")["held_by"]["holder"] == "ops@other-controller 1"
    assert "ops@other-controller 1" in failure(run)
    assert association(aws, instance) == before and MARK not in tags(aws, instance)
    assert association(aws, busy) == [(fleet["profiles"]["CloudWatchAgentAdminProfile"], "associated")]
    assert tags(aws, busy)[MARK] == "none"
    assert grant_lease(aws) == f"ops@other-controller 1 until {other['grant']['expires']}"


def test_restore_tag_on_an_instance_without_the_admin_profile_changes_nothing(aws, ansible, fleet):
    """Anyone who may tag instances can write the restore tag: on an instance that does not have the admin profile,
    it steers nothing. The tag is removed, the instance keeps its profile."""
    iam = aws.client("iam")
    iam.create_role(RoleName="PowerRole", AssumeRolePolicyDocument="{}")
    power = iam.create_instance_profile(InstanceProfileName="PowerProfile")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="PowerProfile", RoleName="PowerRole")
    victim = fleet["with_profile"]
    before = association(aws, victim)
    aws.client("ec2").create_tags(Resources=[victim], Tags=[{"Key": MARK, "Value": power}])

    run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(fleet["without_profile"]))

    # The first restore is the recovery's; the last one, the run's own instance.
    restored = run.results(ROLE + "Restore the previous instance profile")[0]["results"][0]
    assert restored["item"]["instance_id"] == victim
    assert restored["from_profile_matched"] is False and not restored["changed"]
    assert association(aws, victim) == before
    assert MARK not in tags(aws, victim)


@pytest.mark.parametrize("recorded", [
    "arn:aws:iam::999999999999:instance-profile/Elsewhere",
    "arn:aws:iam::123456789012:instance-profile/CloudWatchAgentAdminProfile",
    "CloudWatchAgentServerProfile",
], ids=["another account", "the admin profile", "a name"])
def test_restore_tag_naming_no_other_profile_of_this_account_removes_the_admin_profile_and_fails(aws, ansible, fleet, recorded):
    """An instance left with the admin profile whose tag names a profile of another account, the admin profile itself
    or anything but an ARN a session writes: it gets no profile, the tag goes, the admin rights end, and the run
    fails naming the instance and the tag."""
    victim = fleet["with_profile"]
    give_admin_profile(aws, victim)
    aws.client("ec2").create_tags(Resources=[victim], Tags=[{"Key": MARK, "Value": recorded}])

    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(fleet["without_profile"]))

    assert failure(run).startswith(f"{victim} carried the restore tag {MARK}={json.dumps(recorded)}, which is not another")
    assert association(aws, victim) == []
    assert MARK not in tags(aws, victim)
    assert grant_lease(aws) is None
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


@pytest.mark.parametrize("missing", ["cloudwatch_admin_session_instance", "cloudwatch_admin_session_admin_profile"])
def test_role_entry_point_names_a_missing_required_option_and_changes_nothing(aws, ansible, fleet, missing):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    variables = session_vars(instance)
    del variables[missing]
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=variables)
    assert f"missing required arguments: {missing}" in run.output
    assert calls == []
    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)


def test_role_entry_point_refuses_an_unknown_mode(aws, ansible, fleet):
    instance = fleet["with_profile"]
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(instance, cloudwatch_admin_session_mode="wizard"))
    assert "cloudwatch_admin_session_mode" in run.output and "publish, pause" in run.output
    assert calls == []


@pytest.mark.parametrize("given", ["config-admin", "i-0123456789ABCDEF0", "i-0123456789abcdef"])
def test_takes_an_instance_id_only(aws, ansible, given):
    """A Name tag (or anything but i- and 8 or 17 hex digits) fails before any AWS call."""
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(given))
    assert failure(run) == (
        f'cloudwatch_admin_session_instance must be an instance ID, i- followed by 8 or 17 hexadecimal digits, not "{given}".'
        " A Name tag is not accepted: a stopped instance's name can be taken by another instance."
    )
    assert calls == []


@pytest.mark.parametrize("extra, message", [
    ({"cloudwatch_admin_session_grant_minutes": 0}, "cloudwatch_admin_session_grant_minutes must be 1 to 720 (minutes), not 0"),
    # Association and metadata service waits of 300 seconds each: 10 minutes are not more than 600 seconds.
    ({"cloudwatch_admin_session_grant_minutes": 10, "cloudwatch_admin_session_verify_on_instance": True},
     "cloudwatch_admin_session_grant_minutes (10 minutes) must exceed the association wait plus the metadata service"
     " wait: cloudwatch_admin_session_wait_timeout=300 seconds twice, 600 seconds."),
    ({"cloudwatch_admin_session_grant_minutes": 5, "cloudwatch_admin_session_wait_timeout": 300},
     "cloudwatch_admin_session_grant_minutes (5 minutes) must exceed the association wait:"
     " cloudwatch_admin_session_wait_timeout=300 seconds, 300 seconds."),
    ({"cloudwatch_admin_session_mode": "pause"},
     "With cloudwatch_admin_session_mode=pause, cloudwatch_admin_session_pause_minutes is required, more than 0 and no"
     " more than cloudwatch_admin_session_grant_minutes (15): the admin rights end then. It is unset."),
    ({"cloudwatch_admin_session_mode": "pause", "cloudwatch_admin_session_pause_minutes": 16},
     "cloudwatch_admin_session_grant_minutes (15): the admin rights end then. It is 16."),
])
def test_bounds_are_checked_before_the_swap(aws, ansible, extra, message):
    """No AWS call at all: the checks come first."""
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars("i-0123456789abcdef0", **extra))
    assert message in failure(run)
    assert calls == []


def write_inventory(path, hosts):
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return str(path)


@pytest.mark.parametrize("verify", [True, False], ids=["at the metadata wait", "at the publish"])
def test_unreachable_publish_host_still_restores_then_fails_naming_it(aws, ansible, fleet, tmp_path, verify):
    """Ansible skips "always" for an unreachable host: the role must restore all the same, then fail."""
    instance = fleet["with_profile"]
    before = association(aws, instance)
    # Nothing listens on port 1: ssh is refused at once.
    inventory = write_inventory(tmp_path / "hosts.yml", {"gone-instance": {
        "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh", "ansible_timeout": 3,
    }})
    run = ansible.playbook(PLAYBOOK, expect_failure=True, args=("-i", inventory), extra_vars=session_vars(
        instance, cloudwatch_admin_session_publish_host="gone-instance", cloudwatch_admin_session_verify_on_instance=verify,
    ))
    assert run.result(ROLE + "Give the instance the admin profile")["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]
    assert failure(run).startswith("The publish host gone-instance is unreachable: Task failed: Failed to connect to the host via ssh")
    assert run.stats["localhost"]["unreachable"] == 0
    assert association(aws, instance) == before
    assert grant_lease(aws) is None
    assert MARK not in tags(aws, instance)
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


@pytest.fixture
def admin_instance_credentials(aws, fleet, tmp_path):
    """The metadata service of the admin instance: it hands out a key of the admin role, created in moto.

    Yields (metadata URL, the instance's access key id).
    """
    iam = aws.client("iam")
    iam.create_user(UserName="CloudWatchAgentAdminRole-instance")
    key = iam.create_access_key(UserName="CloudWatchAgentAdminRole-instance")["AccessKey"]
    credentials = tmp_path / "imds-credentials.json"
    credentials.write_text(json.dumps({
        "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
        "role": "CloudWatchAgentAdminRole", "instance_profile_arn": fleet["profiles"]["CloudWatchAgentAdminProfile"],
    }))
    state = tmp_path / "imds"
    url = subprocess.run(
        [sys.executable, str(STANDIN), "start", str(state), str(credentials), aws.region],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    try:
        yield url, key["AccessKeyId"]
    finally:
        subprocess.run([sys.executable, str(STANDIN), "stop", str(state)], check=False)


def instance_host(tmp_path, aws, metadata_url):
    """An inventory host standing for the instance: its Python runs with none of the controller's environment.

    Only the endpoint of the emulated AWS and the instance's metadata service reach it, so botocore there finds
    no credentials but the instance's (no key, no profile, no credentials file).
    """
    interpreter = tmp_path / "instance-python"
    interpreter.write_text(
        "#!/bin/sh\n"
        f"exec env -i PATH=/usr/bin:/bin HOME={tmp_path} AWS_ENDPOINT_URL={aws.url} AWS_URL={aws.url}"
        f" AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent"
        f" AWS_EC2_METADATA_SERVICE_ENDPOINT={metadata_url} {sys.executable} \"$@\"\n"
    )
    interpreter.chmod(0o755)
    return write_inventory(tmp_path / "hosts.yml", {"admin-instance": {
        "ansible_connection": "local", "ansible_python_interpreter": str(interpreter),
    }})


def test_publishes_with_the_instance_credentials_and_never_shows_the_metadata_token(
    aws, ansible, fleet, tmp_path, admin_instance_credentials
):
    """PutParameter is signed by the key the instance's metadata service hands out, not by the controller's key,
    also when the calling play gives the controller's key in module_defaults, for the group and for the module.

    At -vvv with the human-readable output and the task arguments shown, the metadata session token is in no
    line of the output.
    """
    metadata_url, instance_key_id = admin_instance_credentials
    instance = fleet["with_profile"]
    before = association(aws, instance)
    inventory = instance_host(tmp_path, aws, metadata_url)
    env = {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true", "ANSIBLE_NOCOLOR": "true"}
    controller_key = {"access_key": aws.env["AWS_ACCESS_KEY_ID"], "secret_key": aws.env["AWS_SECRET_ACCESS_KEY"]}
    playbook = tmp_path / "session.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/observability.cloudwatch.aws": controller_key, "observability.cloudwatch.agent_config": controller_key},
        "tasks": [
            {"ansible.builtin.include_role": {"name": "observability.cloudwatch.config", "tasks_from": "admin_session"}},
            # What the play keeps of the metadata calls after the session: shown, so the token would be seen.
            {"name": "Show the kept metadata results", "ansible.builtin.debug": {
                "msg": "kept: {{ [__cloudwatch_admin_session_imds_token, __cloudwatch_admin_session_imds_info] | to_json }}"}},
        ],
    }]))
    with aws.record() as calls:
        run = ansible.playbook(playbook, env=env, args=("-vvv", "-i", inventory), extra_vars=session_vars(
            instance, cloudwatch_admin_session_publish_host="admin-instance",
            cloudwatch_admin_session_verify_on_instance=True, cloudwatch_admin_session_imds_url=metadata_url,
        ))

    controller_key_id = aws.env["AWS_ACCESS_KEY_ID"]
    puts = [c for c in calls if c["operation"] == "PutParameter"]
    assert [c["access_key_id"] for c in puts] == [instance_key_id]
    assert instance_key_id != controller_key_id
    # Reads on the instance too; the swap and the restore by the controller.
    assert {c["access_key_id"] for c in calls if c["operation"] == "GetParameter"} == {instance_key_id}
    assert {c["access_key_id"] for c in calls if c["operation"].endswith("IamInstanceProfileAssociation")} == {controller_key_id}
    assert aws.client("ssm").get_parameter(Name="AmazonCloudWatch-linux")["Parameter"]["Version"] == 1
    assert association(aws, instance) == before

    # The stand-in's token is one per start: ask for it the way the role does.
    request = urllib.request.Request(
        metadata_url + "/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = response.read().decode()
    assert len(token) >= 32
    assert token not in run.output
    assert '"msg": "kept: [null, null]"' in run.output, "the play forgets the metadata results once used"
    # The token was used: the wait on the instance succeeded.
    waited = run.output.split("Wait until the instance sees the admin role", 1)[1].split("\nTASK [", 1)[0]
    assert re.search(r"^ok: \[localhost -> admin-instance\]", waited, re.MULTILINE), waited


def test_metadata_service_without_the_admin_profile_fails_readably_and_restores(
    aws, ansible, fleet, tmp_path, admin_instance_credentials
):
    """The metadata tasks are under no_log; the failure still says what the instance showed, without the token."""
    metadata_url = admin_instance_credentials[0]
    server = fleet["profiles"]["CloudWatchAgentServerProfile"]
    credentials = tmp_path / "imds-credentials.json"
    credentials.write_text(json.dumps(dict(json.loads(credentials.read_text()), instance_profile_arn=server)))
    instance = fleet["with_profile"]
    run = ansible.playbook(PLAYBOOK, expect_failure=True, args=("-i", instance_host(tmp_path, aws, metadata_url)), extra_vars=session_vars(
        instance, cloudwatch_admin_session_publish_host="admin-instance", cloudwatch_admin_session_verify_on_instance=True,
        cloudwatch_admin_session_imds_url=metadata_url, cloudwatch_admin_session_wait_timeout=5,
    ))
    admin = fleet["profiles"]["CloudWatchAgentAdminProfile"]
    assert failure(run) == (
        f"After 5 seconds the metadata service {metadata_url} on admin-instance does not show the admin profile {admin}: {server}"
    )
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]
    assert association(aws, instance) == [(server, "associated")]
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


@pytest.mark.parametrize(
    "arn, option",
    [("arn:aws:iam::123456789012:root", "allow_root"), ("arn:aws:sts::123456789012:federated-user/Bob", "allow_federated_user")],
    ids=["root", "federated-user"],
)
def test_the_session_refuses_root_and_federated_users_unless_allowed(aws, ansible, fleet, arn, option):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    with fault_proxy.FaultProxy(aws.url, after_forward=fault_proxy.caller_as(arn)) as proxy:
        proxied = {"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url}
        run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(instance), env=proxied, expect_failure=True)
        message = failure(run)
        assert arn in message and f"{option}=true" in message
        # Refused before the first write: no grant, no restore tag (amazon.aws.ec2_tag), no swap, nothing published.
        assert run.results(ROLE + "Take the admin role's rights, for a bounded time") == []
        assert association(aws, instance) == before and MARK not in tags(aws, instance)
        assert grant_lease(aws) is None and aws.client("ssm").describe_parameters()["Parameters"] == []

        allowed = session_vars(instance, **{f"cloudwatch_admin_session_{option}": True})
        ansible.playbook(PLAYBOOK, extra_vars=allowed, env=proxied)
    assert aws.client("ssm").get_parameter(Name="AmazonCloudWatch-linux")["Parameter"]["Version"] == 1
    assert association(aws, instance) == before and MARK not in tags(aws, instance)
