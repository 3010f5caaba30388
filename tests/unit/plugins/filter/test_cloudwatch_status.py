# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status report's filters on plain data: what is read from AWS, each host's row, and how it is judged."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_status_report import cloudwatch_status_report
from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_status_rows import cloudwatch_status_rows
from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_status_wants import cloudwatch_status_wants

LINUX = "AmazonCloudWatch-linux"
EXTRA = "AmazonCloudWatch-extra"
QUIET = {"minutes": 15, "refused": 0, "throttled": 0, "codes": {}, "last": None}


def facts(version="1.300069.0b1529", parameters=None, key_id=None, status="running", errors="quiet", installed=True):
    agent = {"installed": installed, "version": version if installed else None,
             "status": {"status": status} if installed else None, "status_error": None if installed else "the agent is not installed",
             "managed_state": {"mode": "onPremise", "config_source": "ssm", "parameters": parameters or {LINUX: "d-linux-3"}},
             "credentials_file": dict({"exists": True}, **({"access_key_id": key_id} if key_id else {})),
             "aws_errors": dict(QUIET) if errors == "quiet" else errors}
    return {"changed": False, "ansible_facts": {"cloudwatch_agent": agent}}


def hostvars(**hosts):
    return dict((name, dict({"cloudwatch_agent_version": "1.300069.0b1529"}, **values)) for name, values in hosts.items())


FLEET = hostvars(
    web={"__cloudwatch_status_facts": facts(parameters={LINUX: "d-linux-3"})},
    db={"__cloudwatch_status_facts": facts(parameters={LINUX: "d-linux-2", EXTRA: "d-extra"}, key_id="AKIAOLD"),
        "cloudwatch_agent_region": "eu-west-1"},
    app={"__cloudwatch_status_facts": facts(parameters={LINUX: "d-linux-3"}, key_id="AKIAOLD")},
    gone={"__cloudwatch_status_facts": {"unreachable": True, "msg": "ssh: connect to host gone port 22: Connection refused"}},
)
AWS = {
    "parameters": {
        "": {LINUX: {"exists": True, "latest": 3, "versions": {"d-linux-3": 3}}},
        "eu-west-1": {LINUX: {"exists": True, "latest": 3, "versions": {"d-linux-2": 2}},
                      EXTRA: {"exists": True, "latest": 1, "versions": {"d-extra": None}}},
    },
    "access_keys": {"AKIAOLD": {"exists": True, "status": "Active", "age_days": 120.5, "user_name": "agent"}},
}


def judged(fleet=None, aws=None, hosts=("web", "db", "app", "gone"), ec2=("web",)):
    rows = cloudwatch_status_rows(fleet or FLEET, list(hosts), list(ec2), AWS if aws is None else aws)
    return cloudwatch_status_report(rows, "now", 90)


def test_wants_each_digest_by_region_and_each_key_once():
    assert cloudwatch_status_wants(FLEET, ["web", "db", "app", "gone"]) == {
        "regions": {"": {LINUX: ["d-linux-3"]}, "eu-west-1": {LINUX: ["d-linux-2"], EXTRA: ["d-extra"]}},
        "access_key_ids": ["AKIAOLD"],
    }


def test_versions_found_in_the_history_and_key_age_from_iam_are_shown():
    report = judged()
    hosts = dict((h["host"], h) for h in report["hosts"])
    assert hosts["web"]["health"] == "healthy" and hosts["web"]["notes"] == []
    assert hosts["web"]["display"]["configuration"] == ["ssm", "AmazonCloudWatch-linux v3"]
    assert hosts["web"]["display"]["key"] == "-"
    db = hosts["db"]
    assert db["display"]["configuration"] == ["ssm", "AmazonCloudWatch-extra (not in its history)", "AmazonCloudWatch-linux v2 (latest v3)"]
    assert db["display"]["key"] == "120.5 days (AKIAOLD, Active)"
    assert db["health"] == "warning"
    assert db["notes"] == ["access key older than 90 days: rotate it (playbook rotate_keys)",
                           "runs a value of AmazonCloudWatch-extra that is not in its history",
                           "runs AmazonCloudWatch-linux v2, v3 is the latest"]
    assert hosts["gone"]["health"] == "failing" and "Connection refused" in hosts["gone"]["notes"][0]
    assert report["summary"]["healthy"] == 1 and report["summary"]["warning"] == 2 and report["summary"]["failing"] == 1
    assert report["summary"]["unreachable"] == 1 and report["summary"]["running"] == 3


def test_an_agent_whose_every_request_is_refused_is_failing_though_it_runs():
    refused = dict(QUIET, refused=42, codes={"AccessDeniedException": 42}, last="... AccessDeniedException: not authorized")
    fleet = hostvars(web={"__cloudwatch_status_facts": facts(errors=refused)})
    host = judged(fleet, hosts=["web"])["hosts"][0]
    assert host["state"] == "running" and host["health"] == "failing"
    assert host["notes"] == ["AWS refused 42 requests in the last 15 minutes (AccessDeniedException): ... AccessDeniedException: not authorized"]
    assert host["display"]["aws_errors"] == "42 refused in 15 min"


def test_throttling_a_version_not_wanted_and_an_unread_log_are_warnings():
    throttled = dict(QUIET, throttled=3, codes={"ThrottlingException": 3})
    fleet = hostvars(a={"__cloudwatch_status_facts": facts(errors=throttled)},
                     b={"__cloudwatch_status_facts": facts(version="1.300068.0")},
                     c={"__cloudwatch_status_facts": facts(errors=None)})
    hosts = judged(fleet, hosts=["a", "b", "c"])["hosts"]
    assert [h["health"] for h in hosts] == ["warning", "warning", "warning"]
    assert hosts[0]["notes"] == ["AWS throttled 3 requests in the last 15 minutes (ThrottlingException)"]
    assert hosts[1]["notes"] == ["runs version 1.300068.0, 1.300069.0b1529 is wanted"]
    assert hosts[1]["display"]["version"] == "1.300068.0 (wanted 1.300069.0b1529)"
    assert hosts[2]["notes"] == ["the agent's log was not read: AWS errors unknown"]


@pytest.mark.parametrize("described, note", [
    ({"exists": False}, "access key AKIAX is not in this account's IAM"),
    ({"exists": True, "status": "Inactive", "age_days": 1.0}, "access key AKIAX is Inactive"),
])
def test_a_key_iam_does_not_accept_is_failing(described, note):
    fleet = hostvars(db={"__cloudwatch_status_facts": facts(key_id="AKIAX")})
    host = judged(fleet, aws=dict(AWS, access_keys={"AKIAX": described}), hosts=["db"], ec2=[])["hosts"][0]
    assert host["health"] == "failing" and host["notes"] == [note]


def test_without_aws_versions_and_ages_show_as_not_read_and_judge_nothing():
    fleet = hostvars(db={"__cloudwatch_status_facts": facts(key_id="AKIAX")})
    host = judged(fleet, aws={}, hosts=["db"], ec2=[])["hosts"][0]
    assert host["health"] == "healthy"
    assert host["display"]["configuration"] == ["ssm", "AmazonCloudWatch-linux (version not read)"]
    assert host["display"]["key"] == "AKIAX: age not read"


def test_latest_is_not_compared_and_a_missing_agent_fails():
    fleet = hostvars(a={"__cloudwatch_status_facts": facts(version="1.300070.0"), "cloudwatch_agent_version": "latest"},
                     b={"__cloudwatch_status_facts": facts(installed=False)})
    hosts = judged(fleet, hosts=["a", "b"])["hosts"]
    assert hosts[0]["health"] == "healthy" and hosts[0]["display"]["version"] == "1.300070.0 (latest wanted: not compared)"
    assert hosts[1]["state"] == "not installed" and hosts[1]["notes"] == ["the agent is not installed"]


def test_the_table_has_a_line_per_host_with_the_same_texts():
    table = judged()["table"]
    assert table[1] == "4 hosts: 1 healthy, 2 warning, 1 failing (3 running, 0 stopped, 0 not installed, 1 unreachable)"
    assert table[2].split()[:6] == ["HOST", "WHERE", "HEALTH", "STATE", "VERSION", "MODE"]
    db = next(line for line in table if line.startswith("db "))
    assert "120.5 days (AKIAOLD, Active)" in db and "AmazonCloudWatch-linux v2 (latest v3)" in db and "none in 15 min" in db


def test_rows_that_are_not_a_list_of_dictionaries_are_refused():
    with pytest.raises(AnsibleFilterError, match="list of rows"):
        cloudwatch_status_report({"hosts": []}, "now")
