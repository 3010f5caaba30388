# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, table-driven: every case fails with a message that names the offending option and what is
allowed, and changes nothing, in AWS or on the host.

The cases cover the modules (wrong types, unknown choices, names IAM rejects, malformed JSON, the
parameter prefix, an oversized configuration, missing credentials, conflicting options, policies that do
not exist, a log group of another region, log rights on no named log group, a prefix over AWS's log groups, an
OIDC provider made outside the collection that lacks the audience) and the roles' variables (argument_specs and preflight checks).
They run as one generated playbook, one block per case, so a failing case does not stop the others:
one ansible-playbook run for all of them. Before and after, the test reads the account's IAM, SSM and
Logs state (tests/tools/iam_eval.py ``account_snapshot``) and the host's agent paths, which must not differ.
The account is not empty: a role, an instance profile, a collection user with two active keys, a user the
collection did not create, a parameter and a log group exist, and some cases aim at them.

``expect`` lists what the message must contain (case-insensitive); ``a|b`` accepts either.
The role cases run the roles with ``check_mode`` applied to every task of the agent role, so a case
that wrongly got through could not install anything on this machine.
"""

import hashlib
import json
import os
from pathlib import Path

import yaml

import iam_eval  # from tests/tools (pytest.ini pythonpath)
from refused_inputs import case_tasks as _case_tasks, matches as _matches  # tests/tools

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
SUMMARY = REPO / "build" / "security" / "bad_input.json"
HOST_PATHS = ("/opt/aws", "/etc/amazon", "/root/.aws", "/etc/systemd/system/amazon-cloudwatch-agent.service")
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_SESSION_TOKEN": "",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
VALID_CONFIG = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
OIDC = "https://oidc.example.com/id/BAD"
FOREIGN_OIDC = "oidc.example.com/id/FOREIGN"  # a provider made outside the collection, seeded below


def _big_config():
    """Valid, but over the 8 KB that an Advanced parameter holds once stored as compact JSON."""
    files = [{"file_path": f"/var/log/app/{i:04d}-{'x' * 40}.log", "log_group_name": f"group-{i:04d}"} for i in range(150)]
    return {"logs": {"logs_collected": {"files": {"collect_list": files}}}}


def _exporter(**args):
    base = {"name": "BadExporter", "oidc_provider_url": OIDC, "service_account": "system:serviceaccount:a:b", "log_group_names": ["/exporters/bad"]}
    return dict(base, **args)


# (id, module or role, arguments or role variables, what the message must contain[, environment])
ROLE, USER, CONFIG, EXPORTER = "agent_iam_role", "agent_iam_user", "agent_config", "exporter_access"
AGENT, IAM = "role:agent", "role:iam"
CASES = [
    # -- agent_iam_role
    ("role-unknown-purpose", ROLE, {"purpose": "superuser"}, ["purpose", "server", "admin"]),
    ("role-name-with-spaces", ROLE, {"purpose": "server", "name": "Agent Server Role"}, ["name", "+=,.@_-"]),
    ("role-name-too-long", ROLE, {"purpose": "server", "name": "R" * 65}, ["name", "64"]),
    ("role-session-out-of-range", ROLE, {"purpose": "server", "max_session_duration": 600}, ["max_session_duration", "3600", "43200"]),
    ("role-session-wrong-type", ROLE, {"purpose": "server", "max_session_duration": "a day"}, ["max_session_duration", "int"]),
    (
        "role-policy-missing",
        ROLE,
        {"purpose": "server", "managed_policies": [f"arn:aws:iam::{ACCOUNT}:policy/NoSuchPolicy"]},
        ["NoSuchPolicy", "not exist|not found"],
    ),
    ("role-policy-not-arn", ROLE, {"purpose": "server", "managed_policies": ["arn:aws:s3:::bucket"]}, ["managed_policies", "arn:aws:iam::"]),
    ("role-bad-path", ROLE, {"purpose": "server", "path": "no-slashes"}, ["path", "/"]),
    (
        "role-boundary-missing",
        ROLE,
        {"purpose": "server", "permissions_boundary": f"arn:aws:iam::{ACCOUNT}:policy/NoBoundary"},
        ["permissions_boundary|NoBoundary", "not exist|not found"],
    ),
    ("role-reserved-tag", ROLE, {"purpose": "server", "tags": {"aws:owner": "me"}}, ["tags", "aws:"]),
    ("role-tags-wrong-type", ROLE, {"purpose": "server", "tags": ["team=obs"]}, ["tags", "dict"]),
    ("role-unknown-state", ROLE, {"purpose": "server", "state": "deleted"}, ["state", "present", "absent"]),
    ("role-profile-taken", ROLE, {"purpose": "server", "name": "TakenProfile"}, ["instance profile|instance_profile", "SeededRole"]),
    ("role-description-too-long", ROLE, {"purpose": "server", "description": "d" * 1001}, ["description", "1000"]),
    ("role-no-credentials", ROLE, {"purpose": "server"}, ["credentials"], NO_CREDENTIALS),
    ("role-unknown-option", ROLE, {"purpose": "server", "policies": ["x"]}, ["policies", "managed_policies"]),
    ("role-unowned", ROLE, {"purpose": "server", "name": "SeededRole"}, ["SeededRole", "managed-by=observability.cloudwatch", "adopt=true"]),
    (
        "role-unowned-replace-trust",
        ROLE,
        {"purpose": "server", "name": "SeededRole", "replace_trust_policy": True, "instance_profile": False},
        ["SeededRole", "adopt=true"],
    ),
    ("role-adopt-wrong-type", ROLE, {"purpose": "server", "adopt": "perhaps"}, ["adopt", "bool"]),
    ("role-administrator-access", ROLE, {"purpose": "server", "managed_policies": ["AdministratorAccess"]}, ["managed_policies", "allow_broad_policies"]),
    (
        "role-scoped-embedded-metrics",
        ROLE,
        {"purpose": "server", "scoped_policy": {"configs": [{"name": "AmazonCloudWatch-emf", "config": {"logs": {"metrics_collected": {"emf": {}}}}}]}},
        ["scoped_policy", "logs.metrics_collected"],
    ),
    ("user-full-access", USER, {"name": "bad-user", "purpose": "server", "managed_policies": ["IAMFullAccess"]}, ["managed_policies", "allow_broad_policies"]),
    # -- agent_iam_user
    ("user-missing-purpose", USER, {"name": "bad-user"}, ["purpose", "server|missing|required"]),
    ("user-name-too-long", USER, {"name": "u" * 65, "purpose": "server"}, ["name", "64"]),
    ("user-name-with-slash", USER, {"name": "ops/agent", "purpose": "server"}, ["name", "+=,.@_-"]),
    ("user-key-without-store", USER, {"name": "bad-user", "purpose": "server", "access_key_state": "present"}, ["access_key_store"]),
    (
        "user-store-unknown-scheme",
        USER,
        {"name": "bad-user", "purpose": "server", "access_key_state": "present", "access_key_store": "s3:bucket/key"},
        ["access_key_store", "ssm:", "file:"],
    ),
    (
        "user-store-agent-prefix",
        USER,
        {"name": "bad-user", "purpose": "server", "access_key_state": "present", "access_key_store": "ssm:AmazonCloudWatch-keys"},
        ["access_key_store|ssm:", "AmazonCloudWatch-"],
    ),
    (
        "user-store-not-writable",
        USER,
        {"name": "bad-user", "purpose": "server", "access_key_state": "present", "access_key_store": "file:/proc/no-such-dir/key.json"},
        ["access_key_store|/proc/no-such-dir"],
    ),
    ("user-unknown-key-state", USER, {"name": "bad-user", "purpose": "server", "access_key_state": "renew"}, ["access_key_state", "rotate"]),
    (
        "user-rotate-two-active",
        USER,
        {"name": "seeded-user", "purpose": "server", "access_key_state": "rotate", "access_key_store": "file:{tmp}/seeded.json"},
        ["active", "two|2"],
    ),
    ("user-policy-missing", USER, {"name": "bad-user", "purpose": "server", "managed_policies": ["NoSuchPolicy"]}, ["NoSuchPolicy", "not exist|not found"]),
    ("user-no-credentials", USER, {"name": "bad-user", "purpose": "server"}, ["credentials"], NO_CREDENTIALS),
    ("user-unowned", USER, {"name": "hand-made-user", "purpose": "server"}, ["hand-made-user", "managed-by=observability.cloudwatch", "adopt=true"]),
    # -- agent_config
    ("config-no-prefix", CONFIG, {"name": "my-agent-config", "config": VALID_CONFIG}, ["name|my-agent-config", "AmazonCloudWatch-"]),
    ("config-malformed-json", CONFIG, {"name": "AmazonCloudWatch-bad", "content": '{"metrics": {'}, ["content|JSON", "JSON"]),
    ("config-json-not-object", CONFIG, {"name": "AmazonCloudWatch-bad", "content": "[1, 2]"}, ["object"]),
    (
        "config-negative-interval",
        CONFIG,
        {"name": "AmazonCloudWatch-seed", "config": {"agent": {"metrics_collection_interval": -5}}},
        ["agent.metrics_collection_interval"],
    ),
    (
        "config-missing-file-path",
        CONFIG,
        {"name": "AmazonCloudWatch-bad", "config": {"logs": {"logs_collected": {"files": {"collect_list": [{"log_group_name": "g"}]}}}}},
        ["collect_list[0]", "file_path"],
    ),
    (
        "config-bad-retention",
        CONFIG,
        {
            "name": "AmazonCloudWatch-bad",
            "config": {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/var/log/x", "log_group_name": "g", "retention_in_days": 42}]}}}},
        },
        ["retention_in_days", "365"],
    ),
    # The agent ignores unknown top-level keys (a warning); inside its closed sections they are errors.
    ("config-unknown-key", CONFIG, {"name": "AmazonCloudWatch-bad", "config": {"logs": {"logs_colected": {}}}}, ["logs.logs_colected"]),
    ("config-oversized", CONFIG, {"name": "AmazonCloudWatch-bad", "config": _big_config()}, ["8"]),
    ("config-unknown-tier", CONFIG, {"name": "AmazonCloudWatch-bad", "config": VALID_CONFIG, "tier": "Premium"}, ["tier", "Advanced"]),
    ("config-and-content", CONFIG, {"name": "AmazonCloudWatch-bad", "config": VALID_CONFIG, "content": "{}"}, ["mutually exclusive", "config", "content"]),
    ("config-nothing-to-publish", CONFIG, {"name": "AmazonCloudWatch-bad"}, ["config", "content"]),
    ("config-no-credentials", CONFIG, {"name": "AmazonCloudWatch-bad", "config": VALID_CONFIG}, ["credentials"], NO_CREDENTIALS),
    # -- exporter_access
    ("exporter-unknown-auth", EXPORTER, _exporter(auth_method="password"), ["auth_method", "iam_role", "iam_user"]),
    ("exporter-no-trust", EXPORTER, {"name": "BadExporter"}, ["oidc_provider_url|oidc_provider_arn|trusted_role_arns"]),
    ("exporter-oidc-without-subject", EXPORTER, _exporter(service_account=None), ["subject", "service_account", "allow_any_subject"]),
    (
        "exporter-public-issuer-any-subject",
        EXPORTER,
        _exporter(service_account=None, oidc_provider_url="https://token.actions.githubusercontent.com", allow_any_subject=True),
        ["token.actions.githubusercontent.com", "subject"],
    ),
    (
        "exporter-other-account-without-external-id",
        EXPORTER,
        {"name": "BadExporter", "trusted_role_arns": ["arn:aws:iam::210987654321:role/shipper"], "data_types": ["traces"]},
        ["trusted_role_arns", "external_id", "principal_org_id"],
    ),
    ("exporter-plain-http-issuer", EXPORTER, _exporter(oidc_provider_url="http://oidc.example.com/id/BAD"), ["oidc_provider_url", "https"]),
    (
        "exporter-group-other-region",
        EXPORTER,
        _exporter(log_group_names=[f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:seeded-logs"]),
        ["log_group_names|log group", "region", "eu-west-1|us-east-1"],
    ),
    (
        "exporter-bad-retention",
        EXPORTER,
        _exporter(log_group_names=["g"], create_log_groups=True, log_group_retention_days=42),
        ["log_group_retention_days", "365"],
    ),
    ("exporter-unknown-data-type", EXPORTER, _exporter(data_types=["logs", "profiles"]), ["data_types", "metrics"]),
    ("exporter-trust-not-arn", EXPORTER, {"name": "BadExporter", "trusted_role_arns": ["exporter-role"]}, ["trusted_role_arns", "arn:"]),
    (
        "exporter-provider-missing",
        EXPORTER,
        {"name": "BadExporter", "oidc_provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/nowhere.example.com",
         "service_account": "system:serviceaccount:a:b", "log_group_names": ["/exporters/bad"]},
        ["oidc_provider_arn|nowhere.example.com", "not exist|not found|no such"],
    ),
    (
        "exporter-url-and-arn",
        EXPORTER,
        _exporter(oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.example.com/id/BAD"),
        ["mutually exclusive|only one|one of", "oidc_provider_url", "oidc_provider_arn"],
    ),
    ("exporter-user-without-store", EXPORTER, {"name": "bad-exporter-user", "auth_method": "iam_user"}, ["access_key_store"]),
    ("exporter-store-with-role", EXPORTER, _exporter(access_key_store="file:{tmp}/exporter.json"), ["access_key_store", "iam_user"]),
    ("exporter-name-with-spaces", EXPORTER, _exporter(name="Bad Exporter"), ["name", "+=,.@_-"]),
    ("exporter-unowned-role", EXPORTER, _exporter(name="SeededRole"), ["SeededRole", "managed-by=observability.cloudwatch", "adopt=true"]),
    (
        "exporter-unowned-user",
        EXPORTER,
        {"name": "hand-made-user", "auth_method": "iam_user", "access_key_store": "file:{tmp}/exporter.json", "log_group_names": ["/x"]},
        ["hand-made-user", "adopt=true"],
    ),
    (
        "exporter-user-replace-trust",
        EXPORTER,
        {"name": "bad-exporter-user", "auth_method": "iam_user", "access_key_store": "file:{tmp}/exporter.json", "replace_trust_policy": True},
        ["replace_trust_policy", "iam_role"],
    ),
    (
        "exporter-logs-without-log-groups",
        EXPORTER,
        _exporter(log_group_names=None),
        ["log_group_names", "log_group_prefix", "allow_all_log_groups", "cloudtrail"],
    ),
    ("exporter-prefix-covers-aws", EXPORTER, _exporter(log_group_prefix="/aws/"), ["log_group_prefix", "/aws/"]),
    ("exporter-prefix-wildcard", EXPORTER, _exporter(log_group_prefix="/exporters/*"), ["log_group_prefix", "wildcard"]),
    ("exporter-namespaces-without-metrics", EXPORTER, _exporter(metric_namespaces=["ManagedDB"]), ["metric_namespaces", "metrics"]),
    (
        "exporter-namespace-of-aws",
        EXPORTER,
        _exporter(data_types=["metrics"], metric_namespaces=["AWS/RDS"]),
        ["metric_namespaces", "AWS/"],
    ),
    (
        "exporter-foreign-provider-audience",
        EXPORTER,
        _exporter(oidc_provider_url="https://" + FOREIGN_OIDC),
        [FOREIGN_OIDC, "sts.amazonaws.com", "vendor-client", "add-client-id-to-open-id-connect-provider"],
    ),
    # -- role observability.cloudwatch.agent (variables; runs in check mode on this machine)
    ("agent-unknown-mode", AGENT, {"cloudwatch_agent_mode": "cloud"}, ["cloudwatch_agent_mode", "onPremise"]),
    ("agent-unknown-source", AGENT, {"cloudwatch_agent_config_source": "s3"}, ["cloudwatch_agent_config_source", "inline"]),
    ("agent-unknown-fetch", AGENT, {"cloudwatch_agent_ssm_fetch": "everyone"}, ["cloudwatch_agent_ssm_fetch", "controller"]),
    ("agent-unknown-state", AGENT, {"cloudwatch_agent_state": "stopped"}, ["cloudwatch_agent_state", "absent"]),
    (
        "agent-config-wrong-type",
        AGENT,
        {"cloudwatch_agent_config_source": "inline", "cloudwatch_agent_config": "metrics: on"},
        ["cloudwatch_agent_config", "dict"],
    ),
    ("agent-retries-wrong-type", AGENT, {"cloudwatch_agent_imds_retries": "many"}, ["cloudwatch_agent_imds_retries", "int"]),
    (
        "agent-sandbox-write-path",
        AGENT,
        {
            "cloudwatch_agent_mode": "ec2",
            "cloudwatch_agent_config_source": "inline",
            "cloudwatch_agent_config": VALID_CONFIG,
            "cloudwatch_agent_sandbox_write_paths": ["var/log/app"],
        },
        ["cloudwatch_agent_sandbox_write_paths", "absolute paths", "cloudwatch_agent_sandbox: false"],
    ),
    ("agent-unknown-verify", AGENT, {"cloudwatch_agent_package_verify": "md5"}, ["cloudwatch_agent_package_verify", "sha256"]),
    (
        "agent-parameter-prefix",
        AGENT,
        {"cloudwatch_agent_mode": "ec2", "cloudwatch_agent_config_source": "ssm", "cloudwatch_agent_ssm_parameters": ["linux-config"]},
        ["cloudwatch_agent_ssm_parameters", "AmazonCloudWatch-"],
    ),
    (
        "agent-onprem-without-credentials",
        AGENT,
        {
            "cloudwatch_agent_mode": "onPremise",
            "cloudwatch_agent_config_source": "ssm",
            "cloudwatch_agent_ssm_parameters": ["AmazonCloudWatch-seed"],
            "cloudwatch_agent_region": "us-east-1",
        },
        ["cloudwatch_agent_access_key_store", "cloudwatch_agent_credentials"],
    ),
    (
        "agent-key-store-scheme",
        AGENT,
        {
            "cloudwatch_agent_mode": "onPremise",
            "cloudwatch_agent_config_source": "ssm",
            "cloudwatch_agent_ssm_parameters": ["AmazonCloudWatch-seed"],
            "cloudwatch_agent_region": "us-east-1",
            "cloudwatch_agent_access_key_store": "vault:agent-key",
        },
        ["cloudwatch_agent_access_key_store", "ssm:"],
    ),
    (
        "agent-package-file-missing",
        AGENT,
        {
            "cloudwatch_agent_mode": "ec2",
            "cloudwatch_agent_config_source": "ssm",
            "cloudwatch_agent_ssm_parameters": ["AmazonCloudWatch-seed"],
            "cloudwatch_agent_package_file": "/nonexistent/amazon-cloudwatch-agent.deb",
            "cloudwatch_agent_version": "1.300069.0b1529",
            "cloudwatch_agent_package_verify": "none",
        },
        ["cloudwatch_agent_package_file", "not found|does not exist"],
    ),
    (
        "agent-allowed-log-paths-relative",
        AGENT,
        {"cloudwatch_agent_mode": "ec2", "cloudwatch_agent_config_source": "ssm", "cloudwatch_agent_ssm_parameters": ["AmazonCloudWatch-seed"],
         "cloudwatch_agent_allowed_log_paths": ["var/log/**"]},
        ["cloudwatch_agent_allowed_log_paths", "absolute globs"],
    ),
    (
        "agent-config-collects-outside-allowed",
        AGENT,
        {"cloudwatch_agent_mode": "ec2", "cloudwatch_agent_config_source": "inline",
         "cloudwatch_agent_config": {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/root/notes.log"}]}}}}},
        ["cloudwatch_agent_config: logs.logs_collected.files.collect_list[0].file_path", "/root/notes.log", "cloudwatch_agent_allowed_log_paths"],
    ),
    # -- role observability.cloudwatch.iam (variables)
    ("iam-unknown-state", IAM, {"cloudwatch_iam_state": "gone"}, ["cloudwatch_iam_state", "absent"]),
    ("iam-role-unknown-purpose", IAM, {"cloudwatch_iam_roles": [{"purpose": "root"}]}, ["purpose", "server"]),
    ("iam-users-not-dicts", IAM, {"cloudwatch_iam_users": ["cw-user"]}, ["cloudwatch_iam_users", "dict"]),
    (
        "iam-user-store-scheme",
        IAM,
        {"cloudwatch_iam_roles": [], "cloudwatch_iam_users": [{"name": "cw-user", "access_key_store": "s3:bucket/key"}]},
        ["access_key_store", "ssm:"],
    ),
    (
        "iam-exporter-unknown-auth",
        IAM,
        {"cloudwatch_iam_roles": [], "cloudwatch_iam_exporters": [{"name": "e", "auth_method": "password"}]},
        ["auth_method", "iam_role"],
    ),
    (
        "iam-exporter-logs-without-log-groups",
        IAM,
        {"cloudwatch_iam_roles": [], "cloudwatch_iam_exporters": [{"name": "e", "trusted_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/a"]}]},
        ["log_group_names", "log_group_prefix", "allow_all_log_groups"],
    ),
    ("iam-max-age-wrong-type", IAM, {"cloudwatch_iam_key_max_age_days": "old"}, ["cloudwatch_iam_key_max_age_days", "int"]),
    ("iam-role-unowned", IAM, {"cloudwatch_iam_roles": [{"purpose": "server", "name": "SeededRole"}]}, ["SeededRole", "cloudwatch_iam_adopt"]),
    ("iam-adopt-wrong-type", IAM, {"cloudwatch_iam_adopt": "perhaps"}, ["cloudwatch_iam_adopt", "bool"]),
]


def _seed(aws, tmp):
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="SeededRole", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="TakenProfile")
    iam.add_role_to_instance_profile(InstanceProfileName="TakenProfile", RoleName="SeededRole")
    iam.create_user(UserName="seeded-user", Tags=[{"Key": "managed-by", "Value": "observability.cloudwatch"}])
    iam.create_user(UserName="hand-made-user")
    iam.attach_user_policy(UserName="hand-made-user", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.attach_user_policy(UserName="seeded-user", PolicyArn="arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy")
    first = iam.create_access_key(UserName="seeded-user")["AccessKey"]
    iam.create_access_key(UserName="seeded-user")
    (tmp / "seeded.json").write_text(json.dumps({"access_key_id": first["AccessKeyId"], "secret_access_key": first["SecretAccessKey"]}))
    (tmp / "seeded.json").chmod(0o600)
    aws.client("ssm").put_parameter(Name="AmazonCloudWatch-seed", Type="String", Value=json.dumps(VALID_CONFIG))
    aws.client("logs").create_log_group(logGroupName="seeded-logs")
    iam.create_open_id_connect_provider(Url="https://" + FOREIGN_OIDC, ClientIDList=["vendor-client"], ThumbprintList=["a" * 40])
    aws.client("logs", region_name="eu-west-1").create_log_group(logGroupName="seeded-logs")


def _host_state():
    """Every file under the agent's paths on this machine, with its digest and mode."""
    state = {}
    for root in HOST_PATHS:
        if not os.path.lexists(root):
            continue
        paths = [root] if not os.path.isdir(root) else [os.path.join(d, f) for d, _dirs, fs in os.walk(root) for f in fs] + [root]
        for path in paths:
            stat = os.lstat(path)
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if os.path.isfile(path) else None
            state[path] = (stat.st_mode, digest)
    return state


def _files(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir() if p.is_file()}


def test_bad_input_fails_clearly_and_changes_nothing(aws, ansible, tmp_path):
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
    _seed(aws, tmp_path)
    regions = ("us-east-1", "eu-west-1")
    before = iam_eval.account_snapshot(aws.client, regions=regions)
    host_before = _host_state()
    stores_before = _files(tmp_path)

    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [_case_tasks(case, tmp_path) for case in CASES]}]
    playbook = tmp_path / "bad_input.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False, width=1000))
    run = ansible.playbook(playbook)

    problems = []
    for case in CASES:
        case_id, expect = case[0], case[3]
        failed = run.results(f"failed {case_id}")
        if not failed:
            problems.append(f"{case_id}: did not fail")
            continue
        outcome = failed[-1]["msg"]
        text = " ".join(map(str, [outcome["msg"], *outcome["errors"], *outcome["items"]])).lower()
        missing = [token for token in expect if not _matches(token, text)]
        if missing:
            problems.append(f"{case_id}: message lacks {missing}: {outcome['msg']!r} (in task {outcome['task']!r})")
        if str(outcome["changed"]).lower() == "true":
            problems.append(f"{case_id}: reported a change")

    after = iam_eval.account_snapshot(aws.client, regions=regions)
    assert after == before, "a bad input changed AWS"
    assert _host_state() == host_before, "a bad input changed this host's agent files"
    stores_after = _files(tmp_path)
    stores_after.pop("bad_input.yml")
    assert stores_after == stores_before, "a key store was written"
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(
        json.dumps(
            {
                "cases": len(CASES),
                "by_target": {t: sum(1 for c in CASES if c[1] == t) for t in sorted({c[1] for c in CASES})},
                "failed_clearly": len(CASES) - len(problems),
            },
            indent=2,
        )
        + "\n"
    )
    assert not problems, f"{len(problems)} of {len(CASES)} bad inputs were not handled:\n" + "\n".join(problems)
