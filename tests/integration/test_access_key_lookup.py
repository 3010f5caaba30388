# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability.cloudwatch.access_key lookup reads what agent_iam_user stored."""

import hashlib
import json
from pathlib import Path

PLAYBOOK = Path(__file__).parent / "playbooks" / "iam_access_key_lookup.yml"
SHOW = "Show the key id and a digest of the secret"


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def test_reads_the_ssm_store_the_module_wrote(aws, ansible, make_store_key):
    key = make_store_key(region="eu-west-1")
    created = ansible.module(
        "observability.cloudwatch.agent_iam_user",
        {
            "name": "lookup-user",
            "purpose": "server",
            "access_key_state": "present",
            "access_key_store": "ssm:/agent/lookup-user",
            "kms_key_id": key,
            "region": "eu-west-1",
        },
    )
    stored = json.loads(aws.client("ssm", region_name="eu-west-1").get_parameter(Name="/agent/lookup-user", WithDecryption=True)["Parameter"]["Value"])
    run = ansible.playbook(PLAYBOOK, extra_vars={"lookup_store": "ssm:/agent/lookup-user", "lookup_region": "eu-west-1"})
    shown = run.result(SHOW)["msg"]
    assert shown == {
        "access_key_id": created["access_key_id"],
        "user_name": "lookup-user",
        "secret_sha1": sha1(stored["secret_access_key"]),
    }
    assert stored["secret_access_key"] not in run.output


def test_reads_a_file_store(aws, ansible, tmp_path):
    store = tmp_path / "key.json"
    record = {"access_key_id": "AKIAFILE", "secret_access_key": "file-secret", "user_name": "u", "created": "2024-01-01"}
    store.write_text(json.dumps(record))
    store.chmod(0o600)
    run = ansible.playbook(PLAYBOOK, extra_vars={"lookup_store": f"file:{store}", "lookup_region": "us-east-1"})
    assert run.result(SHOW)["msg"] == {"access_key_id": "AKIAFILE", "user_name": "u", "secret_sha1": sha1("file-secret")}


def test_errors_are_clear(aws, ansible, tmp_path):
    (tmp_path / "bad.json").write_text('{"secret_access_key": "do-not-print-me"}')
    (tmp_path / "bad.json").chmod(0o600)
    cases = {
        "ssm:/agent/missing": "ssm:/agent/missing holds no access key",
        "ssm:AmazonCloudWatch-keys": "readable by every host running the CloudWatch agent",
        "s3://bucket/key": "access_key lookup must be ssm:NAME",
        f"file:{tmp_path}/bad.json": "does not hold an access key record",
    }
    for spec, message in cases.items():
        run = ansible.playbook(
            PLAYBOOK,
            extra_vars={"lookup_store": spec, "lookup_region": "us-east-1", "lookup_no_log": False},
            expect_failure=True,
        )
        assert message in run.output, spec
        assert "do-not-print-me" not in run.output
