# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration tests: Ansible runs the collection's modules and playbooks against a real moto server.

Fixtures:
- ``local_aws``: the moto server of this test session (``.url``, ``.env``, ``.client(service)``,
  ``.reset()``, ``.record()``).
- ``aws``: the same, emptied before the test.
- ``store_key``: a customer managed KMS key in the emptied emulator, by alias, for ``ssm:`` key stores;
  ``make_store_key(region)`` makes one in another region.
- ``ansible``: runs playbooks and single module tasks with the emulator's connection settings.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import pytest
import yaml

import local_aws as local_aws_tool  # from tests/tools (pytest.ini pythonpath)

REPO = Path(__file__).resolve().parents[2]


class LocalAWS:
    def __init__(self, url):
        self.url = url
        self.env = local_aws_tool.environment(url)
        self.region = self.env["AWS_REGION"]

    def client(self, service, **kwargs):
        session = boto3.session.Session(
            aws_access_key_id=kwargs.pop("aws_access_key_id", self.env["AWS_ACCESS_KEY_ID"]),
            aws_secret_access_key=kwargs.pop("aws_secret_access_key", self.env["AWS_SECRET_ACCESS_KEY"]),
            region_name=kwargs.pop("region_name", self.region),
        )
        return session.client(service, endpoint_url=self.url, **kwargs)

    def reset(self):
        local_aws_tool.reset(self.url)

    @contextlib.contextmanager
    def record(self):
        """Record the API calls made inside the block: ``with aws.record() as calls: ...``."""
        calls = []
        local_aws_tool.start_recording(self.url)
        try:
            yield calls
        finally:
            calls.extend(local_aws_tool.stop_recording(self.url))


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory):
    state = tmp_path_factory.mktemp("local-aws")
    process, url = local_aws_tool.start(state, log_path=state / "moto.log")
    try:
        yield LocalAWS(url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def private_tmp(tmp_path_factory):
    """A private TMPDIR for a run, at a short path: ansible-core 2.21 binds a Unix socket below TMPDIR, and a
    socket path holds at most 107 bytes (a test's tmp_path under xdist can be too long)."""
    return tmp_path_factory.mktemp("t")


@pytest.fixture
def aws(local_aws):
    local_aws.reset()
    return local_aws


@pytest.fixture
def make_store_key(aws):
    """``make_store_key(region=None)``: a customer managed KMS key (the kind an ``ssm:`` key store needs), by alias."""

    def make(region=None):
        kms = aws.client("kms", region_name=region or aws.region)
        key = kms.create_key(Description="Encrypts stored access keys")["KeyMetadata"]
        kms.create_alias(AliasName="alias/cloudwatch-agent-keys", TargetKeyId=key["KeyId"])
        return "alias/cloudwatch-agent-keys"

    return make


@pytest.fixture
def store_key(make_store_key):
    return make_store_key()


class PlaybookRun:
    """The outcome of one ansible-playbook run: ``rc``, ``output`` and per-task results."""

    def __init__(self, rc, output, report):
        self.rc = rc
        self.output = output
        self.report = report

    def results(self, task_name, host="localhost"):
        """Results of every task called ``task_name`` on ``host``, in run order."""
        found = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] == task_name and host in task["hosts"]:
                    found.append(task["hosts"][host])
        return found

    def result(self, task_name, host="localhost"):
        found = self.results(task_name, host)
        assert found, f"no task {task_name!r} ran on {host}:\n{self.output}"
        return found[-1]

    @property
    def stats(self):
        return self.report.get("stats", {})


class Ansible:
    """Runs ansible-playbook with the local AWS's connection settings in its environment."""

    def __init__(self, local_aws, workdir):
        self.local_aws = local_aws
        self.workdir = workdir

    def environment(self, extra=None):
        env = dict(os.environ)
        env.update(self.local_aws.env)
        env.update(
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_JSON_INDENT="0",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_RETRY_FILES_ENABLED="false",
        )
        env.update(extra or {})
        return env

    @staticmethod
    def _command(playbook, extra_vars, check, diff, args):
        command = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        return command + list(args)

    def start(self, playbook, extra_vars=None, env=None, diff=False, args=()):
        """Start ansible-playbook in its own process group, to run alongside another or to be killed."""
        command = self._command(playbook, extra_vars, False, diff, args)
        return subprocess.Popen(
            command, env=self.environment(env), cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )

    def finish(self, process, expect_failure=False, timeout=600):
        """Wait for a started run and return its PlaybookRun."""
        stdout, stderr = process.communicate(timeout=timeout)
        return self._outcome(process.returncode, stdout, stderr, expect_failure)

    def playbook(self, playbook, extra_vars=None, check=False, diff=False, expect_failure=False, env=None, args=()):
        command = self._command(playbook, extra_vars, check, diff, args)
        completed = subprocess.run(command, env=self.environment(env), cwd=self.workdir, capture_output=True, text=True, check=False)
        return self._outcome(completed.returncode, completed.stdout, completed.stderr, expect_failure)

    @staticmethod
    def _outcome(rc, stdout, stderr, expect_failure):
        output = stdout + stderr
        try:
            report = json.loads(stdout[stdout.index("{"):])
        except ValueError:
            report = {}
        run = PlaybookRun(rc, output, report)
        if expect_failure:
            assert run.rc != 0, f"playbook succeeded but should have failed:\n{output}"
        else:
            assert run.rc == 0, f"playbook failed (rc={run.rc}):\n{output}"
        return run

    def module(self, name, args, check=False, diff=False, expect_failure=False, env=None):
        """Run one task of module ``name`` on localhost and return its result dict."""
        task = {"name": "under test", name: args, "register": "outcome"}
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]
        path = Path(tempfile.mkstemp(suffix=".yml", dir=self.workdir)[1])
        path.write_text(yaml.safe_dump(play))
        run = self.playbook(path, check=check, diff=diff, expect_failure=expect_failure, env=env)
        result = run.result("under test")
        if not expect_failure:
            assert not result.get("failed"), result
        return result


@pytest.fixture
def ansible(aws, tmp_path):
    return Ansible(aws, tmp_path)


def _iam_snapshot(iam):
    """What IAM holds that the collection's IAM modules could touch: compare before and after a failed run."""
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        roles[name] = {
            "tags": iam.list_role_tags(RoleName=name)["Tags"],
            "policies": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
        }
    users = {}
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        users[name] = {
            "tags": iam.list_user_tags(UserName=name)["Tags"],
            "policies": sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
            "keys": sorted((k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
        }
    profiles = {p["InstanceProfileName"]: sorted(r["RoleName"] for r in p["Roles"]) for p in iam.list_instance_profiles()["InstanceProfiles"]}
    return {"roles": roles, "users": users, "instance_profiles": profiles}


@pytest.fixture
def iam_snapshot(aws):
    """``iam_snapshot()`` returns the IAM roles, users, keys and instance profiles with their tags and policies."""
    client = aws.client("iam")
    return lambda: _iam_snapshot(client)
