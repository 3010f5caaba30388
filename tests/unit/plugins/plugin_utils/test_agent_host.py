# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's decisions on plain data: each branch the role's tasks used to take in `when:` conditions.

A plan of None means the host is not reached again on this run; these tests build a host that holds everything as
wanted, then change one thing at a time and check that exactly that reaches the host.
"""

import configparser
import copy
import hashlib
import inspect
import json

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_unit
from ansible_collections.observability.cloudwatch.plugins.module_utils import log_access
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import AgentPlanError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import agent_host

PREFIX = "/opt/aws/amazon-cloudwatch-agent"
PATHS = {"prefix": PREFIX, "common_config": PREFIX + "/etc/common-config.toml",
         "credentials_file": "/etc/observability.cloudwatch/credentials",
         "dropin": "/etc/systemd/system/amazon-cloudwatch-agent.service.d/observability-cloudwatch.conf",
         "state_dir": "/var/lib/observability.cloudwatch", "state_file": "/var/lib/observability.cloudwatch/state.json",
         "delivered_dir": "/var/lib/observability.cloudwatch/delivered", "unit_dir": "/etc/systemd/system"}
KEY = {"access_key_id": "AKIAEXAMPLE0000001", "secret_access_key": "s3cr3t/example+KEY"}
CONFIG = {"agent": {"run_as_user": "cwagent"},
          "logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/var/log/syslog"}]}}},
          "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
ALLOWED = {"run_as_users": ["cwagent", "root"], "endpoints": [], "log_paths": ["/var/log/**"]}
SYSTEM = {"system": "Linux", "distribution": "Debian", "architecture": "x86_64"}
PYTHON = "/usr/bin/python3.11"
PROGRAM = inspect.getsource(log_access)


def settings(**changes):
    base = {"mode": "onPremise", "allow_onprem_on_ec2": False, "config_source": "inline", "ssm_parameters": [],
            "ssm_fetch": "agent", "ssm_parameter_values": {}, "allow_any_parameter_name": False, "config_file": "",
            "config": CONFIG, "region": "eu-west-1", "access_key_store": "", "has_credentials": True,
            "credentials_file": PATHS["credentials_file"], "proxy": {}, "ca_bundle": "", "imds_retries": 0,
            "version": "1.300069.0b1529", "package_file": "", "package_verify": "gpg", "package_sha256": "",
            "fingerprint": "937616F3450B7D806CBD9725D58167303B789C72", "signature_file": "",
            "package_base_url": "https://amazoncloudwatch-agent.s3.amazonaws.com",
            "gpg_key_url": "https://amazoncloudwatch-agent.s3.amazonaws.com/assets/amazon-cloudwatch-agent.gpg",
            "allow_http_download": False,
            "platform": {"arch": "amd64", "os_path": "debian"}, "sandbox": True, "sandbox_write_paths": [],
            "allowed": ALLOWED}
    base.update(changes)
    return agent_host.settings(base)


def file_state(content, mode, owner, group):
    return {"exists": True, "mode": mode, "owner": owner, "group": group, "sha256": agent_plan.sha256(content)}


def held_in_place(s, mode="onPremise", key=None):
    """What agent_facts reads on a host where the role already applied these settings."""
    key = key or KEY
    docs = agent_plan.documents(s)
    user = agent_plan.needs(docs)["run_as_user"]
    files = {PATHS["dropin"]: {"exists": False}}
    unit = agent_unit.dropin(mode, s["sandbox"], s["sandbox_write_paths"])
    if unit is not None:
        files[PATHS["dropin"]] = file_state(unit, "0644", "root", "root")
    for want in log_access.wanted_files(agent_plan.parsed(docs), user, s["allowed"]["log_paths"], PATHS, PYTHON, PROGRAM):
        files[want["path"]] = file_state(want["content"], want["mode"], "root", "root")
    return {
        "ec2": False, "ec2_evidence": None, "version": "1.300069.0b1529",
        "config_files": dict((d["dname"], {"sha256": d["sha256"]}) for d in docs),
        "json_config": {"exists": False}, "toml_exists": True,
        "common_config": file_state(agent_plan.common_config(mode, s), "0640", user, user),
        "credentials_file": dict(file_state(agent_plan.credentials(key, s["region"]), "0640", "root", user), matches=True)
        if mode == "onPremise" else {"exists": False},
        "managed_state": agent_plan.state_record(mode, s, docs, user),
        "delivered_files": dict((d["stage"], {"sha256": d["sha256"], "mode": "0600"}) for d in docs),
        "files": files, "groups": {"adm": ["syslog", user]}, "present": {}, "python": PYTHON,
    }


def plan(s, held, mode="onPremise", key=None, **kwargs):
    key = key or KEY
    docs = agent_plan.documents(s, kwargs.pop("file_config", None), kwargs.pop("values", None))
    return agent_host.plan(s, PATHS, held, mode, key, docs, ["adm"], **kwargs)


# --- a host that holds everything as wanted is not reached ---------------------------------------------------------
@pytest.mark.parametrize("mode", ["onPremise", "ec2"])
@pytest.mark.parametrize("sandbox", [True, False])
def test_nothing_to_do_reaches_no_host(mode, sandbox):
    s = settings(mode=mode, sandbox=sandbox)
    assert plan(s, held_in_place(s, mode), mode) is None


def test_credentials_with_another_content_are_written():
    s = settings()
    held = held_in_place(s)
    held["credentials_file"]["matches"] = False
    args = plan(s, held)
    assert [f["path"] for f in args["files"]][0] == PATHS["credentials_file"]
    assert args["files"][0]["secret"] is True and args["files"][0]["mode"] == "0640"
    assert args["files"][0]["owner"] == "root" and args["files"][0]["group"] == "agent"


@pytest.mark.parametrize("field, value", [("mode", "0644"), ("owner", "root"), ("group", "adm"), ("sha256", "0" * 64)])
def test_common_config_not_as_wanted_is_written(field, value):
    s = settings()
    held = held_in_place(s)
    held["common_config"][field] = value
    assert plan(s, held) is not None


def test_ec2_host_loses_the_credentials_file_and_gets_the_dropin():
    s = settings(mode="ec2")
    held = held_in_place(s, "ec2")
    held["credentials_file"] = {"exists": False, "link": True}
    args = plan(s, held, "ec2")
    assert args["absent"] == [PATHS["credentials_file"]]
    assert agent_unit.dropin("ec2") in [f["content"] for f in args["files"]]
    assert PATHS["credentials_file"] not in [f["path"] for f in args["files"]]


# --- the sandboxed unit ------------------------------------------------------------------------------------------
# The drop-in as earlier versions of the role wrote it: the mode alone, in ec2 mode only.
MODE_ONLY = agent_unit.HEADER + "\n# The agent's service translates its configuration again in auto mode at every start: " \
    "keep ec2 mode.\n[Service]\nEnvironment=RUN_IN_AWS=True\n"


@pytest.mark.parametrize("mode, before", [("ec2", MODE_ONLY), ("onPremise", None)], ids=["ec2 mode only", "none"])
def test_a_host_without_the_sandbox_gets_it_as_root_file(mode, before):
    s = settings(mode=mode)
    held = held_in_place(s, mode)
    held["files"][PATHS["dropin"]] = file_state(before, "0644", "root", "root") if before else {"exists": False}
    args = plan(s, held, mode)
    unit = [f for f in args["files"] if f["path"] == PATHS["dropin"]]
    assert len(unit) == 1 and unit[0]["content"] == agent_unit.dropin(mode)
    assert [unit[0]["owner"], unit[0]["group"], unit[0]["mode"], unit[0]["secret"]] == ["root", "root", "0644", False]
    assert "ProtectSystem=strict" in unit[0]["content"] and args["absent"] == []


@pytest.mark.parametrize("mode", ["ec2", "onPremise"])
def test_the_dropin_sandboxes_the_service_as_systemd_reads_it(mode):
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str
    parser.read_string(agent_unit.dropin(mode))
    assert parser.sections() == ["Service"]
    service = dict(parser["Service"])
    assert {name: service.get(name) for name in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp")} == {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "read-only", "PrivateTmp": "yes"}
    assert service["ReadWritePaths"].split() == ["-%s/%s" % (PREFIX, name) for name in ("etc", "logs", "var")]
    assert service.get("Environment") == ("RUN_IN_AWS=True" if mode == "ec2" else None)


@pytest.mark.parametrize("field, value", [("mode", "0666"), ("owner", "cwagent"), ("sha256", "0" * 64)])
def test_a_dropin_edited_or_opened_to_others_is_written_again(field, value):
    s = settings()
    held = held_in_place(s)
    held["files"][PATHS["dropin"]][field] = value
    assert PATHS["dropin"] in [f["path"] for f in plan(s, held)["files"]]


def test_sandbox_off_keeps_only_the_mode_on_ec2_and_removes_the_dropin_on_premises():
    s = settings(mode="ec2", sandbox=False)
    files = plan(s, held_in_place(settings(mode="ec2"), "ec2"), "ec2")["files"]
    assert [f["content"] for f in files if f["path"] == PATHS["dropin"]] == [MODE_ONLY]
    assert plan(s, held_in_place(s, "ec2"), "ec2") is None
    s = settings(sandbox=False)
    args = plan(s, held_in_place(settings()))
    assert args["absent"] == [PATHS["dropin"]] and PATHS["dropin"] not in [f["path"] for f in args["files"]]


def test_write_paths_reach_the_dropin():
    s = settings(sandbox_write_paths=["/var/log/app", "/srv/agent.log"])
    unit = [f["content"] for f in plan(s, held_in_place(settings()))["files"] if f["path"] == PATHS["dropin"]][0]
    assert "ReadWritePaths=-%s/etc -%s/logs -%s/var -/var/log/app -/srv/agent.log\n" % (PREFIX, PREFIX, PREFIX) in unit


@pytest.mark.parametrize("path", ["var/log/app", "/", "//", "/var/log/my app", "/var/log/app\n[Service]", "/srv/%h",
                                  "/var/log/../../etc", "/srv/a;b", '"/srv"', "/srv/./x", 7])
def test_write_paths_systemd_would_misread_are_refused_before_any_write(path):
    with pytest.raises(AgentPlanError, match="cloudwatch_agent_sandbox_write_paths: .* is not allowed.*cloudwatch_agent_sandbox: false"):
        agent_plan.check_settings(settings(sandbox_write_paths=["/var/log/app", path]), "onPremise", {"ec2": False}, SYSTEM, "web-1")


@pytest.mark.parametrize("change", [
    lambda h: h["config_files"].update({"file_inline.json": {"sha256": "0" * 64}}),
    lambda h: h["json_config"].update({"exists": True}),
    lambda h: h.update({"toml_exists": False}),
    lambda h: h.update({"managed_state": dict(h["managed_state"], mode="ec2")}),
    lambda h: h.update({"managed_state": None}),
    lambda h: h["delivered_files"].update({"stray.json": {"sha256": "0" * 64, "mode": "0600"}}),
    lambda h: h["delivered_files"]["inline.json"].update({"mode": "0644"}),
    lambda h: h["groups"].update({"adm": ["syslog"]}),
    lambda h: h["present"].update({PREFIX + "/etc/observability.cloudwatch.state.json": True}),
], ids=["document digest", "json config", "no toml", "other mode", "no record", "stray delivered",
        "delivered mode", "not in adm", "old state file"])
def test_each_difference_reaches_the_host(change):
    s = settings()
    held = held_in_place(s)
    change(held)
    assert plan(s, held) is not None


def test_a_group_the_host_lacks_is_not_asked_for():
    s = settings()
    held = held_in_place(s)
    held["groups"] = {}
    assert plan(s, held) is None


def test_an_agent_running_as_root_joins_no_group():
    needs = agent_plan.needs([agent_plan.document("a", "file_a", "x", "file:a", json.dumps({"logs": CONFIG["logs"]}))])
    assert needs["run_as_user"] == "root"
    assert agent_plan.missing_groups(needs, {"adm": []}, ["adm"]) == []


def test_check_mode_without_an_agent_reaches_no_host():
    s = settings()
    held = held_in_place(s)
    held["common_config"] = {"exists": False}
    assert plan(s, held, nothing_yet=True) is None


def test_documents_read_by_the_agent_always_go_to_the_host():
    s = settings(config_source="ssm", ssm_parameters=["AmazonCloudWatch-linux"], ssm_fetch="agent")
    held = held_in_place(settings())
    args = plan(s, held)
    assert args["documents"] is None and args["download"] == ["AmazonCloudWatch-linux"]


def test_collectd_needs_types_db_where_none_exists():
    config = dict(CONFIG, metrics={"metrics_collected": {"collectd": {}}})
    s = settings(config=config)
    held = held_in_place(s)
    assert plan(s, held) is not None
    held["files"][agent_plan.COLLECTD_TYPES_DB] = {"exists": True}
    assert plan(s, held) is None


# --- documents ----------------------------------------------------------------------------------------------------
def test_inline_document_keeps_the_digest_of_earlier_versions():
    doc = agent_plan.documents(settings(config={"b": 1, "a": {"x": [1, 2]}}))[0]
    assert doc["content"] == '{\n  "a": {\n    "x": [\n      1,\n      2\n    ]\n  },\n  "b": 1\n}\n'
    assert (doc["stage"], doc["dname"], doc["location"]) == ("inline.json", "file_inline.json", "file:inline.json")


def test_file_document_is_named_after_the_file():
    s = settings(config_source="file", config_file="/srv/cfg/my agent:1.json", config={})
    doc = agent_plan.documents(s, {"agent": {}})[0]
    assert (doc["stage"], doc["dname"], doc["source"]) == ("my_agent_1.json", "file_my_agent_1.json", "/srv/cfg/my agent:1.json")


def test_controller_read_parameters_in_order_given_values_first():
    s = settings(config_source="ssm", ssm_fetch="controller", config={},
                 ssm_parameters=["AmazonCloudWatch-b/x", "AmazonCloudWatch-a"],
                 ssm_parameter_values={"AmazonCloudWatch-a": {"agent": {}}})
    docs = agent_plan.documents(s, values={"AmazonCloudWatch-b/x": '{"metrics": {}}', "AmazonCloudWatch-a": "ignored"})
    assert [d["stage"] for d in docs] == ["AmazonCloudWatch-b_x.json", "AmazonCloudWatch-a.json"]
    assert [d["content"] for d in docs] == ['{"metrics": {}}', '{"agent": {}}']


def test_a_parameter_not_read_is_an_error():
    s = settings(config_source="ssm", ssm_fetch="controller", config={}, ssm_parameters=["AmazonCloudWatch-a"])
    with pytest.raises(AgentPlanError, match="AmazonCloudWatch-a was not read"):
        agent_plan.documents(s, values={})


@pytest.mark.parametrize("content, message", [("not json", "is not JSON"), ("[1]", "does not hold a JSON object")])
def test_a_document_that_is_no_object_is_refused(content, message):
    with pytest.raises(AgentPlanError, match=message):
        agent_plan.needs([agent_plan.downloaded("AmazonCloudWatch-a", content)])


def test_needs_collectd_types_db_given_or_default():
    given = {"metrics": {"metrics_collected": {"collectd": {"collectd_typesdb": ["/x/types.db"]}}}}
    docs = [agent_plan.document("a", "file_a", "a", "file:a", json.dumps(given)),
            agent_plan.document("b", "file_b", "b", "file:b", json.dumps({"metrics": {"metrics_collected": {"collectd": {}}}}))]
    assert agent_plan.needs(docs)["types_db"] == ["/usr/share/collectd/types.db", "/x/types.db"]


# --- file contents ------------------------------------------------------------------------------------------------
def test_common_config_sections():
    s = settings(proxy={"https_proxy": "http://user:pw@proxy:3128", "no_proxy": "169.254.169.254"}, ca_bundle="/etc/ca.pem", imds_retries=3)
    text = agent_plan.common_config("onPremise", s)
    assert ('[credentials]\n  shared_credential_profile = "AmazonCloudWatchAgent"\n'
            '  shared_credential_file = "/etc/observability.cloudwatch/credentials"') in text
    assert '[proxy]\n  https_proxy = "http://user:pw@proxy:3128"\n  no_proxy = "169.254.169.254"' in text
    assert '[ssl]\n  ca_bundle_path = "/etc/ca.pem"' in text and "[imds]\n  imds_retries = 3" in text
    assert "[credentials]" not in agent_plan.common_config("ec2", settings())


def test_common_config_with_a_proxy_is_secret_even_on_ec2():
    files = agent_host.wanted_files(settings(proxy={"http_proxy": "http://u:p@h:1"}), PATHS, "ec2", None)
    assert [f["secret"] for f in files if f["path"] == PATHS["common_config"]] == [True]
    assert [f["secret"] for f in agent_host.wanted_files(settings(), PATHS, "ec2", None) if f["path"] == PATHS["common_config"]] == [False]


def test_credentials_file_holds_the_profile():
    assert agent_plan.credentials(KEY, "eu-west-1").endswith(
        "[AmazonCloudWatchAgent]\naws_access_key_id = AKIAEXAMPLE0000001\naws_secret_access_key = s3cr3t/example+KEY\nregion = eu-west-1\n")


# --- mode and checks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("requested, hardware, vendor, mode", [
    ("ec2", False, "", "ec2"), ("onPremise", True, "", "onPremise"), ("auto", True, "", "ec2"),
    ("auto", False, "Amazon EC2", "ec2"), ("auto", False, "QEMU", "onPremise")])
def test_mode(requested, hardware, vendor, mode):
    assert agent_plan.resolve_mode(requested, hardware, vendor) == mode


def test_onprem_mode_on_ec2_hardware_is_refused_unless_allowed():
    held = {"ec2": True, "ec2_evidence": "sys_vendor=Amazon EC2"}
    with pytest.raises(AgentPlanError, match="web-1 is an EC2 instance by its own hardware .sys_vendor=Amazon EC2."):
        agent_plan.check_settings(settings(), "onPremise", held, SYSTEM, "web-1")
    assert agent_plan.check_settings(settings(allow_onprem_on_ec2=True), "onPremise", held, SYSTEM, "web-1") == []


@pytest.mark.parametrize("changes, system, message", [
    ({"platform": {"arch": "", "os_path": ""}}, SYSTEM, "No CloudWatch agent package is published for Debian x86_64"),
    ({}, dict(SYSTEM, system="FreeBSD"), "No CloudWatch agent package"),
    ({"config_source": "ssm", "ssm_parameters": ["cw-linux"]}, SYSTEM, 'must start with "AmazonCloudWatch-".*cw-linux'),
    ({"config_source": "ssm"}, SYSTEM, "needs cloudwatch_agent_ssm_parameters"),
    ({"config_source": "file"}, SYSTEM, "needs cloudwatch_agent_config_file"),
    ({"config": {}}, SYSTEM, "needs cloudwatch_agent_config "),
    ({"has_credentials": False}, SYSTEM, "needs credentials and a region"),
    ({"region": ""}, SYSTEM, "needs credentials and a region"),
    ({"access_key_store": "vault:x"}, SYSTEM, "needs credentials and a region"),
    ({"package_verify": "sha256", "package_sha256": "abc"}, SYSTEM, "Package settings do not fit together"),
    ({"fingerprint": "937616F3"}, SYSTEM, "Package settings"),
    ({"version": "v1; rm -rf /"}, SYSTEM, "Package settings"),
    ({"version": "latest", "package_file": "/srv/agent.deb"}, SYSTEM, "Package settings"),
])
def test_settings_that_cannot_work_are_refused(changes, system, message):
    with pytest.raises(AgentPlanError, match=message):
        agent_plan.check_settings(settings(**changes), "onPremise", {"ec2": False}, system, "web-1")


def test_names_without_the_prefix_are_accepted_with_a_warning_when_allowed():
    s = settings(config_source="ssm", ssm_parameters=["cw-linux"], allow_any_parameter_name=True)
    warnings = agent_plan.check_settings(s, "ec2", {"ec2": True}, SYSTEM, "web-1")
    assert warnings and "cw-linux lack the AmazonCloudWatch- prefix" in warnings[0]


def test_ec2_needs_no_credentials():
    assert agent_plan.check_settings(settings(has_credentials=False, region=""), "ec2", {"ec2": True}, SYSTEM, "i-1") == []


@pytest.mark.parametrize("key", [None, {}, {"access_key_id": "AKIA"}, {"secret_access_key": "x"}])
def test_a_key_pair_without_both_parts_is_refused_without_showing_it(key):
    with pytest.raises(AgentPlanError, match="ssm:/keys/a lacks access_key_id or secret_access_key") as caught:
        agent_plan.check_key(key, "ssm:/keys/a")
    assert "x" not in str(caught.value).replace("ssm:/keys/a", "").replace("lacks", "").replace("secret_access_key", "")


def test_missing_package_files_on_the_controller(tmp_path):
    (tmp_path / "agent.deb").write_bytes(b"deb")
    s = settings(package_file=str(tmp_path / "agent.deb"), signature_file=str(tmp_path / "agent.deb.sig"))
    assert agent_host.missing_package_files(s) == [str(tmp_path / "agent.deb.sig")]
    assert agent_host.missing_package_files(settings(package_file=str(tmp_path / "agent.deb"), package_verify="none")) == []


# --- the key pairs and parameters read once per run ----------------------------------------------------------------
def test_key_comes_from_the_store_read_in_this_run():
    s = settings(access_key_store="ssm:/keys/a")
    assert agent_host.key_for(s, {"ssm:/keys/a|eu-west-1": KEY}, {}) == KEY
    with pytest.raises(AgentPlanError, match="ssm:/keys/a was not read"):
        agent_host.key_for(s, {"ssm:/keys/a|us-east-1": KEY}, {})
    assert agent_host.key_for(settings(), {}, KEY) == KEY
    assert agent_host.key_for(settings(access_key_store="vault:agent-key"), {}, {}) is None


def test_what_a_host_needs_read_on_the_controller():
    assert agent_host.needs_read(settings(access_key_store="file:/k/a.json")) == {
        "keys": {"file:/k/a.json|eu-west-1": ["file:/k/a.json", "eu-west-1"]}, "parameters": {}}
    # ec2 mode needs no key; a store neither ssm: nor file: is not read (the check refuses it).
    assert agent_host.needs_read(settings(access_key_store="ssm:/k/c", mode="ec2"))["keys"] == {}
    assert agent_host.needs_read(settings(access_key_store="vault:agent-key"))["keys"] == {}
    ssm = dict(config_source="ssm", ssm_parameters=["AmazonCloudWatch-a", "AmazonCloudWatch-b"], config={})
    assert agent_host.needs_read(settings(ssm_fetch="controller", **ssm))["parameters"] == {"eu-west-1": ["AmazonCloudWatch-a", "AmazonCloudWatch-b"]}
    given = settings(ssm_fetch="controller", ssm_parameter_values={"AmazonCloudWatch-b": {}}, **ssm)
    assert agent_host.needs_read(given)["parameters"] == {"eu-west-1": ["AmazonCloudWatch-a"]}
    assert agent_host.needs_read(settings(ssm_fetch="agent", **ssm))["parameters"] == {}


def test_batch_reads_each_store_and_parameter_once():
    a = settings(access_key_store="file:/k/a.json", config_source="ssm", ssm_fetch="controller", ssm_parameters=["AmazonCloudWatch-a"], config={})
    b = settings(access_key_store="ssm:/k/b", region="us-east-1", config_source="ssm", ssm_fetch="controller",
                 ssm_parameters=["AmazonCloudWatch-a", "AmazonCloudWatch-b"], config={})
    needs = agent_host.batch_needs(agent_host.needs_read(one) for one in (a, a, b, b))
    assert needs["keys"] == {"file:/k/a.json|eu-west-1": ["file:/k/a.json", "eu-west-1"], "ssm:/k/b|us-east-1": ["ssm:/k/b", "us-east-1"]}
    assert needs["parameters"] == {"eu-west-1": ["AmazonCloudWatch-a"], "us-east-1": ["AmazonCloudWatch-a", "AmazonCloudWatch-b"]}


def test_credentials_digest_is_of_the_file_the_host_gets():
    s = settings()
    assert agent_host.credentials_digest(s, KEY) == agent_plan.sha256(agent_plan.credentials(KEY, "eu-west-1"))
    assert agent_host.credentials_digest(s, None) is None


def test_plan_carries_the_secret_only_in_the_credentials_file():
    s = settings()
    held = held_in_place(s)
    held["credentials_file"]["matches"] = False
    args = copy.deepcopy(plan(s, held))
    credentials = args["files"].pop(0)
    assert KEY["secret_access_key"] in credentials["content"]
    assert KEY["secret_access_key"] not in json.dumps(args)


def test_a_configuration_writing_outside_the_sandbox_is_named_in_a_warning():
    config = {"agent": {"logfile": "/var/log/cwagent.log"},
              "logs": {"logs_collected": {"files": {"collect_list": [
                  {"file_path": "/var/log/app/*.log", "auto_removal": True},
                  {"file_path": "/srv/batch/out.log", "auto_removal": True},
                  {"file_path": "/var/log/kept.log"}]}}}}
    warnings = agent_host.sandbox_warnings(settings(config=config, sandbox_write_paths=["/srv/batch/"]), agent_plan.documents(settings(config=config)))
    assert len(warnings) == 2
    assert "keeps /var/log/cwagent.log read-only" in warnings[0] and "(agent.logfile)" in warnings[0]
    assert "keeps /var/log/app read-only" in warnings[1] and "auto_removal of /var/log/app/*.log" in warnings[1]
    assert all("cloudwatch_agent_sandbox_write_paths" in warning for warning in warnings)
    assert agent_host.sandbox_warnings(settings(config=config, sandbox=False), agent_plan.documents(settings(config=config))) == []
    inside = {"agent": {"logfile": PREFIX + "/logs/other.log"}}
    assert agent_host.sandbox_warnings(settings(config=inside), agent_plan.documents(settings(config=inside))) == []


# --- the record lets the status report find the parameter versions a host runs ------------------------------------
def test_the_record_holds_the_digest_of_each_parameter_value_however_it_was_read():
    value = json.dumps(CONFIG)
    s = settings(config_source="ssm", ssm_parameters=["AmazonCloudWatch-linux"], ssm_fetch="controller")
    by_controller = agent_plan.state_record("onPremise", s, agent_plan.documents(s, values={"AmazonCloudWatch-linux": value}), "cwagent")
    by_agent = agent_plan.state_record("onPremise", s, [agent_plan.downloaded("AmazonCloudWatch-linux", value)], "cwagent")
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    assert by_controller["parameters"] == by_agent["parameters"] == {"AmazonCloudWatch-linux": digest}
    # An inline configuration is no parameter.
    assert agent_plan.state_record("onPremise", settings(), agent_plan.documents(settings()), "cwagent")["parameters"] == {}


def test_a_missing_or_changed_log_access_unit_reaches_the_host_and_an_unneeded_one_is_removed():
    s = settings()
    where = log_access.locations(PATHS)
    held = held_in_place(s)
    held["files"][where["path"]] = {"exists": False}
    assert plan(s, held)["log_access_program"] == PROGRAM
    held = held_in_place(s)
    held["python"] = "/usr/libexec/platform-python"
    assert plan(s, held) is not None
    # The agent runs as root now: it reads every file, the unit has nothing left to do.
    root = settings(config=dict(CONFIG, agent={"run_as_user": "root"}))
    assert plan(root, held_in_place(root)) is None
    held = held_in_place(root)
    held["files"][where["spec"]] = {"exists": True, "mode": "0600", "owner": "root", "group": "root", "sha256": "0" * 64}
    assert plan(root, held) is not None
