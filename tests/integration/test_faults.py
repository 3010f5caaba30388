# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults between the modules and AWS: throttling, server errors, dropped connections, interrupted runs.

A fault-injecting proxy (tests/tools/fault_proxy.py) sits between Ansible and the moto server. Each module
runs a create, a repeat and an update through bursts of every fault kind that the services it calls can
answer; the test asserts that faults were injected, that every task succeeded, that AWS ends in the
wanted state with nothing duplicated, and that a direct run afterwards changes nothing.

Throttling bursts are three requests long: botocore's own retries (three attempts in its standard mode)
cannot absorb them, so the module's jittered backoff (``AWSRetry.jittered_backoff``) has to. Connection
resets are not API errors, so only botocore retries them: their bursts stay within its three attempts.

Partial failure: for each write a module makes when it creates, one run fails exactly that write with a
non-retryable ``AccessDenied`` (what a missing permission gives), after the writes before it succeeded;
the next run must finish the job, ending in the same state as an uninterrupted run: no duplicate, no orphan.

The counts of injected faults go to build/security/faults.json for docs/security.md.
"""

import json
from pathlib import Path

import pytest
import yaml

import fault_proxy  # from tests/tools (pytest.ini pythonpath)
import iam_eval

REPO = Path(__file__).resolve().parents[2]


Burst = fault_proxy.Burst

SUMMARY = REPO / "build" / "security" / "faults.json"
SERVER_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
WRITE_PREFIXES = ("Create", "Put", "Attach", "Add", "Tag", "Update", "Delete", "Detach", "Remove", "Untag", "Set")


def _config(interval):
    return {
        "agent": {"metrics_collection_interval": interval},
        "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
    }


def _module_cases(store_dir, suffix=""):
    """name -> (services it calls, create args, update args). Each runs create, create again, update.

    ``suffix`` goes into every name, so runs side by side in one account do not meet.
    """
    role, user, parameter, exporter = (
        f"FaultServerRole{suffix}",
        f"fault-onprem{suffix}",
        f"AmazonCloudWatch-fault{suffix}",
        f"FaultExporter{suffix}",
    )
    store = f"file:{store_dir}/{user}.json"
    exporter_args = {
        "name": exporter,
        "auth_method": "iam_role",
        "oidc_provider_url": f"https://oidc.example.com/id/FAULT{suffix}",
        "service_account": "system:serviceaccount:obs:exporter",
        "log_group_names": [f"fault-logs{suffix}"],
        "create_log_groups": True,
        "log_group_retention_days": 14,
    }
    return {
        "agent_iam_role": (
            {"iam", "sts"},
            {"purpose": "server", "name": role, "tags": {"team": "obs"}},
            {"purpose": "server", "name": role, "tags": {"team": "obs", "tier": "prod"}},
        ),
        "agent_iam_user": (
            {"iam", "sts"},
            {"name": user, "purpose": "server", "access_key_state": "present", "access_key_store": store, "tags": {"team": "obs"}},
            {
                "name": user,
                "purpose": "server",
                "access_key_state": "present",
                "access_key_store": store,
                "tags": {"team": "obs", "tier": "prod"},
            },
        ),
        "agent_config": (
            {"ssm", "sts"},
            {"name": parameter, "config": _config(60)},
            {"name": parameter, "config": _config(30)},
        ),
        "exporter_access": (
            {"iam", "sts", "logs"},
            exporter_args,
            dict(exporter_args, log_group_names=[f"fault-logs{suffix}", f"fault-logs-2{suffix}"]),
        ),
    }


def plan_for(services):
    """A burst of every fault kind that these services can answer, throttling first."""
    plan = []
    if services & fault_proxy.QUERY_SERVICES:
        plan.append(Burst("Throttling", 3))
    if services & {"ssm", "logs", "kms"}:
        plan.append(Burst("ThrottlingException", 3))
    if "ec2" in services:
        plan.append(Burst("RequestLimitExceeded", 3))
    plan += [Burst("500", 2), Burst("503", 2), Burst("reset", 2)]
    return plan


def _record_summary(key, value):
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    data[key] = value
    SUMMARY.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _play(path, tasks):
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return path


def _task(name, module, args, **keywords):
    return dict({"name": name, f"observability.cloudwatch.{module}": args, "register": name.replace(" ", "_")}, **keywords)


def _snapshot(aws, suffix):
    """The part of the account state whose names carry ``suffix``, with the suffix and what differs between
    two equally right runs (access key ids) written the same way."""
    state = iam_eval.account_snapshot(aws.client)
    for user in state["users"].values():
        user["access_keys"] = sorted(status for _key_id, status in user["access_keys"])
    mine = {section: {k: v for k, v in items.items() if suffix in k} for section, items in state.items()}
    return json.loads(json.dumps(mine, sort_keys=True).replace(suffix, "<run>"))


def _client(local_aws, service, endpoint, **kwargs):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=local_aws.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=local_aws.env["AWS_SECRET_ACCESS_KEY"],
        region_name=local_aws.region,
    )
    return session.client(service, endpoint_url=endpoint, **kwargs)


def _proxied(proxy):
    return {"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url}


# -- the proxy itself ------------------------------------------------------------------------------
PROXY_CASES = [
    # kind, service, call, parsed error code, HTTP status
    ("Throttling", "iam", "list_roles", "Throttling", 400),
    ("Throttling", "sts", "get_caller_identity", "Throttling", 400),
    ("ThrottlingException", "ssm", "describe_parameters", "ThrottlingException", 400),
    ("ThrottlingException", "logs", "describe_log_groups", "ThrottlingException", 400),
    ("RequestLimitExceeded", "ec2", "describe_instances", "RequestLimitExceeded", 503),
    ("500", "iam", "list_roles", "InternalFailure", 500),
    ("500", "ec2", "describe_instances", "InternalError", 500),
    ("503", "ssm", "describe_parameters", "ServiceUnavailable", 503),
    ("503", "ec2", "describe_instances", "Unavailable", 503),
]


def test_proxy_answers_as_aws_does_and_stays_within_its_bounds(local_aws):
    """Each kind reaches botocore as the error AWS would send; bounds stop the faults; retries get through."""
    import botocore.config
    import botocore.exceptions

    no_retry = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    for kind, service, call, code, status in PROXY_CASES:
        with fault_proxy.FaultProxy(local_aws.url, [Burst(kind, 1)]) as proxy:
            client = _client(local_aws, service, proxy.url, config=no_retry)
            with pytest.raises(botocore.exceptions.ClientError) as caught:
                getattr(client, call)()
            assert caught.value.response["Error"]["Code"] == code, kind
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, kind
            getattr(client, call)()  # the burst is spent: the emulator answers
            assert proxy.injected_total(kind) == 1

    with fault_proxy.FaultProxy(local_aws.url, [Burst("reset", 1)]) as proxy:
        client = _client(local_aws, "iam", proxy.url, config=no_retry)
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            client.list_roles()
        client.list_roles()

    # A kind only breaks the services that answer with it: IAM is never sent ThrottlingException.
    with fault_proxy.FaultProxy(local_aws.url, [Burst("ThrottlingException", 1)]) as proxy:
        client = _client(local_aws, "iam", proxy.url, config=no_retry)
        client.list_roles()
        assert proxy.injected_total() == 0 and not proxy.plan_spent

    # Bounded in faults, requests and time, whatever the plan asks for.
    for bound in ({"max_faults": 2}, {"max_requests": 2}, {"window": 0.0}):
        with fault_proxy.FaultProxy(local_aws.url, [Burst("500", 50)], **bound) as proxy:
            client = _client(local_aws, "iam", proxy.url, config=no_retry)
            for _attempt in range(6):
                try:
                    client.list_roles()
                except botocore.exceptions.ClientError:
                    pass
            client.list_roles()
            assert proxy.injected_total() <= 2, bound

    # And it stops by itself.
    proxy = fault_proxy.FaultProxy(local_aws.url, [], lifetime=0.2)
    proxy.start()
    thread = proxy._threads[0]
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_amazon_aws_retry_outlasts_a_burst_longer_than_botocore_retries(local_aws):
    """The retry wrapper every module uses rides out 3 EC2 RequestLimitExceeded in a row (botocore gives up
    after 3 attempts). No module of the collection calls EC2 yet; the admin session playbook will."""
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

    with fault_proxy.FaultProxy(local_aws.url, [Burst("RequestLimitExceeded", 4)]) as proxy:
        client = _client(local_aws, "ec2", proxy.url)
        wrapped = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(delay=0.2))
        wrapped.describe_instances(aws_retry=True)
        assert proxy.injected_total("RequestLimitExceeded") == 4


# -- modules through bursts of faults -------------------------------------------------------------
def _check_converged(aws, module, store_dir):
    iam = aws.client("iam")
    if module == "agent_iam_role":
        role = iam.get_role(RoleName="FaultServerRole")["Role"]
        assert {t["Key"]: t["Value"] for t in role["Tags"]}.items() >= {"team": "obs", "tier": "prod"}.items()
        attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="FaultServerRole")["AttachedPolicies"]]
        assert attached == [SERVER_POLICY]
        profiles = iam.list_instance_profiles()["InstanceProfiles"]
        assert [(p["InstanceProfileName"], [r["RoleName"] for r in p["Roles"]]) for p in profiles] == [("FaultServerRole", ["FaultServerRole"])]
        assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["FaultServerRole"]
    elif module == "agent_iam_user":
        keys = iam.list_access_keys(UserName="fault-onprem")["AccessKeyMetadata"]
        assert [k["Status"] for k in keys] == ["Active"], keys
        stored = json.loads(Path(store_dir, "fault-onprem.json").read_text())
        assert stored["access_key_id"] == keys[0]["AccessKeyId"]
        attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="fault-onprem")["AttachedPolicies"]]
        assert attached == [SERVER_POLICY]
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="fault-onprem")["Tags"]}
        assert tags.items() >= {"team": "obs", "tier": "prod"}.items()
    elif module == "agent_config":
        parameter = aws.client("ssm").get_parameter(Name="AmazonCloudWatch-fault")["Parameter"]
        assert json.loads(parameter["Value"]) == _config(30)
        assert parameter["Version"] == 2, "one write for the create, one for the update, none twice"
    elif module == "exporter_access":
        policies = iam.list_role_policies(RoleName="FaultExporter")["PolicyNames"]
        assert len(policies) == 1
        document = iam.get_role_policy(RoleName="FaultExporter", PolicyName=policies[0])["PolicyDocument"]
        assert "fault-logs-2" in json.dumps(document)
        assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
        groups = aws.client("logs").describe_log_groups()["logGroups"]
        assert sorted((g["logGroupName"], g.get("retentionInDays")) for g in groups) == [
            ("fault-logs", 14),
            ("fault-logs-2", 14),
        ]


@pytest.mark.parametrize("module", ["agent_iam_role", "agent_iam_user", "agent_config", "exporter_access"])
def test_module_converges_through_fault_bursts(aws, ansible, tmp_path, module):
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    services, create, update = _module_cases(store_dir)[module]
    plan = plan_for(services)
    tasks = [
        _task("create", module, create),
        _task("repeat", module, create),
        _task("update", module, update),
    ]
    with fault_proxy.FaultProxy(aws.url, plan) as proxy:
        run = ansible.playbook(_play(tmp_path / "faulty.yml", tasks), env=_proxied(proxy))
    summary = proxy.summary()
    for burst in plan:
        assert proxy.injected_total(burst.kind) == burst.count, (burst.kind, summary, proxy.log)
    assert run.result("create")["changed"] is True
    assert run.result("repeat")["changed"] is False
    assert run.result("update")["changed"] is True
    _check_converged(aws, module, store_dir)
    again = ansible.playbook(_play(tmp_path / "again.yml", [_task("again", module, update)]))
    assert again.result("again")["changed"] is False
    _record_summary(f"module:{module}", summary)


# -- interrupted runs ------------------------------------------------------------------------------
def _writes(calls):
    seen = []
    for call in calls:
        operation = call["operation"]
        if operation.startswith(WRITE_PREFIXES) and operation not in seen:
            seen.append(operation)
    return seen


@pytest.mark.parametrize("module", ["agent_iam_role", "agent_iam_user", "exporter_access"])
def test_run_interrupted_between_two_writes_converges_on_the_next_run(aws, ansible, tmp_path, module):
    """agent_config is left out: it makes one write (PutParameter), so there is no "between"."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    create = _module_cases(store_dir, "-run00")[module][1]
    with aws.record() as calls:
        ansible.playbook(_play(tmp_path / "clean.yml", [_task("clean", module, create)]))
    writes = _writes(calls)
    assert len(writes) >= 2, f"{module} made fewer than two writes on create: {calls}"
    wanted = _snapshot(aws, "-run00")

    # One playbook: for each write after the first, a run (its own names) whose request for that write is
    # denied, then the next run, straight to AWS. The proxy serves the denials in order, one per run.
    tasks, plan = [], []
    for number, operation in enumerate(writes[1:], start=1):
        create = _module_cases(store_dir, f"-run{number:02d}")[module][1]
        tasks.append(_task(f"interrupted {number}", module, create, ignore_errors=True))
        tasks.append(_task(f"next run {number}", module, create, environment={"AWS_URL": aws.url, "AWS_ENDPOINT_URL": aws.url}))
        plan.append(Burst("error", 1, operations=(operation,), status=403, code="AccessDenied", message="injected"))
    with fault_proxy.FaultProxy(aws.url, plan, gap=0) as proxy:
        run = ansible.playbook(_play(tmp_path / "interrupted.yml", tasks), env=_proxied(proxy))
    assert proxy.injected_total("error") == len(plan), proxy.log

    for number, operation in enumerate(writes[1:], start=1):
        suffix = f"-run{number:02d}"
        assert run.result(f"interrupted {number}").get("failed"), f"{module} did not fail when {operation} was denied"
        assert run.result(f"next run {number}")["changed"] is True
        assert _snapshot(aws, suffix) == wanted, f"{module}: interrupted at {operation}, the next run left another state"
        if module == "agent_iam_user":
            user = f"fault-onprem{suffix}"
            keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
            stored = json.loads(Path(store_dir, f"{user}.json").read_text())
            assert [k["AccessKeyId"] for k in keys] == [stored["access_key_id"]], operation
    _record_summary(f"interrupted:{module}", {"writes": writes, "interrupted_at": writes[1:]})


@pytest.fixture(autouse=True, scope="module")
def _fresh_summary():
    if SUMMARY.exists():
        SUMMARY.unlink()
    yield
