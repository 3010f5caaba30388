# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_iam_user against the moto server."""

import json
import stat
from pathlib import Path

import yaml

from local_aws import operation_counts  # from tests/tools (pytest.ini pythonpath)

MODULE = "observability.cloudwatch.agent_iam_user"
PLAYBOOK = Path(__file__).parent / "playbooks" / "iam_agent_user.yml"
SERVER_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
OWNER = {"managed-by": "observability.cloudwatch"}
USER = "cw-agent-onprem"


def keys_of(iam, user=USER):
    return [(k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]


def stored(aws, name):
    parameter = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return parameter["Type"], json.loads(parameter["Value"])


def run_tasks(ansible, tmp_path, tasks, **kwargs):
    """One playbook run of several tasks of MODULE that may fail: ``tasks`` is a list of (name, args)."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": name, MODULE: args, "ignore_errors": True} for name, args in tasks],
        }
    ]
    path = tmp_path / "tasks.yml"
    path.write_text(yaml.safe_dump(play))
    return ansible.playbook(path, **kwargs)


def test_four_step_drill_with_a_file_store(aws, ansible, tmp_path):
    iam = aws.client("iam")
    store = tmp_path / "keys" / "agent.json"
    store.parent.mkdir()
    extra = {"user_name": USER, "user_access_key_store": f"file:{store}", "user_tags": {"env": "lab"}}

    check = ansible.playbook(PLAYBOOK, extra_vars=extra, check=True).result("Report the outcome without the secret")
    assert check["msg"]["changed"] is True
    assert iam.list_users()["Users"] == [] and not store.exists()

    with aws.record() as calls:
        run = ansible.playbook(PLAYBOOK, extra_vars=extra)
    outcome = run.result("Report the outcome without the secret")["msg"]
    assert outcome["changed"] is True
    record = json.loads(store.read_text())
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert set(record) == {"access_key_id", "secret_access_key", "user_name", "created"}
    assert record["user_name"] == USER and outcome["created_key_id"] == record["access_key_id"]
    assert keys_of(iam) == [(record["access_key_id"], "Active")]
    assert record["secret_access_key"] not in run.output, "the result (shown, no no_log) holds no secret"
    assert outcome["user"]["attached_policies"] == [SERVER_POLICY]
    assert outcome["user"]["tags"] == dict(OWNER, env="lab")
    assert operation_counts(calls) == {"GetUser": 1, "GetCallerIdentity": 2, "CreateUser": 1, "AttachUserPolicy": 1, "CreateAccessKey": 1}
    assert calls[-1]["access_key_id"] == record["access_key_id"], "the wait signs with the new key"

    with aws.record() as calls:
        again = ansible.playbook(PLAYBOOK, extra_vars=extra, check=True).result("Report the outcome without the secret")
    assert again["msg"]["changed"] is False
    assert operation_counts(calls) == {"GetUser": 1, "ListAttachedUserPolicies": 1, "ListAccessKeys": 1}

    with aws.record() as calls:
        noop = ansible.playbook(PLAYBOOK, extra_vars=extra).result("Report the outcome without the secret")
    assert noop["msg"]["changed"] is False
    assert noop["msg"]["created_key_id"] is None
    assert operation_counts(calls) == {"GetUser": 1, "ListAttachedUserPolicies": 1, "ListAccessKeys": 1}
    assert json.loads(store.read_text()) == record


def test_ssm_store_is_a_secure_string_and_call_counts(aws, ansible, store_key):
    args = {
        "name": USER,
        "purpose": "server",
        "access_key_state": "present",
        "access_key_store": "ssm:/cloudwatch-agent/keys/onprem",
        "kms_key_id": store_key,
    }
    with aws.record() as calls:
        created = ansible.module(MODULE, args)
    kind, record = stored(aws, "/cloudwatch-agent/keys/onprem")
    assert kind == "SecureString"
    assert record["access_key_id"] == created["access_key_id"]
    assert record["secret_access_key"] not in json.dumps(created), "the secret is in the store only"
    described = aws.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/cloudwatch-agent/keys/onprem"]}])["Parameters"]
    assert described[0]["KeyId"] == store_key
    assert operation_counts(calls) == {
        "GetUser": 1,
        "GetParameter": 1,
        "DescribeKey": 1,
        "GetCallerIdentity": 2,
        "CreateUser": 1,
        "AttachUserPolicy": 1,
        "CreateAccessKey": 1,
        "PutParameter": 1,
    }
    assert created["user"]["attached_policies"] == ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"]

    with aws.record() as calls:
        noop = ansible.module(MODULE, args)
    assert noop["changed"] is False and "access_key_id" not in noop
    assert operation_counts(calls) == {"GetUser": 1, "ListAttachedUserPolicies": 1, "ListAccessKeys": 1, "GetParameter": 1}


def test_rotate_keeps_the_old_key_then_retire(aws, ansible, iam_snapshot, tmp_path, store_key):
    iam = aws.client("iam")
    store = f"ssm:/agent/{USER}"
    base = {"name": USER, "purpose": "server", "access_key_store": store, "kms_key_id": store_key}
    first = ansible.module(MODULE, dict(base, access_key_state="present"))["access_key_id"]

    rotated = ansible.module(MODULE, dict(base, access_key_state="rotate"))
    new = rotated["access_key_id"]
    assert rotated["changed"] is True and new != first
    assert rotated["previous_access_key_ids"] == [first]
    assert sorted(keys_of(iam)) == sorted([(first, "Active"), (new, "Active")])
    assert stored(aws, f"/agent/{USER}")[1]["access_key_id"] == new

    # The old key beside the stored one is a rotation under way: rotate makes no third key, and retiring the
    # key in the store fails; neither changes anything.
    before = iam_snapshot()
    run = run_tasks(
        ansible,
        tmp_path,
        [
            ("rotate", dict(base, access_key_state="rotate")),
            ("retire stored", dict(base, retire_access_keys=[new])),
        ],
    )
    assert run.result("rotate")["changed"] is False and run.result("rotate")["previous_access_key_ids"] == [first]
    assert f"retire_access_keys lists {new}, the key held in the access key store" in run.result("retire stored")["msg"]
    assert iam_snapshot() == before
    assert stored(aws, f"/agent/{USER}")[1]["access_key_id"] == new

    retired = ansible.module(MODULE, dict(base, retire_access_keys=[first]))
    assert retired["changed"] is True
    assert keys_of(iam) == [(new, "Active")]
    assert ansible.module(MODULE, dict(base, retire_access_keys=[first]))["changed"] is False

    # A user whose only key was deactivated gets a new one, and the inactive key stays until retired.
    iam.update_access_key(UserName=USER, AccessKeyId=new, Status="Inactive")
    third = ansible.module(MODULE, dict(base, access_key_state="rotate"))
    assert third["previous_access_key_ids"] == [new]
    assert sorted(keys_of(iam)) == sorted([(new, "Inactive"), (third["access_key_id"], "Active")])


def test_a_stored_key_is_never_moved_to_another_kms_key(aws, ansible, iam_snapshot, store_key):
    ssm = aws.client("ssm")
    base = {"name": USER, "purpose": "server", "access_key_store": f"ssm:/agent/{USER}"}
    first = ansible.module(MODULE, dict(base, access_key_state="present", kms_key_id=store_key))["access_key_id"]
    other_key = aws.client("kms").create_key(Description="another key")["KeyMetadata"]["Arn"]
    before = iam_snapshot()
    # Another customer key, and dropping kms_key_id for the account's aws/ssm key: neither rotation starts.
    for args in ({"kms_key_id": other_key}, {"allow_aws_managed_kms_key": True}):
        failed = ansible.module(MODULE, dict(base, access_key_state="rotate", **args), expect_failure=True)
        assert f"ssm:/agent/{USER} is encrypted with KMS key {store_key}" in failed["msg"], args
        assert f"Set kms_key_id to {store_key}" in failed["msg"]
    assert iam_snapshot() == before
    assert ssm.describe_parameters()["Parameters"][0]["KeyId"] == store_key
    assert stored(aws, f"/agent/{USER}")[1]["access_key_id"] == first


def test_present_with_an_active_key_not_in_the_store(aws, ansible, iam_snapshot, tmp_path):
    ansible.module(MODULE, {"name": USER, "purpose": "server"})
    aws.client("iam").create_access_key(UserName=USER)
    before = iam_snapshot()
    failed = ansible.module(
        MODULE,
        {"name": USER, "purpose": "server", "access_key_state": "present", "access_key_store": f"file:{tmp_path}/k.json"},
        expect_failure=True,
    )
    assert "whose secret is not in the access key store" in failed["msg"]
    assert "access_key_state=rotate" in failed["msg"]
    assert iam_snapshot() == before
    assert not (tmp_path / "k.json").exists()


def test_stores_that_cannot_be_used_change_nothing(aws, ansible, iam_snapshot, tmp_path, store_key):
    (tmp_path / "adir").mkdir()
    (tmp_path / "junk.json").write_text("not json")
    (tmp_path / "other.json").write_text(json.dumps({"access_key_id": "AKIAOTHER", "secret_access_key": "s", "user_name": "someone"}))
    for name in ("junk.json", "other.json"):
        (tmp_path / name).chmod(0o600)
    cases = [
        ("missing directory", f"file:{tmp_path}/missing/key.json", "directory"),
        ("a directory", f"file:{tmp_path}/adir", "is not a regular file"),
        ("not a record", f"file:{tmp_path}/junk.json", "does not hold an access key record"),
        ("another user's key", f"file:{tmp_path}/other.json", "holds the access key of user someone"),
        ("reserved ssm name", "ssm:AmazonCloudWatch-agent-key", "readable by every host running the CloudWatch agent"),
        ("bad form", "vault:secret/agent", "access_key_store must be ssm:NAME"),
        ("relative path", "file:keys/agent.json", "needs an absolute path"),
        ("the account's aws/ssm key", "ssm:/agent/key", "needs kms_key_id, a customer managed KMS key"),
        ("aws/ssm by name", ("ssm:/agent/key", "alias/aws/ssm"), "needs kms_key_id, a customer managed KMS key"),
        ("a key that does not exist", ("ssm:/agent/key", "alias/no-such-key"), "KMS key alias/no-such-key does not exist"),
    ]
    before = iam_snapshot()
    tasks = []
    for name, spec, _message in cases:
        spec, key = spec if isinstance(spec, tuple) else (spec, None)
        args = {"name": USER, "purpose": "server", "access_key_state": "present", "access_key_store": spec}
        tasks.append((name, dict(args, kms_key_id=key) if key else args))
    tasks.append(("no store", {"name": USER, "purpose": "server", "access_key_state": "rotate"}))
    run = run_tasks(ansible, tmp_path, tasks)
    for name, _spec, message in cases:
        assert message in run.result(name)["msg"], name
    assert "access_key_store is required with access_key_state=rotate" in run.result("no store")["msg"]
    assert iam_snapshot() == before
    assert aws.client("ssm").describe_parameters()["Parameters"] == []
    assert (tmp_path / "junk.json").read_text() == "not json"


def test_secrets_never_in_diff_or_warnings(aws, ansible, tmp_path):
    store = tmp_path / "key.json"
    args = {
        "name": USER,
        "purpose": "server",
        "access_key_state": "present",
        "access_key_store": f"file:{store}",
        "managed_policies": ["service-role/AmazonEC2RoleforSSM"],
    }
    check = ansible.module(MODULE, args, check=True, diff=True)
    assert "access_key_id" not in check
    assert check["diff"]["after"]["access_keys"] == [{"access_key_id": None, "status": "Active", "create_date": None}]

    created = ansible.module(MODULE, args, diff=True)
    secret = json.loads(store.read_text())["secret_access_key"]
    assert secret not in json.dumps(created)
    assert created["warnings"] and secret not in json.dumps(created["warnings"])
    assert created["diff"]["before"]["user"] is None
    assert created["diff"]["after"]["access_keys"][0]["access_key_id"] == created["access_key_id"]

    rotated = ansible.module(MODULE, dict(args, access_key_state="rotate"), diff=True)
    assert json.loads(store.read_text())["secret_access_key"] not in json.dumps(rotated)
    assert secret not in json.dumps(rotated)


def test_update_policies_and_tags(aws, ansible, iam_snapshot):
    iam = aws.client("iam")
    base = {"name": USER, "purpose": "server", "tags": {"a": "1"}}
    ansible.module(MODULE, base)
    # AmazonSSMManagedInstanceCore would let every holder of the user's key read every parameter.
    before = iam_snapshot()
    refused = ansible.module(MODULE, dict(base, ssm_managed=True), expect_failure=True)
    assert "ssm_managed=true is refused for users" in refused["msg"] and iam_snapshot() == before
    logs_read = "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"
    updated = ansible.module(MODULE, dict(base, managed_policies=[logs_read], tags={"b": "2"}))
    assert updated["changed"] is True
    policies = sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"])
    assert policies == [SERVER_POLICY, logs_read]
    assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]} == dict(OWNER, b="2")
    reverted = ansible.module(MODULE, dict(base, tags={"b": "2"}))
    assert reverted["user"]["attached_policies"] == [SERVER_POLICY]
    assert ansible.module(MODULE, dict(base, tags={"b": "2"}))["changed"] is False


def test_absent_deletes_user_keys_and_the_stored_key(aws, ansible, tmp_path):
    iam = aws.client("iam")
    file_store = tmp_path / "key.json"
    base = {"name": USER, "purpose": "server", "access_key_store": f"file:{file_store}"}
    ansible.module(MODULE, dict(base, access_key_state="present"))
    ansible.module(MODULE, dict(base, access_key_state="rotate"))

    check = ansible.module(MODULE, dict(base, state="absent"), check=True)
    assert check["changed"] is True and file_store.exists() and len(iam.list_users()["Users"]) == 1

    gone = ansible.module(MODULE, dict(base, state="absent"))
    assert gone["changed"] is True and gone["user"] is None
    assert iam.list_users()["Users"] == [] and not file_store.exists()
    assert ansible.module(MODULE, dict(base, state="absent"))["changed"] is False


def test_absent_refuses_an_unowned_user(aws, ansible, iam_snapshot):
    aws.client("iam").create_user(UserName=USER)
    before = iam_snapshot()
    failed = ansible.module(MODULE, {"name": USER, "purpose": "server", "state": "absent"}, expect_failure=True)
    assert "Refusing to delete user cw-agent-onprem" in failed["msg"]
    assert iam_snapshot() == before


def test_an_admin_user_is_refused_a_standing_key(aws, ansible):
    for state in ("present", "rotate"):
        failed = ansible.module(MODULE, {"name": USER, "purpose": "admin", "access_key_state": state, "access_key_store": "ssm:/k"}, expect_failure=True)
        assert f"access_key_state={state} is not allowed with purpose=admin" in failed["msg"]
    assert aws.client("iam").list_users()["Users"] == []
