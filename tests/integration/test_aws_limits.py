# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS's documented limits, one refused input per limit, in one playbook run against the AWS emulator.

The emulator accepts most of these inputs (a 1,117-character parameter name, 16 hierarchy levels, 51 tags,
a trust policy of any size): that the account is unchanged after the run shows the modules refused them
before any call, not AWS. Each message must name the option and the limit (case-insensitive; ``a|b``
accepts either). The playbook is built as in test_bad_input.py: one block per case, its failure rescued.
"""

import json
import sys

import yaml

import iam_eval  # from tests/tools (pytest.ini pythonpath)
from refused_inputs import case_tasks, matches

ACCOUNT = "123456789012"
VALID_CONFIG = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
OIDC = "https://oidc.example.com/id/LIMITS"
ARN_PREFIX = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/"  # 45 characters: a name of 967 or more is refused
CONFIG, ROLE, USER, EXPORTER = "agent_config", "agent_iam_role", "agent_iam_user", "exporter_access"
KEY, ASSOCIATION = "access_key", "instance_profile_association"


def _config(name="AmazonCloudWatch-limits", **args):
    return dict({"name": name, "config": VALID_CONFIG}, **args)


def _files_config(count, width):
    files = [{"file_path": f"/var/log/app/{i:04d}-{'x' * width}.log", "log_group_name": f"group-{i:04d}"} for i in range(count)]
    return {"logs": {"logs_collected": {"files": {"collect_list": files}}}}


def _role(**args):
    return dict({"purpose": "server", "name": "LimitsRole"}, **args)


def _user_with_store(store, **args):
    return dict({"name": "limits-user", "purpose": "server", "access_key_state": "present", "access_key_store": store}, **args)


def _exporter(**args):
    return dict({"name": "LimitsExporter", "oidc_provider_url": OIDC, "service_account": "system:serviceaccount:a:b"}, **args)


def _tags(count):
    return {f"team-{i:02d}": "observability" for i in range(count)}


LANES = 3
GROUPS = [f"/limits/{i:03d}-{'x' * 40}" for i in range(100)]

# (id, module, arguments, what the message must contain): one case per limit.
LIMITS = [
    # -- Parameter Store: agent_config's name, description, value and tags
    ("parameter-name-with-arn-over-1011", CONFIG, _config("AmazonCloudWatch-" + "x" * (1000 - 17)), ["name", "1011"]),
    ("parameter-name-1117-characters", CONFIG, _config("AmazonCloudWatch-" + "x" * 1100), ["name", "1011"]),
    ("parameter-name-characters", CONFIG, _config("AmazonCloudWatch-linux config"), ["name", "_.-/"]),
    ("parameter-name-hierarchy-without-slash", CONFIG, _config("AmazonCloudWatch-linux/web"), ["name", "starts with /"]),
    ("parameter-name-reserved-prefix", CONFIG, _config("ssm-agent-config", allow_any_name=True), ["name", "aws or ssm"]),
    ("parameter-name-16-levels", CONFIG, _config("/" + "/".join(f"l{i}" for i in range(16)), allow_any_name=True), ["name", "15 levels"]),
    ("parameter-description-over-1024", CONFIG, _config(description="d" * 1025), ["description", "1024"]),
    ("parameter-value-over-standard-4096", CONFIG, _config(config=_files_config(60, 40), tier="Standard"), ["tier", "4096"]),
    ("parameter-value-over-advanced-8192", CONFIG, _config(config=_files_config(150, 40)), ["config", "8192"]),
    ("parameter-51-tags", CONFIG, _config(tags=_tags(51)), ["tags", "50"]),
    ("parameter-tag-key-over-128", CONFIG, _config(tags={"k" * 129: "v"}), ["tags", "128"]),
    ("parameter-tag-value-over-256", CONFIG, _config(tags={"team": "v" * 257}), ["tags", "256"]),
    ("parameter-tag-characters", CONFIG, _config(tags={"team#1": "v"}), ["tags", "_.:/=+-@"]),
    ("parameter-tag-reserved-prefix", CONFIG, _config(tags={"aws:team": "v"}), ["tags", "aws:"]),
    # -- Parameter Store: the ssm: access key store and its KMS key
    ("store-name-with-arn-over-1011", USER, _user_with_store("ssm:/" + "k" * 1000), ["access_key_store", "1011"]),
    ("store-name-16-levels", USER, _user_with_store("ssm:/" + "/".join(f"l{i}" for i in range(16))), ["access_key_store", "15 levels"]),
    ("store-name-characters", USER, _user_with_store("ssm:/keys/limits user"), ["access_key_store", "_.-/"]),
    ("store-name-reserved-prefix", USER, _user_with_store("ssm:/aws/limits-user"), ["access_key_store", "aws or ssm"]),
    ("store-kms-key-id-format", USER, _user_with_store("ssm:/keys/limits-user", kms_key_id="aws/ssm"), ["kms_key_id", "alias/NAME"]),
    # -- IAM: names, paths, descriptions, session duration, tags, ARNs
    ("role-name-over-64", ROLE, _role(name="R" * 65), ["name", "64"]),
    ("user-name-over-64", USER, {"name": "u" * 65, "purpose": "server"}, ["name", "64"]),
    ("role-name-characters", ROLE, _role(name="Limits Role"), ["name", "+=,.@_-"]),
    ("role-path-over-512", ROLE, _role(path="/" + "p" * 511 + "/"), ["path", "512"]),
    ("user-path-without-slashes", USER, {"name": "limits-user", "purpose": "server", "path": "agents"}, ["path", "begin and end with /"]),
    ("role-description-over-1000", ROLE, _role(description="d" * 1001), ["description", "1000"]),
    ("role-description-characters", ROLE, _role(description="agent \u2603 role"), ["description", "Latin-1"]),
    ("role-session-over-43200", ROLE, _role(max_session_duration=43201), ["max_session_duration", "3600", "43200"]),
    ("role-50-tags-and-the-owner-tag", ROLE, _role(tags=_tags(50)), ["tags", "50", "managed-by"]),
    ("user-tag-key-over-128", USER, {"name": "limits-user", "purpose": "server", "tags": {"k" * 129: "v"}}, ["tags", "128"]),
    ("role-tag-value-over-256", ROLE, _role(tags={"team": "v" * 257}), ["tags", "256"]),
    ("role-tag-characters", ROLE, _role(tags={"team": "obs;ops"}), ["tags", "_.:/=+-@"]),
    ("role-tag-reserved-prefix", ROLE, _role(tags={"AWS:team": "v"}), ["tags", "aws:"]),
    ("role-boundary-not-a-policy-arn", ROLE, _role(permissions_boundary="arn:aws:iam::aws:role/Boundary"), ["permissions_boundary", "arn:aws:iam::"]),
    ("role-policy-name-over-128", ROLE, _role(managed_policies=["P" * 129]), ["managed_policies", "policy name"]),
    ("key-id-format", KEY, {"user_name": "limits-user", "access_key_store": "file:{tmp}/limits.json", "retire_access_keys": ["AKIA-1"]},
     ["retire_access_keys", "16 to 128"]),
    # -- IAM: the sizes of the documents the modules write
    ("role-inline-policies-over-10240", EXPORTER, _exporter(log_group_names=GROUPS), ["log_group_names", "10240"]),
    ("user-inline-policies-over-2048", EXPORTER,
     {"name": "limits-exporter", "auth_method": "iam_user", "access_key_store": "file:{tmp}/exporter.json", "log_group_names": GROUPS[:20]},
     ["log_group_names", "2048"]),
    ("role-trust-policy-over-2048", EXPORTER,
     {"name": "LimitsExporter", "log_group_names": ["/exporters/limits"],
      "trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/shipper-{i:03d}" for i in range(60)]},
     ["trusted_role_arns", "2048"]),
    # -- CloudWatch Logs: log group names
    ("log-group-name-over-512", EXPORTER, _exporter(log_group_names=["g" * 513]), ["log_group_names", "512"]),
    ("log-group-name-characters", EXPORTER, _exporter(log_group_names=["app logs"]), ["log_group_names", "#"]),
    # -- EC2: what an instance profile association names
    ("instance-id-format", ASSOCIATION, {"instance_id": "i-XYZ", "instance_profile": "LimitsRole"}, ["instance_id", "17 hexadecimal"]),
    ("instance-profile-name-over-128", ASSOCIATION, {"instance_id": "i-0123456789abcdef0", "instance_profile": "p" * 129}, ["instance_profile", "128"]),
]


def _seed(aws):
    """What some cases aim at: an owned role and user, and a parameter, which must stay as they are."""
    iam = aws.client("iam")
    owner = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="LimitsRole", AssumeRolePolicyDocument=json.dumps(trust), Tags=owner)
    iam.create_user(UserName="limits-user", Tags=owner)
    aws.client("ssm").put_parameter(Name="AmazonCloudWatch-limits", Type="String", Value=json.dumps(VALID_CONFIG))
    aws.client("logs").create_log_group(logGroupName="limits-logs")


def _state(aws):
    state = iam_eval.account_snapshot(aws.client)
    state["associations"] = aws.client("ec2").describe_iam_instance_profile_associations()["IamInstanceProfileAssociations"]
    return state


def test_each_aws_limit_is_refused_before_any_call(aws, ansible, tmp_path):
    assert len({c[0] for c in LIMITS}) == len(LIMITS)
    _seed(aws)
    before = _state(aws)

    # The cases are dealt to LANES local hosts that run side by side (strategy free): one run, in less time.
    lanes = {case[0]: f"lane{i % LANES}" for i, case in enumerate(LIMITS)}
    tasks = []
    for case in LIMITS:
        block = case_tasks(case, tmp_path)
        block["when"] = f"inventory_hostname == '{lanes[case[0]]}'"
        tasks.append(block)
    play = [{"hosts": "lanes", "gather_facts": False, "strategy": "free", "tasks": tasks}]
    playbook = tmp_path / "aws_limits.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False, width=1000))
    inventory = tmp_path / "lanes.yml"
    lane_hosts = {f"lane{i}": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable} for i in range(LANES)}
    inventory.write_text(yaml.safe_dump({"lanes": {"hosts": lane_hosts}}))
    run = ansible.playbook(playbook, args=("-i", str(inventory), "-f", str(LANES)))

    problems = []
    for case_id, _module, _args, expect in LIMITS:
        failed = run.results(f"failed {case_id}", host=lanes[case_id])
        if not failed:
            problems.append(f"{case_id}: was not refused")
            continue
        outcome = failed[-1]["msg"]
        text = " ".join(map(str, [outcome["msg"], *outcome["errors"]])).lower()
        missing = [token for token in expect if not matches(token, text)]
        if missing:
            problems.append(f"{case_id}: message lacks {missing}: {outcome['msg']!r}")
        if str(outcome["changed"]).lower() == "true":
            problems.append(f"{case_id}: reported a change")

    assert _state(aws) == before, "a refused input changed the emulator's state; and:\n" + "\n".join(problems)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("aws_limits.yml", "lanes.yml")], "a key store was written"
    assert not problems, f"{len(problems)} of {len(LIMITS)} limits were not refused clearly:\n" + "\n".join(problems)
