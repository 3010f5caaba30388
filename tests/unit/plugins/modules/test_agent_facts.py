# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_facts: one read of the agent's state, never the credentials' contents."""

import hashlib
import json
import os
import sys
import time

import pytest

from ansible_collections.observability.cloudwatch.plugins.modules import agent_facts

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
CREDENTIALS = "[AmazonCloudWatchAgent]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET)


class Exit(Exception):
    pass


def run(monkeypatch, tmp_path, params, commands=None):
    """Run main() with params; commands maps argv[0] basename to (rc, out, err)."""
    commands = commands or {}
    calls = []

    class FakeModule:
        def __init__(self, argument_spec, supports_check_mode):
            assert supports_check_mode
            self.params = {key: spec.get("default") for key, spec in argument_spec.items()}
            # The role's files as the test agent's tree keeps them (the defaults are outside it, in /etc and /var/lib).
            etc = os.path.join(params.get("prefix", "/nonexistent"), "etc")
            self.params.update(credentials_file=os.path.join(etc, "credentials"), delivered_dir=os.path.join(etc, "observability.cloudwatch.d"),
                               state_file=os.path.join(etc, "observability.cloudwatch.state.json"))
            self.params.update(params)

        def run_command(self, argv):
            calls.append(argv)
            return commands.get(os.path.basename(argv[0]), (1, "", "not found"))

        def get_bin_path(self, name):
            return "/bin/" + name if name in commands else None

        def exit_json(self, **result):
            self.result = result
            raise Exit(result)

        def fail_json(self, **result):
            raise Exit(dict(result, failed=True, changed=False))

    monkeypatch.setattr(agent_facts, "AnsibleModule", FakeModule)
    monkeypatch.setattr(agent_facts, "DMI_DIR", str(tmp_path / "dmi"))
    monkeypatch.setattr(agent_facts, "HYPERVISOR_UUID", str(tmp_path / "hypervisor" / "uuid"))
    with pytest.raises(Exit) as exited:
        agent_facts.main()
    result = exited.value.args[0]
    assert result["changed"] is False
    if result.get("failed"):
        return result, calls
    return result["ansible_facts"]["cloudwatch_agent"], calls


@pytest.fixture
def agent(tmp_path):
    prefix = tmp_path / "agent"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "etc" / "amazon-cloudwatch-agent.d").mkdir(parents=True)
    ctl = prefix / "bin" / "amazon-cloudwatch-agent-ctl"
    ctl.write_text("#!/bin/sh\n")
    ctl.chmod(0o755)
    (prefix / "bin" / "CWAGENT_VERSION").write_text("1.300069.0b1529\n")
    (prefix / "etc" / "amazon-cloudwatch-agent.d" / "ssm_AmazonCloudWatch-linux").write_text('{"agent": {}}')
    (prefix / "etc" / "amazon-cloudwatch-agent.toml").write_text("")
    (prefix / "etc" / "common-config.toml").write_text("[credentials]\n")
    credentials = prefix / "etc" / "credentials"
    credentials.write_text(CREDENTIALS)
    credentials.chmod(0o600)
    (prefix / "etc" / "observability.cloudwatch.state.json").write_text(json.dumps({"mode": "onPremise"}))
    return prefix


STATUS = json.dumps({"status": "running", "starttime": "2024-01-01T00:00:00+00:00", "configstatus": "configured", "version": "1.300069.0b1529"})
SYSTEMCTL = "ActiveState=active\nSubState=running\nMainPID=42\nNRestarts=0\n"


def test_reads_everything_in_one_call(monkeypatch, tmp_path, agent):
    facts, calls = run(
        monkeypatch, tmp_path, {"prefix": str(agent)}, {"amazon-cloudwatch-agent-ctl": (0, "noise\n" + STATUS, ""), "systemctl": (0, SYSTEMCTL, "")}
    )
    assert facts["installed"] is True
    assert facts["version"] == "1.300069.0b1529"
    assert facts["config_files"]["ssm_AmazonCloudWatch-linux"]["sha256"] == hashlib.sha256(b'{"agent": {}}').hexdigest()
    assert facts["toml_exists"] is True
    assert facts["json_config"]["exists"] is False
    assert facts["common_config"]["exists"] is True
    assert facts["credentials_file"]["mode"] == "0600"
    assert facts["credentials_file"]["access_key_id"] == KEY_ID
    assert facts["managed_state"] == {"mode": "onPremise"}
    assert facts["status"]["status"] == "running"
    assert facts["service"]["MainPID"] == "42"
    assert facts["ec2"] is False
    assert [os.path.basename(call[0]) for call in calls] == ["systemctl", "amazon-cloudwatch-agent-ctl"]


def test_never_returns_the_credentials_contents_or_their_digest(monkeypatch, tmp_path, agent):
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent)})
    assert SECRET not in json.dumps(facts)
    assert hashlib.sha256((agent / "etc" / "credentials").read_bytes()).hexdigest() not in json.dumps(facts)
    assert "sha256" not in facts["credentials_file"]
    assert facts["credentials_file"]["exists"] is True
    assert facts["credentials_file"]["mode"] == "0600"


def test_a_link_is_reported_never_followed(monkeypatch, tmp_path, agent):
    # As root, following these would hash or stat a file the agent's user chose.
    target = tmp_path / "shadow"
    target.write_text("root-only\n")
    target.chmod(0o600)
    etc = agent / "etc"
    (etc / "common-config.toml").unlink()
    (etc / "common-config.toml").symlink_to(target)
    (etc / "amazon-cloudwatch-agent.d" / "linked").symlink_to(target)
    (etc / "amazon-cloudwatch-agent.toml").unlink()
    (etc / "amazon-cloudwatch-agent.toml").symlink_to(target)
    (etc / "observability.cloudwatch.d").symlink_to(tmp_path)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "paths": [str(etc / "observability.cloudwatch.d" / "shadow")]})
    assert facts["common_config"] == {"path": str(etc / "common-config.toml"), "exists": False, "link": True}
    assert "linked" not in facts["config_files"]
    assert facts["toml_exists"] is False
    assert facts["delivered_dir_exists"] is False
    assert facts["delivered_files"] == {}
    assert facts["files"][str(etc / "observability.cloudwatch.d" / "shadow")] == {
        "path": str(etc / "observability.cloudwatch.d" / "shadow"), "exists": False, "link": True}
    assert hashlib.sha256(b"root-only\n").hexdigest() not in json.dumps(facts)


def test_a_linked_credentials_file_gives_no_key_id(monkeypatch, tmp_path, agent):
    # Root reads no file through a link: the key id of a file elsewhere is not returned.
    elsewhere = tmp_path / "root-credentials"
    elsewhere.write_text(CREDENTIALS)
    elsewhere.chmod(0o600)
    (agent / "etc" / "credentials").unlink()
    (agent / "etc" / "credentials").symlink_to(elsewhere)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["credentials_file"] == {"path": str(agent / "etc" / "credentials"), "exists": False, "link": True}
    assert KEY_ID not in json.dumps(facts)
    linked_dir = tmp_path / "linked-etc"
    linked_dir.symlink_to(agent / "etc")
    (agent / "etc" / "credentials").unlink()
    (agent / "etc" / "credentials").write_text(CREDENTIALS)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "credentials_file": str(linked_dir / "credentials")})
    assert facts["credentials_file"] == {"path": str(linked_dir / "credentials"), "exists": False, "link": True}


def test_a_hard_linked_credentials_file_gives_no_key_id(monkeypatch, tmp_path, agent):
    elsewhere = tmp_path / "root-credentials"
    elsewhere.write_text(CREDENTIALS)
    (agent / "etc" / "credentials").unlink()
    os.link(str(elsewhere), str(agent / "etc" / "credentials"))
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["credentials_file"] == {"path": str(agent / "etc" / "credentials"), "exists": False, "hardlinks": 2}


@pytest.mark.parametrize(
    "text,expected",
    [
        (CREDENTIALS, KEY_ID),
        ("[AmazonCloudWatchAgent]\naws_access_key_id=%s\n" % KEY_ID, KEY_ID),
        ("# managed\n[ AmazonCloudWatchAgent ]\n  aws_access_key_id   =   %s  \nregion = eu-west-1\n" % KEY_ID, KEY_ID),
        # The agent reads its own profile only.
        ("[default]\naws_access_key_id = AKIAOTHERPROFILE0000\n" + CREDENTIALS, KEY_ID),
        ("[default]\naws_access_key_id = %s\n" % KEY_ID, None),
        ("[AmazonCloudWatchAgent]\naws_secret_access_key = %s\n" % SECRET, None),
        # A secret written where the key id belongs has not the form of a key id: it is not returned.
        ("[AmazonCloudWatchAgent]\naws_access_key_id = %s\n" % SECRET, None),
        ("[AmazonCloudWatchAgent]\naws_access_key_id = AKIA5X2Q9MNB7TLZ4KUVWXYZABCD1234EFGH5678\n", "AKIA5X2Q9MNB7TLZ4KUVWXYZABCD1234EFGH5678"),
        ("", None),
        (b"[AmazonCloudWatchAgent]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = \xff\xfe\n", KEY_ID),
    ],
)
def test_access_key_id_of_the_agents_profile(text, expected):
    assert agent_facts.access_key_id(text if isinstance(text, bytes) else text.encode()) == expected


def test_the_secret_is_in_no_part_of_the_result(monkeypatch, tmp_path, agent):
    # The result is {"changed": false, "ansible_facts": facts}; the secret also stands in another profile.
    (agent / "etc" / "credentials").write_text(CREDENTIALS + "[other]\naws_access_key_id=%s\n" % SECRET)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["credentials_file"]["access_key_id"] == KEY_ID
    assert SECRET not in json.dumps(facts)


def test_a_linked_version_file_or_control_script_is_not_read(monkeypatch, tmp_path, agent):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "CWAGENT_VERSION").write_text("9.9\n")
    (agent / "bin" / "CWAGENT_VERSION").unlink()
    (agent / "bin" / "CWAGENT_VERSION").symlink_to(elsewhere / "CWAGENT_VERSION")
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["version"] is None
    assert facts["installed"] is True
    linked_prefix = tmp_path / "linked-prefix"
    linked_prefix.symlink_to(agent)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(linked_prefix), "status": False})
    assert facts["installed"] is False
    assert facts["common_config"]["exists"] is False


def test_fresh_host(monkeypatch, tmp_path):
    facts, calls = run(monkeypatch, tmp_path, {"prefix": str(tmp_path / "missing")})
    assert facts["installed"] is False
    assert facts["version"] is None
    assert facts["config_files"] == {}
    assert facts["credentials_file"] == {"path": str(tmp_path / "missing" / "etc" / "credentials"), "exists": False}
    assert facts["status"] is None
    assert facts["status_error"] == "the agent is not installed"
    assert calls == []


def test_status_failure_is_reported_not_raised(monkeypatch, tmp_path, agent):
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent)}, {"amazon-cloudwatch-agent-ctl": (1, "", "systemctl: not found")})
    assert facts["status"] is None
    assert facts["status_error"] == "systemctl: not found"


def test_status_false_runs_nothing(monkeypatch, tmp_path, agent):
    facts, calls = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False}, {"amazon-cloudwatch-agent-ctl": (0, STATUS, "")})
    assert calls == []
    assert facts["status"] is None


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("sys_vendor", "Amazon EC2\n", "sys_vendor=Amazon EC2"),
        ("bios_version", "4.11.amazon\n", "bios_version=4.11.amazon"),
        ("board_asset_tag", "i-0123456789abcdef0\n", "board_asset_tag=i-0123456789abcdef0"),
    ],
)
def test_ec2_from_dmi(monkeypatch, tmp_path, name, value, expected):
    (tmp_path / "dmi").mkdir()
    (tmp_path / "dmi" / name).write_text(value)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(tmp_path / "missing"), "status": False})
    assert facts["ec2"] is True
    assert facts["ec2_evidence"] == expected


def test_ec2_from_the_xen_hypervisor_uuid(monkeypatch, tmp_path):
    (tmp_path / "hypervisor").mkdir()
    (tmp_path / "hypervisor" / "uuid").write_text("ec2e1916-9099-7caf-fd21-012345abcdef\n")
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(tmp_path / "missing"), "status": False})
    assert facts["ec2"] is True
    assert facts["ec2_evidence"] == "hypervisor_uuid=ec2e1916-9099-7caf-fd21-012345abcdef"


def test_reads_dmi_where_the_kernel_keeps_it():
    # /sys/class/dmi/id is a link to this directory; containers under test mount a chosen vendor here.
    assert agent_facts.DMI_DIR == "/sys/devices/virtual/dmi/id"
    assert agent_facts.HYPERVISOR_UUID == "/sys/hypervisor/uuid"


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"sys_vendor": "Amazon EC2"}, "sys_vendor=Amazon EC2"),
        ({"sys_vendor": "Amazon EC2", "board_asset_tag": "i-0123456789abcdef0"}, "sys_vendor=Amazon EC2"),
        ({"board_asset_tag": "i-0123456789abcdef0"}, "board_asset_tag=i-0123456789abcdef0"),
        ({"hypervisor_uuid": "EC2E1916-9099-7CAF-FD21-012345ABCDEF"}, "hypervisor_uuid=EC2E1916-9099-7CAF-FD21-012345ABCDEF"),
        ({"sys_vendor": "Xen", "bios_version": "4.2.amazon"}, "bios_version=4.2.amazon"),
    ],
)
def test_ec2_sign_names_the_value_that_shows_ec2(values, expected):
    assert agent_facts.ec2_sign(**values) == expected


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"sys_vendor": "QEMU", "bios_version": "1.16.2-debian-1.16.2-1", "board_asset_tag": ""},
        # Look-alikes of other clouds and of a hand-written asset tag.
        {"sys_vendor": "Amazon EC2 lookalike"},
        {"sys_vendor": "Google", "board_asset_tag": "GoogleCloud-0123"},
        {"sys_vendor": "Microsoft Corporation", "hypervisor_uuid": "4c4c4544-0000-ec20-0000-000000000000"},
        {"board_asset_tag": "asset-i-0123"},
    ],
)
def test_ec2_sign_is_none_on_other_hardware(values):
    assert agent_facts.ec2_sign(**values) is None


def test_custom_credentials_and_state_paths(monkeypatch, tmp_path, agent):
    other = tmp_path / "creds"
    other.write_text("x")
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "credentials_file": str(other), "state_file": str(tmp_path / "none")})
    assert facts["credentials_file"]["path"] == str(other)
    assert facts["managed_state"] is None
    assert facts["agent_users"] == ["cwagent"]


def test_the_agent_users_are_the_packages_and_the_last_applied(monkeypatch, tmp_path, agent):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"run_as_user": "metrics"}))
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "state_file": str(state)})
    assert facts["agent_users"] == ["cwagent", "metrics"]
    state.write_text(json.dumps({"run_as_user": "cwagent"}))
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "state_file": str(state)})
    assert facts["agent_users"] == ["cwagent"]


def test_delivered_files_extra_paths_and_groups(monkeypatch, tmp_path, agent):
    delivered = agent / "etc" / "observability.cloudwatch.d"
    delivered.mkdir()
    (delivered / "AmazonCloudWatch-linux.json").write_text("{}\n")
    (delivered / "AmazonCloudWatch-linux.json").chmod(0o644)
    dropin = tmp_path / "dropin.conf"
    dropin.write_text("[Service]\n")
    root_group = agent_facts.grp.getgrgid(os.getgid()).gr_name
    facts, dummy = run(
        monkeypatch,
        tmp_path,
        {"prefix": str(agent), "status": False, "paths": [str(dropin), str(tmp_path / "absent.conf")], "groups": [root_group, "no-such-group-here"]},
    )
    assert facts["delivered_dir_exists"] is True
    assert facts["delivered_files"]["AmazonCloudWatch-linux.json"]["sha256"] == hashlib.sha256(b"{}\n").hexdigest()
    assert facts["delivered_files"]["AmazonCloudWatch-linux.json"]["mode"] == "0644"
    assert facts["files"][str(dropin)]["sha256"] == hashlib.sha256(b"[Service]\n").hexdigest()
    assert facts["files"][str(tmp_path / "absent.conf")]["exists"] is False
    assert list(facts["groups"]) == [root_group]
    assert isinstance(facts["groups"][root_group], list)


def test_nothing_delivered_yet(monkeypatch, tmp_path, agent):
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["delivered_dir_exists"] is False
    assert facts["delivered_files"] == {}
    assert facts["files"] == {}
    assert facts["groups"] == {}


def test_module_runs_with_the_standard_library_only():
    source = open(agent_facts.__file__).read()
    imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "grp", "json", "os", "re", "stat", "sys", "time", "ansible.module_utils.basic",
                            "ansible_collections.observability.cloudwatch.plugins.module_utils"}
    source = open(agent_facts.agent_log.__file__).read()
    imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "calendar", "re", "time"}
    source = open(agent_facts.host_files.__file__).read()
    imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "errno", "grp", "hashlib", "os", "pwd", "stat"}
    source = open(agent_facts.agent_health.__file__).read()
    imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "calendar", "errno", "os", "re", "stat",
                            "ansible_collections.observability.cloudwatch.plugins.module_utils"}
    assert sys.version_info >= (3,)


def test_credentials_compared_with_a_digest_return_only_whether_they_match(monkeypatch, tmp_path, agent):
    import hashlib
    right = hashlib.sha256(CREDENTIALS.encode()).hexdigest()
    for digest, matches in ((right, True), ("0" * 64, False)):
        facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "credentials_sha256": digest})
        assert facts["credentials_file"]["matches"] is matches
        assert "sha256" not in facts["credentials_file"] and right not in json.dumps(facts)


def test_a_linked_credentials_file_never_matches(monkeypatch, tmp_path, agent):
    import hashlib
    (tmp_path / "elsewhere").write_text(CREDENTIALS)
    (agent / "etc" / "credentials").unlink()
    (agent / "etc" / "credentials").symlink_to(tmp_path / "elsewhere")
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False,
                                               "credentials_sha256": hashlib.sha256(CREDENTIALS.encode()).hexdigest()})
    assert facts["credentials_file"]["matches"] is False and facts["credentials_file"]["link"] is True


def test_presence_of_files_directories_and_links_without_reading_them(monkeypatch, tmp_path, agent):
    etc = agent / "etc"
    (etc / "observability.cloudwatch.d").mkdir()
    (etc / "gone").symlink_to(tmp_path / "nowhere")
    paths = [str(etc / "observability.cloudwatch.d"), str(etc / "gone"), str(etc / "credentials"), str(etc / "absent")]
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "presence": paths})
    assert facts["present"] == dict(zip(paths, [True, True, True, False]))


def recent(minutes_ago, text):
    return "%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - minutes_ago * 60)), text)


def test_aws_errors_of_the_last_minutes_from_the_agents_log(monkeypatch, tmp_path, agent):
    (agent / "logs").mkdir()
    (agent / "logs" / "amazon-cloudwatch-agent.log").write_text(
        recent(30, "E! cloudwatch: WriteToCloudWatch failure, err:  AccessDenied: old")
        + recent(2, "E! cloudwatch: WriteToCloudWatch failure, err:  AccessDenied: not authorized")
        + recent(1, "I! fine"))
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "aws_errors_minutes": 10})
    assert facts["aws_errors"]["refused"] == 1 and facts["aws_errors"]["codes"] == {"AccessDenied": 1}
    assert facts["aws_errors"]["last"].endswith("AccessDenied: not authorized")
    # Not asked, the log is not read.
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False})
    assert facts["aws_errors"] is None


def test_a_linked_agent_log_is_not_read(monkeypatch, tmp_path, agent):
    target = tmp_path / "root-only.log"
    target.write_text(recent(1, "E! AccessDenied: planted"))
    (agent / "logs").mkdir()
    (agent / "logs" / "amazon-cloudwatch-agent.log").symlink_to(target)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "status": False, "aws_errors_minutes": 10})
    assert facts["aws_errors"] is None


def test_a_negative_window_is_refused_naming_the_option(monkeypatch, tmp_path, agent):
    result, calls = run(monkeypatch, tmp_path, {"prefix": str(agent), "aws_errors_minutes": -5})
    assert result["failed"] and "aws_errors_minutes" in result["msg"] and not calls


def test_health_waits_for_the_pipeline_of_this_start_and_returns_the_verdict(monkeypatch, tmp_path, agent):
    (agent / "logs").mkdir()
    (agent / "logs" / "amazon-cloudwatch-agent.log").write_text(
        "2024-01-01T00:00:01Z I! Starting AmazonCloudWatchAgent 1.300069.0b1529 with log file x with log target lumberjack\n"
        '2024-01-01T00:00:02Z I! {"msg":"Everything is ready. Begin running and processing data."}\n')
    commands = {"amazon-cloudwatch-agent-ctl": (0, STATUS, ""), "systemctl": (0, SYSTEMCTL, "")}
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "health": True, "health_settle": 0}, commands)
    assert facts["health"] == {"healthy": True, "reason": None, "seconds": 0, "main_pid": "42", "restarts": "0", "errors": []}
    assert facts["status"]["status"] == "running"


def test_health_quotes_the_agents_errors_when_it_never_runs(monkeypatch, tmp_path, agent):
    stopped = json.dumps({"status": "stopped", "starttime": "", "configstatus": "configured", "version": "1"})
    journal = "Started amazon-cloudwatch-agent.service\nE! Cannot translate JSON, ERROR is exit status 1\n"
    commands = {"amazon-cloudwatch-agent-ctl": (0, stopped, ""), "systemctl": (0, "ActiveState=activating\n", ""),
                "journalctl": (0, journal, "")}
    monkeypatch.setattr(agent_facts.time, "sleep", lambda seconds: None)
    facts, dummy = run(monkeypatch, tmp_path, {"prefix": str(agent), "health": True, "health_timeout": 0}, commands)
    assert facts["health"]["healthy"] is False
    assert facts["health"]["reason"] == "did not report running within 0s"
    assert facts["health"]["errors"] == ["E! Cannot translate JSON, ERROR is exit status 1"]


@pytest.mark.parametrize("option", ["health_timeout", "health_settle"])
def test_negative_health_times_are_refused_naming_the_option(monkeypatch, tmp_path, agent, option):
    result, calls = run(monkeypatch, tmp_path, {"prefix": str(agent), "health": True, option: -1})
    assert result["failed"] and result["msg"] == "%s must be a number of seconds, 0 or more; got -1" % option and not calls
