# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability.cloudwatch.publish_config playbook against the moto server."""

import json

from local_aws import operation_counts

PLAYBOOK = "observability.cloudwatch.publish_config"
# Role tasks are reported under the role's name.
ROLE = "observability.cloudwatch.config : "
REGIONS = ["us-east-1", "eu-west-1"]
LINUX = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
WINDOWS = {"logs": {"logs_collected": {"windows_events": {"collect_list": [
    {"event_name": "System", "event_levels": ["ERROR", "CRITICAL"], "log_group_name": "/windows/system"}
]}}}}
INVALID = {"agent": {"metrics_collection_interval": 0}}
ADMIN_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentAdminPolicy"


def parameters(aws, region):
    ssm = aws.client("ssm", region_name=region)
    return {p["Name"]: p["Version"] for p in ssm.describe_parameters()["Parameters"]}


def admin_user(aws, tmp_path, status="Inactive"):
    """The on-premises admin user as agent_iam_user leaves it: admin policy, a key kept in a file store."""
    iam = aws.client("iam")
    iam.create_user(UserName="cloudwatch-admin")
    iam.attach_user_policy(UserName="cloudwatch-admin", PolicyArn=ADMIN_POLICY)
    key = iam.create_access_key(UserName="cloudwatch-admin")["AccessKey"]
    iam.update_access_key(UserName="cloudwatch-admin", AccessKeyId=key["AccessKeyId"], Status=status)
    store = tmp_path / "admin-key.json"
    store.write_text(json.dumps({
        "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
        "user_name": "cloudwatch-admin", "created": "2026-01-01T00:00:00+00:00",
    }))
    store.chmod(0o600)
    return key["AccessKeyId"], f"file:{store}"


def key_status(aws, key_id):
    keys = aws.client("iam").list_access_keys(UserName="cloudwatch-admin")["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in keys}[key_id]


def test_publishes_every_configuration_to_every_region(aws, ansible, tmp_path):
    windows_file = tmp_path / "windows.json"
    windows_file.write_text(json.dumps(WINDOWS, indent=4))
    extra_vars = {
        "cloudwatch_publish_regions": REGIONS,
        "cloudwatch_publish_configs": [
            {"name": "AmazonCloudWatch-linux", "config": LINUX},
            {"name": "AmazonCloudWatch-windows", "file": str(windows_file), "description": "Windows fleet"},
        ],
    }
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=extra_vars)
    for region in REGIONS:
        assert parameters(aws, region) == {"AmazonCloudWatch-linux": 1, "AmazonCloudWatch-windows": 1}
    ssm = aws.client("ssm", region_name="eu-west-1")
    assert json.loads(ssm.get_parameter(Name="AmazonCloudWatch-windows")["Parameter"]["Value"]) == WINDOWS
    published = run.result(ROLE + "Publish every configuration to every region")["results"]
    assert [r["changed"] for r in published] == [True] * 4
    assert all(c["access_key_id"] == aws.env["AWS_ACCESS_KEY_ID"] for c in calls)
    # One read per configuration to validate, one read and one write per configuration and region.
    assert operation_counts(calls) == {"GetParameter": 6, "PutParameter": 4}

    again = ansible.playbook(PLAYBOOK, extra_vars=extra_vars)
    assert not any(r["changed"] for r in again.result(ROLE + "Publish every configuration to every region")["results"])
    assert parameters(aws, "us-east-1") == {"AmazonCloudWatch-linux": 1, "AmazonCloudWatch-windows": 1}


def test_one_invalid_configuration_publishes_nothing(aws, ansible):
    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={
        "cloudwatch_publish_regions": REGIONS,
        "cloudwatch_publish_configs": [
            {"name": "AmazonCloudWatch-linux", "config": LINUX},
            {"name": "AmazonCloudWatch-broken", "config": INVALID},
        ],
    })
    assert "agent.metrics_collection_interval: must be >= 1" in run.output
    for region in REGIONS:
        assert parameters(aws, region) == {}


def test_admin_user_key_is_active_only_while_publishing(aws, ansible, tmp_path):
    key_id, store = admin_user(aws, tmp_path)
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars={
            "cloudwatch_publish_regions": REGIONS,
            "cloudwatch_publish_credentials": "admin_user",
            "cloudwatch_publish_admin_key_store": store,
            "cloudwatch_publish_configs": [{"name": "AmazonCloudWatch-linux", "config": LINUX}],
        })
    assert run.result(ROLE + "Activate the admin user's access key")["changed"]
    assert run.result(ROLE + "Deactivate the admin user's access key")["changed"]
    assert key_status(aws, key_id) == "Inactive"
    for region in REGIONS:
        assert parameters(aws, region) == {"AmazonCloudWatch-linux": 1}

    assert operation_counts(calls) == {
        "ListAccessKeys": 4, "UpdateAccessKey": 2, "GetCallerIdentity": 1, "ListAccountAliases": 1,
        "GetParameter": 3, "PutParameter": 2,
    }
    ssm_calls = [c for c in calls if c["operation"] in ("GetParameter", "PutParameter")]
    assert [c["operation"] for c in ssm_calls].count("PutParameter") == 2
    assert {c["access_key_id"] for c in ssm_calls} == {key_id}
    # The controller's credentials only switch the key on and off.
    iam_calls = [c for c in calls if c["operation"] == "UpdateAccessKey"]
    assert len(iam_calls) == 2 and {c["access_key_id"] for c in iam_calls} == {aws.env["AWS_ACCESS_KEY_ID"]}


def test_admin_user_key_is_deactivated_when_the_publish_fails(aws, ansible, tmp_path):
    # Left active by mistake before the run: the run still ends with it inactive.
    key_id, store = admin_user(aws, tmp_path, status="Active")
    ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={
        "cloudwatch_publish_regions": REGIONS,
        "cloudwatch_publish_credentials": "admin_user",
        "cloudwatch_publish_admin_key_store": store,
        "cloudwatch_publish_configs": [{"name": "AmazonCloudWatch-broken", "config": INVALID}],
    })
    assert key_status(aws, key_id) == "Inactive"
    assert parameters(aws, "us-east-1") == {}


def test_refuses_incomplete_variables(aws, ansible):
    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={
        "cloudwatch_publish_regions": REGIONS,
        "cloudwatch_publish_configs": [{"name": "AmazonCloudWatch-linux", "config": LINUX, "content": "{}"}],
    })
    assert "exactly one of config, file or content" in run.output


def test_role_entry_point_names_a_missing_required_option_and_changes_nothing(aws, ansible):
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={"cloudwatch_publish_regions": REGIONS})
    assert "missing required arguments: cloudwatch_publish_configs" in run.output
    assert run.result(ROLE + "Validating arguments against arg spec 'main' - "
                      "Validate CloudWatch agent configurations and publish them to SSM Parameter Store")["failed"]
    assert calls == []
    for region in REGIONS:
        assert parameters(aws, region) == {}


def test_role_entry_point_refuses_an_unknown_choice_or_a_config_without_name(aws, ansible):
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={
            "cloudwatch_publish_regions": REGIONS,
            "cloudwatch_publish_credentials": "root",
            "cloudwatch_publish_configs": [{"name": "AmazonCloudWatch-linux", "config": LINUX}],
        })
        assert "cloudwatch_publish_credentials" in run.output and "controller, admin_user" in run.output
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars={
            "cloudwatch_publish_regions": REGIONS,
            "cloudwatch_publish_configs": [{"config": LINUX}],
        })
        assert "missing required arguments: name" in run.output and "cloudwatch_publish_configs" in run.output
    assert calls == []
    assert parameters(aws, "us-east-1") == {}


def test_role_entry_point_from_a_users_playbook(aws, ansible, tmp_path):
    """The role by FQCN, its variables on the include only."""
    playbook = tmp_path / "mine.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: observability.cloudwatch.config}\n"
        "      vars:\n"
        "        cloudwatch_publish_regions: [eu-west-1]\n"
        "        cloudwatch_publish_configs: [{name: AmazonCloudWatch-linux, content: '{\"agent\": {}}'}]\n"
    )
    with aws.record() as calls:
        run = ansible.playbook(playbook)
    assert run.result(ROLE + "Publish every configuration to every region")["results"][0]["changed"]
    assert parameters(aws, "eu-west-1") == {"AmazonCloudWatch-linux": 1}
    assert parameters(aws, "us-east-1") == {}
    assert operation_counts(calls) == {"GetParameter": 2, "PutParameter": 1}
