# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability.cloudwatch.admin_session playbook against moto's EC2 and IAM.

The instance must end with the association it had before, in every path. Associations are read with
DescribeIamInstanceProfileAssociations: moto's DescribeInstances keeps showing the launch profile.
"""

import pytest
from local_aws import operation_counts

PLAYBOOK = "observability.cloudwatch.admin_session"
# Role tasks are reported under the role's name.
ROLE = "observability.cloudwatch.config : "
LINUX = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
INVALID = {"agent": {"metrics_collection_interval": 0}}
MARK = "cloudwatch-admin-session-restore-profile"


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
        run = ansible.playbook(PLAYBOOK, extra_vars=session_vars("config-admin"))

    swap = run.result(ROLE + "Give the instance the admin profile")
    assert swap["changed"]
    assert swap["association"]["iam_instance_profile"]["arn"] == fleet["profiles"]["CloudWatchAgentAdminProfile"]
    assert swap["previous_association"]["iam_instance_profile"]["arn"] == fleet["profiles"]["CloudWatchAgentServerProfile"]
    assert run.result(ROLE + "Publish every configuration from the instance")["results"][0]["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]

    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)
    assert aws.client("ssm").get_parameter(Name="AmazonCloudWatch-linux")["Parameter"]["Version"] == 1
    assert operation_counts(calls) == {
        "DescribeInstances": 1, "DescribeIamInstanceProfileAssociations": 5, "DescribeTags": 5, "CreateTags": 1,
        "ReplaceIamInstanceProfileAssociation": 2, "GetParameter": 2, "PutParameter": 1, "DeleteTags": 1,
    }
    operations = [c["operation"] for c in calls]
    assert operations.count("ReplaceIamInstanceProfileAssociation") == 2
    # The swap comes before the publish, the restore after it.
    first_put = operations.index("PutParameter")
    replaces = [i for i, op in enumerate(operations) if op == "ReplaceIamInstanceProfileAssociation"]
    assert replaces[0] < first_put < replaces[1]


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


def test_failing_swap_leaves_the_association(aws, ansible, fleet):
    instance = fleet["with_profile"]
    before = association(aws, instance)
    ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(
        instance, cloudwatch_admin_session_admin_profile="NoSuchProfile",
    ))
    assert association(aws, instance) == before
    assert MARK not in tags(aws, instance)


def test_instance_without_profile_ends_without_one(aws, ansible, fleet):
    instance = fleet["without_profile"]
    assert association(aws, instance) == []
    run = ansible.playbook(PLAYBOOK, extra_vars=session_vars(
        "bare", cloudwatch_admin_session_mode="pause", cloudwatch_admin_session_pause_minutes=0.01,
    ))
    assert run.result(ROLE + "Give the instance the admin profile")["changed"]
    assert run.result(ROLE + "Restore the previous instance profile")["changed"]
    assert association(aws, instance) == []
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


def test_unfinished_session_is_not_taken_for_the_original(aws, ansible, fleet):
    """An instance left with the admin profile: refuse, unless told what to restore."""
    instance = fleet["with_profile"]
    ec2 = aws.client("ec2")
    current = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance]}]
    )["IamInstanceProfileAssociations"][0]
    ec2.replace_iam_instance_profile_association(
        AssociationId=current["AssociationId"], IamInstanceProfile={"Name": "CloudWatchAgentAdminProfile"}
    )

    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=session_vars(instance))
    assert "an earlier session did not finish" in run.output
    assert not any(c["operation"].startswith(("Replace", "Associate", "Disassociate", "CreateTags")) for c in calls)

    server = fleet["profiles"]["CloudWatchAgentServerProfile"]
    ansible.playbook(PLAYBOOK, extra_vars=session_vars(instance, cloudwatch_admin_session_restore_profile=server))
    assert association(aws, instance) == [(server, "associated")]


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
