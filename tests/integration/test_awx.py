# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform readiness: the execution environment definition, and a job run the way AWX
runs one (ansible-runner with a private data directory, the AWS credential injected as environment, no
region in it), on an on-premises host: a podman container of the test image booting systemd."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IMAGE = "localhost/cloudwatch-test-debian:bookworm"
AGENT_VERSION = "1.300069.0b1529"

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
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.21.5 ansible-runner==2.4.3"' in containerfile
    # the base image is pinned by digest, not by a tag that moves
    assert re.search(r'^ARG EE_BASE_IMAGE="quay\.io/centos/centos@sha256:[0-9a-f]{64}"$', containerfile, re.M), containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile and "install-from-bindep" in containerfile
    build = context / "_build"
    collections = {c["name"]: c for c in yaml.safe_load((build / "requirements.yml").read_text())["collections"]}
    assert set(collections) == {"amazon.aws", "community.general", "observability.cloudwatch"}
    # every collection bounded above, so a rebuild does not pick up a new major release
    assert all(",<" in c["version"] for c in collections.values()), collections
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
    assert "boto3>=1.35.0  # from collection observability.cloudwatch" in pip
    assert "gnupg2 [platform:rpm]  # from collection observability.cloudwatch" in (tmp_path / "bindep.txt").read_text()
    # Test tools never reach the image.
    for tool in ("pytest", "moto", "molecule", "ansible-lint"):
        assert tool not in pip


@pytest.fixture
def onprem_host(aws):
    """A fresh systemd container of the test image (tests/tools/podman-setup.sh builds it once), its test agent
    package pointed at the local AWS as in the Molecule scenarios; removed afterwards."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: the AWX job needs a container as its on-premises host")
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        subprocess.run([str(REPO / "tests" / "tools" / "podman-setup.sh")], check=True, capture_output=True)
    name = f"cw-awx-onprem-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["podman", "run", "-d", "--name", name, "--systemd=always", "--network", "host", IMAGE, "/sbin/init"],
        check=True,
        capture_output=True,
    )
    try:
        # The only deviation of the test package from the real one: its endpoints (see prepare-host.yml).
        subprocess.run(
            ["podman", "exec", "-i", name, "sh", "-c", "cat > /etc/amazon-cloudwatch-agent-test.env"],
            input=f"AWS_ENDPOINT_URL={aws.url}\nAWS_EC2_METADATA_DISABLED=true\n",
            text=True,
            check=True,
        )
        yield name
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "2", name], capture_output=True, check=False)


@pytest.fixture
def agent_package(tmp_path):
    """The test stand-in for the agent's package, on the controller as an air-gapped site keeps it."""
    out = tmp_path / "package"
    subprocess.run([str(REPO / "tests" / "fixtures" / "build-agent-package.sh"), str(out), AGENT_VERSION], check=True, capture_output=True)
    return out / "amazon-cloudwatch-agent.deb"


def awx_private_data_dir(root, aws_url, host, package):
    """A private data directory laid out as AWX lays it out for a job of the template "CloudWatch site"."""
    (root / "project").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "env").mkdir()
    # The project: the customer's repository, with a playbook that runs the collection's site.
    (root / "project" / "site.yml").write_text(
        "---\n- name: CloudWatch agent, IAM to hosts\n  ansible.builtin.import_playbook: observability.cloudwatch.site\n"
    )
    # The inventory: AWX writes a script that prints the inventory as JSON; inventory variables land in all.vars.
    # The region is only here, in the roles' variables: AWX's AWS credential injects none.
    inventory = {
        "all": {
            "children": ["cloudwatch_ec2", "cloudwatch_onprem", "ungrouped"],
            "vars": {
                "cloudwatch_iam_users": [
                    {"name": "awx-onprem", "access_key_store": "ssm:/cloudwatch/awx-onprem-key", "kms_key_id": "alias/cloudwatch-agent-keys"}
                ],
                "cloudwatch_publish_configs": [
                    {"name": "AmazonCloudWatch-awx", "config": {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}}
                ],
                "cloudwatch_publish_regions": ["us-east-1"],
                "cloudwatch_iam_region": "us-east-1",
            },
        },
        "cloudwatch_ec2": {"hosts": []},
        "cloudwatch_onprem": {
            "hosts": [host],
            "vars": {
                "cloudwatch_agent_mode": "onPremise",
                "cloudwatch_agent_region": "us-east-1",
                "cloudwatch_agent_access_key_store": "ssm:/cloudwatch/awx-onprem-key",
                "cloudwatch_agent_ssm_parameters": ["AmazonCloudWatch-awx"],
                "cloudwatch_agent_version": AGENT_VERSION,
                "cloudwatch_agent_package_file": str(package),
                "cloudwatch_agent_package_verify": "sha256",
                "cloudwatch_agent_package_sha256": hashlib.sha256(package.read_bytes()).hexdigest(),
                "cloudwatch_agent_start_settle": 3,
            },
        },
        "_meta": {"hostvars": {host: {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}}},
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


def podman_exec(host, *argv):
    return subprocess.run(["podman", "exec", host, *argv], capture_output=True, text=True, check=False)


def test_site_runs_under_ansible_runner_as_awx_runs_it(aws, tmp_path, onprem_host, agent_package, store_key):
    data = tmp_path / "runner"
    awx_private_data_dir(data, aws.url, onprem_host, agent_package)
    # Nothing of the test session's own AWS settings leaks in: the job sees only what AWX would inject, and
    # no AWS configuration file (an execution environment has none) can name a region either.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-config")
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

    # Every change the job made was signed with the injected credential. The new user's key checks that it works
    # (sts:GetCallerIdentity), then signs only what the agent on the host does: read its configuration, send data.
    injected, stored_key = AWX_CREDENTIAL["AWS_ACCESS_KEY_ID"], keys[0]["AccessKeyId"]
    by_job = [c for c in calls if c["access_key_id"] != stored_key]
    by_key = {c["operation"] for c in calls if c["access_key_id"] == stored_key}
    writes = [c for c in by_job if c["operation"].startswith(("Create", "Put", "Attach", "Tag", "Add"))]
    assert writes and {c["access_key_id"] for c in by_job} == {injected}
    assert "GetParameter" in by_key, by_key
    assert by_key <= {"GetCallerIdentity", "GetParameter", "PutMetricData", "PutLogEvents", "CreateLogGroup", "CreateLogStream"}, by_key
    ssm = aws.client("ssm")
    stored = ssm.get_parameter(Name="/cloudwatch/awx-onprem-key", WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString"
    secret = json.loads(stored["Value"])
    assert secret["access_key_id"] == keys[0]["AccessKeyId"]
    published = ssm.get_parameter(Name="AmazonCloudWatch-awx")["Parameter"]
    assert json.loads(published["Value"]) == {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}

    # The on-premises host runs the agent with the stored key and the published configuration, which the
    # agent itself read from Parameter Store in the region of the role's variables.
    status = podman_exec(onprem_host, "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl", "-a", "status")
    assert json.loads(status.stdout)["status"] == "running", status.stdout + status.stderr
    held = podman_exec(onprem_host, "grep", "-c", f"aws_access_key_id *= *{keys[0]['AccessKeyId']}$", "/etc/observability.cloudwatch/credentials")
    assert held.stdout.strip() == "1", held.stderr
    delivered = podman_exec(onprem_host, "cat", "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.d/ssm_AmazonCloudWatch-awx")
    assert json.loads(delivered.stdout) == json.loads(published["Value"]), delivered.stderr

    # The job's output and events (what AWX stores and shows) never hold the secret, raw or base64.
    forms = [secret["secret_access_key"], base64.b64encode(secret["secret_access_key"].encode()).decode()]
    outputs = {"runner stdout": completed.stdout + completed.stderr}
    outputs.update((str(path), path.read_text(errors="replace")) for path in artifacts.rglob("*") if path.is_file())
    assert [(where, form) for where, text in outputs.items() for form in forms if form in text] == []
