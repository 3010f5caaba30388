# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform readiness: the execution environment definition, and a job run the way AWX
runs one (ansible-runner with a private data directory, the AWS credential injected as environment)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# What AWX's "Amazon Web Services" credential type injects (access key, secret key, STS token).
AWX_CREDENTIAL = {
    "AWS_ACCESS_KEY_ID": "AKIAAWXJOBCREDENTIAL",
    "AWS_SECRET_ACCESS_KEY": "awx-injected-secret-for-the-emulator",
    "AWS_SECURITY_TOKEN": "awx-injected-session-token",
}


def test_ansible_builder_creates_a_complete_build_context(tmp_path):
    context = tmp_path / "context"
    completed = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(context), "--output-filename", "Containerfile"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile and "install-from-bindep" in containerfile
    build = context / "_build"
    collections = {c["name"]: c for c in yaml.safe_load((build / "requirements.yml").read_text())["collections"]}
    assert set(collections) == {"amazon.aws", "observability.cloudwatch"}
    assert (build / "requirements.txt").read_text() == (REPO / "requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (REPO / "bindep.txt").read_text()

    # Inside the build, introspection reads the installed collection's meta/execution-environment.yml:
    # run the generated script on this checkout to see that it finds our Python and system needs.
    introspected = subprocess.run(
        [
            sys.executable,
            str(build / "scripts" / "introspect.py"),
            "introspect",
            str(REPO / "build" / "collections"),
            "--write-pip",
            str(tmp_path / "pip.txt"),
            "--write-bindep",
            str(tmp_path / "bindep.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert introspected.returncode == 0, introspected.stderr
    pip = (tmp_path / "pip.txt").read_text()
    assert "boto3>=1.34.0  # from collection observability.cloudwatch" in pip
    assert "gnupg2 [platform:rpm]  # from collection observability.cloudwatch" in (tmp_path / "bindep.txt").read_text()
    # Test tools never reach the image.
    for tool in ("pytest", "moto", "molecule", "ansible-lint"):
        assert tool not in pip


def awx_private_data_dir(root, aws_url):
    """A private data directory laid out as AWX lays it out for a job of the template "CloudWatch site"."""
    (root / "project").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "env").mkdir()
    # The project: the customer's repository, with a playbook that runs the collection's site.
    (root / "project" / "site.yml").write_text(
        "---\n- name: CloudWatch agent, IAM to hosts\n  ansible.builtin.import_playbook: observability.cloudwatch.site\n"
    )
    # The inventory: AWX writes a script that prints the inventory as JSON; inventory variables land in all.vars.
    inventory = {
        "all": {
            "children": ["cloudwatch_ec2", "cloudwatch_onprem", "ungrouped"],
            "vars": {
                "cloudwatch_iam_users": [{"name": "awx-onprem", "access_key_store": "ssm:/cloudwatch/awx-onprem-key"}],
                "cloudwatch_publish_configs": [
                    {"name": "AmazonCloudWatch-awx", "config": {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}}
                ],
                "cloudwatch_publish_regions": ["us-east-1"],
                "cloudwatch_iam_region": "us-east-1",
            },
        },
        "cloudwatch_ec2": {"hosts": []},
        "cloudwatch_onprem": {"hosts": []},
        "_meta": {"hostvars": {}},
    }
    script = root / "inventory" / "hosts"
    script.write_text(f"#! {sys.executable}\nprint({json.dumps(json.dumps(inventory))})\n")
    script.chmod(0o700)
    # Survey answers and the template's extra variables.
    (root / "env" / "extravars").write_text(yaml.safe_dump({"cloudwatch_serial": "10", "cloudwatch_max_fail_percentage": 0}))
    # The credential, injected as AWX's AWS credential type does; AWS_URL points the modules at the emulator.
    envvars = dict(AWX_CREDENTIAL, AWS_URL=aws_url, ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"))
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "settings").write_text(yaml.safe_dump({"suppress_ansible_output": False, "job_timeout": 600}))


def test_site_runs_under_ansible_runner_as_awx_runs_it(aws, tmp_path):
    data = tmp_path / "runner"
    awx_private_data_dir(data, aws.url)
    # Nothing of the test session's own AWS settings leaks in: the job sees only what AWX would inject.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    with aws.record() as calls:
        completed = subprocess.run(
            [str(BIN / "ansible-runner"), "run", str(data), "-p", "site.yml", "--ident", "job-1"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    artifacts = data / "artifacts" / "job-1"
    assert completed.returncode == 0, completed.stdout[-8000:] + completed.stderr
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"

    iam = aws.client("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["CloudWatchAgentServerRole"]
    keys = iam.list_access_keys(UserName="awx-onprem")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Active"]

    # Every change was signed with the injected credential (the new user's key only checks that it works).
    injected = AWX_CREDENTIAL["AWS_ACCESS_KEY_ID"]
    writes = [c for c in calls if c["operation"].startswith(("Create", "Put", "Attach", "Tag", "Add"))]
    assert writes and {c["access_key_id"] for c in writes} == {injected}
    assert {c["access_key_id"] for c in calls} <= {injected, keys[0]["AccessKeyId"]}
    ssm = aws.client("ssm")
    stored = ssm.get_parameter(Name="/cloudwatch/awx-onprem-key", WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString"
    secret = json.loads(stored["Value"])
    assert secret["access_key_id"] == keys[0]["AccessKeyId"]
    published = ssm.get_parameter(Name="AmazonCloudWatch-awx")["Parameter"]
    assert json.loads(published["Value"]) == {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}

    # The job's output and events (what AWX stores and shows) never hold the secret.
    for path in artifacts.rglob("*"):
        if path.is_file():
            assert secret["secret_access_key"] not in path.read_text(errors="replace"), path
