# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_config against the moto server."""

import collections
import json
import sys
from pathlib import Path

import pytest
from ansible.release import __version__ as ansible_core_version
from botocore.exceptions import ClientError
from fault_proxy import FaultProxy
from local_aws import operation_counts

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
FIXTURES = REPO / "tests" / "fixtures" / "agent_configs"
MODULE = "observability.cloudwatch.agent_config"
CORE_VERSION = tuple(int(part) for part in ansible_core_version.split(".")[:2])

CONFIG_V1 = {
    "agent": {"metrics_collection_interval": 60},
    "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
}
CONFIG_V2 = {
    "agent": {"metrics_collection_interval": 30, "run_as_user": "cwagent"},
    "metrics": {
        "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
        "metrics_collected": {
            "mem": {"measurement": ["mem_used_percent"]},
            "disk": {"resources": ["/"], "measurement": ["used_percent"]},
        },
    },
}
# CONFIG_V2 written by hand: keys in another order, other indentation and line breaks.
CONTENT_V2_REORDERED = """{
    "metrics": {"metrics_collected": {"disk": {"measurement": ["used_percent"], "resources": ["/"]},
                                      "mem": {"measurement": ["mem_used_percent"]}},
                "append_dimensions": {"InstanceId": "${aws:InstanceId}"}},
    "agent": {"run_as_user": "cwagent",   "metrics_collection_interval": 30}
}
"""


def compact(config):
    return json.dumps(config, separators=(",", ":"), sort_keys=True)


def logs_config(count, prefix="/var/log/application"):
    """A valid configuration collecting ``count`` log files: about 95 bytes stored per file."""
    files = [
        {"file_path": f"{prefix}/service-{i:03d}.log", "log_group_name": f"/app/service-{i:03d}", "retention_in_days": 30}
        for i in range(count)
    ]
    return {"logs": {"logs_collected": {"files": {"collect_list": files}}}}


def refused(result):
    """A module failure that the playbook expected (failed_when turns it into data the test reads)."""
    return "msg" in result and not result.get("changed") and "failed_when_result" in result


def history(aws, name):
    try:
        return aws.client("ssm").get_parameter_history(Name=name)["Parameters"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ParameterNotFound":
            return []
        raise


def test_lifecycle(aws, ansible):
    name = "AmazonCloudWatch-lifecycle"
    run = ansible.playbook(
        PLAYBOOKS / "agent_config_lifecycle.yml",
        extra_vars={"name": name, "config_v1": CONFIG_V1, "config_v2": CONFIG_V2, "content_v2_reordered": CONTENT_V2_REORDERED},
    )

    check = run.result("Create (check mode)")
    assert check["changed"] and check["parameter"]["version"] == 1 and check["config"] == CONFIG_V1
    created = run.result("Create")
    # Had check mode written anything, this would not be a change to version 1.
    assert created["changed"]
    assert created["parameter"] == {"name": name, "version": 1, "tier": "Standard", "type": "String"}
    assert created["config"] == CONFIG_V1
    assert not run.result("Create again (check mode)")["changed"]
    again = run.result("Create again")
    assert not again["changed"] and again["parameter"]["version"] == 1

    changed = run.result("Change")
    assert changed["changed"] and changed["parameter"]["version"] == 2 and changed["config"] == CONFIG_V2
    reordered = run.result("Same configuration, other key order and white space")
    assert not reordered["changed"] and reordered["parameter"]["version"] == 2

    assert run.result("Restore version 1 (check mode)")["changed"]
    restored = run.result("Restore version 1")
    assert restored["changed"] and restored["parameter"]["version"] == 3 and restored["config"] == CONFIG_V1
    assert not run.result("Restore version 1 again")["changed"]
    missing = run.result("Restore a version that does not exist")
    assert refused(missing) and "version 42" in missing["msg"]

    assert run.result("Delete (check mode)")["changed"]
    assert run.result("Delete")["changed"]
    assert not run.result("Delete again")["changed"]
    assert history(aws, name) == []


def test_stored_form_and_history(aws, ansible):
    """The parameter holds compact JSON; versions come from real writes only."""
    name = "AmazonCloudWatch-stored"
    ansible.module(MODULE, {"name": name, "content": CONTENT_V2_REORDERED})
    ansible.module(MODULE, {"name": name, "config": CONFIG_V2})
    parameter = aws.client("ssm").get_parameter(Name=name)["Parameter"]
    assert parameter["Value"] == compact(CONFIG_V2)
    assert parameter["Type"] == "String"
    assert [v["Version"] for v in history(aws, name)] == [1]


def test_no_op_and_publish_use_only_admin_policy_calls(aws, ansible):
    name = "AmazonCloudWatch-calls"
    with aws.record() as created:
        ansible.module(MODULE, {"name": name, "config": CONFIG_V1})
    with aws.record() as no_op:
        result = ansible.module(MODULE, {"name": name, "config": CONFIG_V1})
    with aws.record() as published:
        ansible.module(MODULE, {"name": name, "config": CONFIG_V2})
    with aws.record() as no_op_check:
        ansible.module(MODULE, {"name": name, "config": CONFIG_V1}, check=True)

    assert not result["changed"]
    # A write also reads the caller (allow_root), which needs no permission; a run that changes nothing does not.
    assert operation_counts(created) == {"GetParameter": 1, "GetCallerIdentity": 1, "PutParameter": 1}
    assert operation_counts(no_op) == {"GetParameter": 1}
    assert operation_counts(published) == {"GetParameter": 1, "GetCallerIdentity": 1, "PutParameter": 1}
    # Back to V1 is a change: check mode reads the caller too, and writes nothing.
    assert operation_counts(no_op_check) == {"GetParameter": 1, "GetCallerIdentity": 1}


def test_diff_is_readable_json(aws, ansible):
    name = "AmazonCloudWatch-diff"
    ansible.module(MODULE, {"name": name, "config": CONFIG_V1})
    result = ansible.module(MODULE, {"name": name, "config": CONFIG_V2}, diff=True)
    diff = result["diff"]
    assert diff["before"] == json.dumps(CONFIG_V1, indent=2, sort_keys=True) + "\n"
    assert diff["after"] == json.dumps(CONFIG_V2, indent=2, sort_keys=True) + "\n"
    assert '    "metrics_collection_interval": 30,\n' in diff["after"]
    assert diff["before_header"] == f"{name} (version 1)"
    assert diff["after_header"] == f"{name} (version 2)"

    no_change = ansible.module(MODULE, {"name": name, "content": CONTENT_V2_REORDERED}, diff=True)
    assert not no_change["changed"]
    assert no_change["diff"]["before"] == no_change["diff"]["after"]


def test_tiers(aws, ansible):
    name = "AmazonCloudWatch-tiers"
    small, large, too_large = logs_config(2), logs_config(60), logs_config(120)
    assert len(compact(small)) <= 4096 < len(compact(large)) <= 8192 < len(compact(too_large))
    run = ansible.playbook(
        PLAYBOOKS / "agent_config_tier.yml",
        extra_vars={"name": name, "small": small, "large": large, "too_large": too_large},
    )

    assert run.result("Small configuration")["parameter"]["tier"] == "Standard"
    assert run.result("Large configuration")["parameter"]["tier"] == "Advanced"
    shrunk = run.result("Small configuration again")
    assert shrunk["changed"] and shrunk["parameter"]["tier"] == "Advanced"

    too_big = run.result("Too large configuration")
    size = len(compact(too_large).encode())
    assert refused(too_big) and f"{size} bytes" in too_big["msg"] and "8192 bytes" in too_big["msg"]
    standard = run.result("Large configuration with tier Standard")
    assert refused(standard) and "4096 bytes" in standard["msg"]

    versions = history(aws, name)
    assert [(v["Version"], v["Tier"]) for v in versions] == [(1, "Standard"), (2, "Advanced"), (3, "Advanced")]
    assert history(aws, name + "-standard") == []


def test_fixtures_and_refused_inputs(aws, ansible, tmp_path):
    name = "AmazonCloudWatch-validation"
    invalid = sorted(FIXTURES.glob("invalid/*.json"))
    valid = sorted(FIXTURES.glob("valid/*.json"))
    assert len(invalid) >= 10 and len(valid) >= 15
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"agent": {"type": "object", "required": ["region"]}},
    }))
    run = ansible.playbook(
        PLAYBOOKS / "agent_config_fixtures.yml",
        extra_vars={
            "name": name, "seed": CONFIG_V1, "schema_path": str(schema),
            "invalid": [str(p) for p in invalid], "valid": [str(p) for p in valid],
        },
    )

    refusing = run.result("Invalid fixtures")
    rejected = refusing["results"]
    assert len(rejected) == len(invalid)
    for path, result in zip(invalid, rejected):
        expected = [line for line in path.with_suffix(".errors").read_text().splitlines() if line.strip()]
        assert refused(result), path.name
        assert "nothing was written" in result["msg"], (path.name, result["msg"])
        assert result["errors"] == expected, path.name
    accepting = run.result("Valid fixtures")
    accepted = accepting["results"]
    for paths, task in ((invalid, refusing), (valid, accepting)):
        warned = {p.name: p.with_suffix(".warnings").read_text().splitlines() for p in paths if p.with_suffix(".warnings").is_file()}
        assert warned, "each set has a fixture the validator warns about"
        if CORE_VERSION >= (2, 20):
            assert {p.name: r["warnings"] for p, r in zip(paths, task["results"]) if r.get("warnings")} == warned
        else:
            # ansible-core 2.19 gathers a loop's warnings on the task's result, in the items' order, not on the items.
            assert task["warnings"] == [line for p in paths for line in warned.get(p.name, [])]

    bad_json = run.result("Invalid JSON text")
    # Python 3.13 points at the trailing comma itself, on the line before the closing brace
    where = "line 3, column" if sys.version_info < (3, 13) else "line 2, column 36: Illegal trailing comma"
    assert refused(bad_json) and f"invalid JSON at {where}" in bad_json["msg"]
    user_schema = run.result("Configuration the user's schema refuses")
    assert refused(user_schema) and user_schema["errors"] == [f"agent.region: required (schema {schema})"]

    # Nothing refused made a version: only the seed is there.
    assert [v["Version"] for v in history(aws, name)] == [1]
    assert aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"] == compact(CONFIG_V1)

    accepted = run.result("Valid fixtures")["results"]
    assert len(accepted) == len(valid) and all(r["changed"] and not r.get("failed") for r in accepted)
    ssm = aws.client("ssm")
    for path in valid:
        stored = ssm.get_parameter(Name=f"AmazonCloudWatch-valid-{path.stem}")["Parameter"]["Value"]
        assert json.loads(stored) == json.loads(path.read_text()), path.name

    prefix = run.result("Name without the prefix")
    assert refused(prefix) and "AmazonCloudWatch-" in prefix["msg"] and "allow_any_name" in prefix["msg"]
    allowed = run.result("Name without the prefix, allowed")
    assert allowed["changed"]
    assert any("CloudWatchAgentServerPolicy" in w for w in allowed.get("warnings", []))


def test_description_and_tags(aws, ansible):
    name = "AmazonCloudWatch-metadata"
    run = ansible.playbook(PLAYBOOKS / "agent_config_metadata.yml", extra_vars={"name": name, "config": CONFIG_V1})
    created = run.result("Create with description and tags")
    assert created["changed"] and created["parameter"]["tags"] == {"team": "observability", "env": "test"}
    same = run.result("Same description and tags")
    assert not same["changed"] and same["parameter"]["version"] == 1
    other = run.result("Other description and tags")
    assert other["changed"] and other["parameter"]["tags"] == {"team": "platform"}

    ssm = aws.client("ssm")
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]
    assert described["Description"] == "Linux and Windows fleet"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert tags == [{"Key": "team", "Value": "platform"}]
    # The description change made one new version, with the same configuration.
    assert [v["Version"] for v in history(aws, name)] == [1, 2]


def test_another_writer_between_read_and_write(aws, ansible):
    """A second writer writes right before the module's PutParameter (or its read again), through a proxy
    that calls it, so the race happens every time. moto numbers versions as Parameter Store does."""
    prefix = "AmazonCloudWatch-race"
    ssm = aws.client("ssm")
    other = compact(CONFIG_V1)
    for suffix in ("fail", "retry", "busy"):
        ssm.put_parameter(Name=f"{prefix}-{suffix}", Value=compact(CONFIG_V1), Type="String")
    calls = collections.Counter()

    def other_writer(request):
        if request.service != "ssm" or request.operation not in ("GetParameter", "PutParameter"):
            return
        name = json.loads(request.body)["Name"]
        key = (name.rsplit("-", 1)[-1], request.operation)
        calls[key] += 1
        first_write = request.operation == "PutParameter" and calls[key] == 1
        # "busy": another write before each of the module's writes, and before each of its reads after one.
        busy = key[0] == "busy" and (request.operation == "PutParameter" or calls[key] > 1)
        if first_write or busy:
            ssm.put_parameter(Name=name, Value=other.replace("60", str(calls[key])), Type="String", Overwrite=True)

    with FaultProxy(aws.url, before_forward=other_writer) as proxy:
        run = ansible.playbook(
            PLAYBOOKS / "agent_config_conflict.yml",
            extra_vars={"prefix": prefix, "config": CONFIG_V2},
            env={"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url},
        )

    failed = run.result("Overwritten meanwhile, on_conflict fail")
    assert refused(failed) and failed["parameter"] == {"name": f"{prefix}-fail", "version": 3}
    assert f"parameter {prefix}-fail in us-east-1" in failed["msg"]
    assert "this run read version 1 and its write got version 3" in failed["msg"]
    assert "This run's value is current (version 3)" in failed["msg"] and "history as version 2" in failed["msg"]
    versions = history(aws, f"{prefix}-fail")
    assert [v["Version"] for v in versions] == [1, 2, 3] and versions[2]["Value"] == compact(CONFIG_V2)
    assert versions[1]["Value"] == other.replace("60", "1"), "the other writer's value is kept in the history"

    retried = run.result("Overwritten meanwhile, on_conflict retry")
    assert retried["changed"] and retried["parameter"]["version"] == 3
    assert any("(version 2)" in w and f"{prefix}-retry" in w for w in retried["warnings"])
    assert ssm.get_parameter(Name=f"{prefix}-retry")["Parameter"]["Value"] == compact(CONFIG_V2)

    created = run.result("Created meanwhile, on_conflict retry")
    assert created["changed"] and created["parameter"]["version"] == 2
    assert any("(version 1)" in w for w in created["warnings"])
    assert ssm.get_parameter(Name=f"{prefix}-create")["Parameter"]["Value"] == compact(CONFIG_V2)

    busy = run.result("Overwritten after every write, on_conflict retry")
    assert refused(busy) and "3 writes, each overtaken" in busy["msg"]
    assert busy["parameter"] == {"name": f"{prefix}-busy", "version": 9}
    assert "The other writer's value is current (version 10)" in busy["msg"]

    # A conflict costs a read again and, when needed, a write again; nothing else.
    assert dict(calls) == {
        ("fail", "GetParameter"): 1, ("fail", "PutParameter"): 1,
        ("retry", "GetParameter"): 2, ("retry", "PutParameter"): 1,
        ("create", "GetParameter"): 2, ("create", "PutParameter"): 2,
        ("busy", "GetParameter"): 4, ("busy", "PutParameter"): 3,
    }


@pytest.mark.parametrize("args, message", [
    ({"config": CONFIG_V1, "content": "{}"}, "mutually exclusive"),
    ({}, "any of the following are missing"),
    ({"restore_version": 0}, "restore_version must be"),
])
def test_bad_arguments(aws, ansible, args, message):
    result = ansible.module(MODULE, dict(name="AmazonCloudWatch-args", **args), expect_failure=True)
    assert message in result["msg"]
