# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability.cloudwatch.publish_config playbook against the moto server."""

import json
import os

import fault_proxy  # from tests/tools (pytest.ini pythonpath)
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


ADMIN = "cloudwatch-admin"
GRANT_TAG = "cloudwatch-admin-grant"


def admin_user(aws):
    """The on-premises admin user as agent_iam_user leaves it: the admin policy, no access key."""
    iam = aws.client("iam")
    iam.create_user(UserName=ADMIN)
    iam.attach_user_policy(UserName=ADMIN, PolicyArn=ADMIN_POLICY)


def admin_keys(aws):
    return [k["AccessKeyId"] for k in aws.client("iam").list_access_keys(UserName=ADMIN)["AccessKeyMetadata"]]


def admin_tags(aws):
    return {t["Key"]: t["Value"] for t in aws.client("iam").list_user_tags(UserName=ADMIN)["Tags"]}


def admin_vars(*configs, **extra):
    variables = {
        "cloudwatch_publish_regions": REGIONS,
        "cloudwatch_publish_credentials": "admin_user",
        "cloudwatch_publish_admin_user": ADMIN,
        "cloudwatch_publish_configs": list(configs) or [{"name": "AmazonCloudWatch-linux", "config": LINUX}],
    }
    variables.update(extra)
    return variables


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
    published = run.result(ROLE + "Publish every changed configuration to every region")["results"]
    assert [r["changed"] for r in published] == [True] * 4
    assert all(c["access_key_id"] == aws.env["AWS_ACCESS_KEY_ID"] for c in calls)
    # Every configuration validated and compared in every region first, then read and written; each of those
    # runs, having a change to make, reads the caller once (allow_root).
    assert operation_counts(calls) == {"GetParameter": 8, "GetCallerIdentity": 8, "PutParameter": 4}

    again = ansible.playbook(PLAYBOOK, extra_vars=extra_vars)
    assert again.stats["localhost"]["changed"] == 0
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


def test_admin_user_has_a_key_only_while_publishing(aws, ansible):
    admin_user(aws)
    controller = aws.env["AWS_ACCESS_KEY_ID"]
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=admin_vars())
    for region in REGIONS:
        assert parameters(aws, region) == {"AmazonCloudWatch-linux": 1}
    # Published with a key made for this publish, which no longer exists.
    created = [c for c in calls if c["operation"] == "CreateAccessKey"]
    writes = [c for c in calls if c["operation"] == "PutParameter"]
    assert len(created) == 1 and len(writes) == 2
    (publish_key,) = {c["access_key_id"] for c in writes}
    assert publish_key != controller
    assert admin_keys(aws) == [] and GRANT_TAG not in admin_tags(aws)
    # The controller reads and compares, grants, makes and deletes the key: every IAM call is its own.
    assert {c["access_key_id"] for c in calls if c["operation"] in ("CreateAccessKey", "DeleteAccessKey", "PutUserPolicy")} == {controller}
    assert {c["access_key_id"] for c in calls if c["operation"] == "GetParameter"} == {controller, publish_key}
    # The key lived in a private directory, removed in the same run.
    key_dir = run.result(ROLE + "Make a private directory for this publish's admin key")
    assert key_dir["mode"] == "0700" and not os.path.exists(key_dir["path"])
    assert run.result(ROLE + "Take the admin user's rights, for a bounded time")["grant"]["holder"]


def test_nothing_to_publish_takes_no_admin_rights(aws, ansible):
    admin_user(aws)
    ansible.playbook(PLAYBOOK, extra_vars=admin_vars())
    with aws.record() as calls:
        again = ansible.playbook(PLAYBOOK, extra_vars=admin_vars())
    assert again.stats["localhost"]["changed"] == 0
    # Reads only, all with the controller's credentials: the grant's state, then each parameter.
    assert operation_counts(calls) == {"GetUser": 1, "GetUserPolicy": 1, "ListAccessKeys": 1, "GetParameter": 2}
    assert {c["access_key_id"] for c in calls} == {aws.env["AWS_ACCESS_KEY_ID"]}
    assert "no admin rights were taken" in again.result(ROLE + "Report that nothing had to be published")["msg"]


def test_an_invalid_configuration_takes_no_admin_rights(aws, ansible):
    admin_user(aws)
    with aws.record() as calls:
        ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=admin_vars({"name": "AmazonCloudWatch-broken", "config": INVALID}))
    assert not {"CreateAccessKey", "TagUser", "PutParameter"} & set(operation_counts(calls))
    assert parameters(aws, "us-east-1") == {}


def test_a_publish_that_fails_still_ends_the_rights_and_deletes_the_key(aws, ansible):
    admin_user(aws)
    # AWS refuses the write for good: the run fails, and cleans up.
    refused = fault_proxy.Burst("error", count=2, operations=("PutParameter",), code="ValidationException")
    with fault_proxy.FaultProxy(aws.url, [refused]) as proxy:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=admin_vars(), env={"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url})
    assert proxy.injected_total("error") >= 1
    assert run.result(ROLE + "Take the admin user's rights, for a bounded time")["changed"]
    assert run.result(ROLE + "End the admin user's rights and delete its key")["changed"]
    assert admin_keys(aws) == [] and GRANT_TAG not in admin_tags(aws)
    assert not os.path.exists(run.result(ROLE + "Make a private directory for this publish's admin key")["path"])


def test_a_publish_waits_while_iam_applies_the_grant(aws, ansible):
    admin_user(aws)
    # The deny of the last grant still holds for the first write with the new key.
    denied = fault_proxy.Burst("error", count=1, operations=("PutParameter",), code="AccessDeniedException")
    with fault_proxy.FaultProxy(aws.url, [denied]) as proxy:
        run = ansible.playbook(PLAYBOOK, extra_vars=admin_vars(), env={"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url})
    assert proxy.injected_total("error") == 1
    published = run.result(ROLE + "Publish every changed configuration to every region")["results"]
    assert [r["changed"] for r in published] == [True, True]
    assert admin_keys(aws) == []


def test_check_mode_says_what_would_change_and_takes_no_admin_rights(aws, ansible):
    admin_user(aws)
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=admin_vars(), check=True)
    checked = run.result(ROLE + "Validate every configuration in every region")["results"]
    assert [r["changed"] for r in checked] == [True, True]
    # Reads only: the validation of a change reads the caller as well (allow_root), in check mode too.
    assert set(operation_counts(calls)) <= {"GetUser", "GetUserPolicy", "ListAccessKeys", "GetParameter", "GetCallerIdentity"}
    assert admin_keys(aws) == [] and parameters(aws, "us-east-1") == {}


def test_a_live_grant_of_another_run_is_named_and_left_alone(aws, ansible):
    admin_user(aws)
    other = ansible.module("observability.cloudwatch.admin_grant", {"user_name": ADMIN, "holder": "ops@other-controller 1"})
    run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=admin_vars(cloudwatch_publish_grant_wait_seconds=0))
    assert f"granted to ops@other-controller 1 until {other['grant']['expires']}" in run.output
    assert admin_tags(aws)[GRANT_TAG] == f"ops@other-controller 1 until {other['grant']['expires']}"
    assert parameters(aws, "us-east-1") == {}


def test_the_old_stored_key_variables_are_refused_with_what_to_do(aws, ansible):
    admin_user(aws)
    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, expect_failure=True, extra_vars=admin_vars(cloudwatch_publish_admin_key_store="ssm:/old"))
    assert "cloudwatch_publish_admin_key_store and cloudwatch_publish_key_wait_retries are no longer used" in run.output
    assert calls == []


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
    assert run.result(ROLE + "Publish every changed configuration to every region")["results"][0]["changed"]
    assert parameters(aws, "eu-west-1") == {"AmazonCloudWatch-linux": 1}
    assert parameters(aws, "us-east-1") == {}
    assert operation_counts(calls) == {"GetParameter": 2, "GetCallerIdentity": 2, "PutParameter": 1}
