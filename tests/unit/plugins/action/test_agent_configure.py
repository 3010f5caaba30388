# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_configure: what reaches the host.

The host is a stand-in here: each module call is recorded, so the tests count what a user's fleet would pay.
"""

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.observability.cloudwatch.plugins.action.agent_configure import ActionModule
from ..plugin_utils.test_agent_host import KEY, PATHS, SYSTEM, held_in_place, settings
from ..plugin_utils.test_package_version import aws_deb, rpm


class Fleet(object):
    """Records module calls; answers agent_facts with `held`."""

    def __init__(self, held=None):
        self.held = held
        self.calls = []

    def module(self, module_name, module_args, task_vars):
        self.calls.append((module_name, module_args))
        if module_name.endswith("agent_facts"):
            held = dict(self.held)
            # Like agent_facts: whether the file has the digest asked about, never the file's own digest.
            digest = held["credentials_file"].get("sha256")
            held["credentials_file"] = dict((k, v) for k, v in held["credentials_file"].items() if k not in ("sha256", "matches"))
            if "credentials_sha256" in module_args:
                held["credentials_file"]["matches"] = module_args["credentials_sha256"] == digest
            return {"ansible_facts": {"cloudwatch_agent": held}, "invocation": {"module_args": module_args}}
        return {"changed": True, "applied": True, "run_as_user": "cwagent", "invocation": {"module_args": module_args}}


def run(fleet, args, task_vars=None, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    task.get_name.return_value = "web-1"
    action = ActionModule(task, MagicMock(), MagicMock(check_mode=check_mode), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = fleet.module
    return action.run(task_vars=dict({"ansible_facts": SYSTEM}, **(task_vars or {})))


def checked(held):
    return {"ansible_facts": {"cloudwatch_agent": held}, "wanted_version": held["version"], "installed_version": held["version"]}


def test_a_host_as_wanted_is_read_once_and_not_written():
    s = settings()
    fleet = Fleet(held_in_place(s))
    check = run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY, "log_reader_groups": ["adm"]})
    result = run(fleet, {"step": "apply", "settings": s, "paths": PATHS, "credentials": KEY, "log_reader_groups": ["adm"],
                         "checked": check})
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts"]
    assert result["changed"] is False and check["mode"] == "onPremise"
    # The check sent the digest to compare with, and got back only whether it matches.
    assert fleet.calls[0][1]["credentials_sha256"] and check["ansible_facts"]["cloudwatch_agent"]["credentials_file"]["matches"]


def test_a_new_key_reaches_the_host_in_one_call_and_is_not_returned():
    s = settings()
    held = held_in_place(s, key={"access_key_id": "AKIAOLD", "secret_access_key": "old"})
    fleet = Fleet(held)
    check = run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert check["ansible_facts"]["cloudwatch_agent"]["credentials_file"]["matches"] is False
    result = run(fleet, {"step": "apply", "settings": s, "paths": PATHS, "credentials": KEY, "checked": check})
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts", "observability.cloudwatch.agent_apply"]
    assert result["changed"] is True and "invocation" not in result
    assert KEY["secret_access_key"] not in repr(result) and KEY["secret_access_key"] not in repr(check)


def test_after_an_installation_the_host_is_read_again_and_the_version_checked():
    s = settings()
    held = held_in_place(s)
    fleet = Fleet(dict(held, version="1.0.0"))
    with pytest.raises(AnsibleActionFail, match="installed version 1.0.0, but cloudwatch_agent_version asks for 1.300069.0b1529"):
        run(fleet, {"step": "apply", "settings": s, "paths": PATHS, "credentials": KEY,
                    "checked": dict(checked(held), installed_version="")})


@pytest.mark.parametrize("changes, hardware, message", [
    ({"has_credentials": False}, {}, "needs credentials and a region"),
    ({"mode": "onPremise"}, {"ec2": True, "ec2_evidence": "sys_vendor=Amazon EC2"}, "is an EC2 instance by its own hardware"),
])
def test_bad_settings_fail_before_the_host_is_written(changes, hardware, message):
    s = settings(**changes)
    fleet = Fleet(dict(held_in_place(settings()), **hardware))
    with pytest.raises(AnsibleActionFail, match=message):
        run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts"]


def test_a_file_configuration_that_is_no_object_is_refused(tmp_path):
    (tmp_path / "agent.json").write_text("[1, 2]")
    s = settings(config_source="file", config_file=str(tmp_path / "agent.json"))
    fleet = Fleet(held_in_place(settings()))
    task = {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY}
    with pytest.raises(AnsibleActionFail, match="must hold a JSON object"):
        run_with_needle(fleet, task)


def run_with_needle(fleet, args):
    original = ActionModule._find_needle
    ActionModule._find_needle = lambda self, dirname, needle: needle
    try:
        return run(fleet, args)
    finally:
        ActionModule._find_needle = original


@pytest.mark.parametrize("step", ["check", "apply"])
def test_a_configuration_the_inventory_does_not_allow_reaches_no_host_write(step):
    s = settings(config={"agent": {"run_as_user": "www-data"}, "logs": {"endpoint_override": "https://collector.example.net"}})
    held = held_in_place(settings())
    fleet = Fleet(held)
    with pytest.raises(AnsibleActionFail) as e:
        run(fleet, {"step": step, "settings": s, "paths": PATHS, "credentials": KEY, "checked": checked(held)})
    assert '- cloudwatch_agent_config: agent.run_as_user is "www-data", not in cloudwatch_agent_allowed_run_as_users' in str(e.value)
    assert "logs.endpoint_override" in str(e.value)
    # Only the read-only check reached the host (the apply step decides on what the check read).
    assert [name for name, args in fleet.calls] == (["observability.cloudwatch.agent_facts"] if step == "check" else [])


def test_a_bad_allow_list_fails_the_check_naming_the_variable():
    s = settings(allowed={"run_as_users": ["cwagent"], "endpoints": [], "log_paths": "/var/log/**"})
    fleet = Fleet(held_in_place(settings()))
    with pytest.raises(AnsibleActionFail, match='cloudwatch_agent_allowed_log_paths must be a list of absolute globs .*; got "/var/log/\\*\\*"'):
        run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts"]


def package_file_settings(tmp_path, data, **changes):
    (tmp_path / "agent.pkg").write_bytes(data)
    (tmp_path / "agent.pkg.sig").write_bytes(b"signature")
    platform = {"arch": "amd64", "os_path": "debian", "package_ext": "deb"}
    return settings(package_file=str(tmp_path / "agent.pkg"), signature_file=str(tmp_path / "agent.pkg.sig"),
                    platform=dict(platform, **changes))


def test_a_package_file_of_another_version_fails_before_the_host_changes(tmp_path):
    s = package_file_settings(tmp_path, aws_deb("1.300064.0b1337-1"))
    fleet = Fleet(dict(held_in_place(settings()), version="1.300060.0b1"))
    with pytest.raises(AnsibleActionFail) as e:
        run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert ("holds agent version 1.300064.0b1337 (package version 1.300064.0b1337-1), but cloudwatch_agent_version is "
            "1.300069.0b1529") in str(e.value)
    # The read-only check is all that reached the host: no installation, nothing written.
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts"]


@pytest.mark.parametrize("data, platform, message", [
    (aws_deb(arch="arm64"), {}, "is built for arm64, but this host is amd64"),
    (rpm(), {}, "is an rpm package, but this host installs deb packages"),
    (b"<html>not found</html>", {}, "neither a deb"),
])
def test_a_package_file_this_host_cannot_install_fails_the_check(tmp_path, data, platform, message):
    s = package_file_settings(tmp_path, data, **platform)
    fleet = Fleet(held_in_place(settings()))
    with pytest.raises(AnsibleActionFail, match=message):
        run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert [name for name, args in fleet.calls] == ["observability.cloudwatch.agent_facts"]


def test_a_package_file_of_the_wanted_version_is_installed(tmp_path):
    s = package_file_settings(tmp_path, rpm(arch="aarch64"), arch="arm64", os_path="amazon_linux", package_ext="rpm")
    fleet = Fleet(dict(held_in_place(settings()), version="1.300060.0b1"))
    check = run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert (check["wanted_version"], check["installed_version"]) == ("1.300069.0b1529", "1.300060.0b1")


@pytest.mark.parametrize("changes, message", [
    ({"package_base_url": "http://mirror.example.com/cwagent"},
     "cloudwatch_agent_package_base_url is http://mirror.example.com/cwagent: over plain http"),
    ({"gpg_key_url": "http://mirror.example.com/agent.gpg"}, "cloudwatch_agent_gpg_key_url is http://mirror.example.com/agent.gpg"),
    ({"package_base_url": "ftp://mirror.example.com/cwagent"}, "cloudwatch_agent_package_base_url must be an https:// URL"),
    ({"package_base_url": "mirror.example.com/cwagent"}, "cloudwatch_agent_package_base_url must be an https:// URL"),
])
def test_a_source_that_is_not_https_is_refused_before_the_host_is_read(changes, message):
    fleet = Fleet(held_in_place(settings()))
    with pytest.raises(AnsibleActionFail) as e:
        run(fleet, {"step": "check", "settings": settings(**changes), "paths": PATHS, "credentials": KEY})
    assert message in str(e.value) and "Nothing was downloaded or installed" in str(e.value)
    assert fleet.calls == []


def test_http_when_allowed_is_warned_about():
    s = settings(package_base_url="http://mirror.example.com/cwagent", allow_http_download=True)
    fleet = Fleet(held_in_place(settings()))
    check = run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})
    assert ("The agent package is downloaded over plain http from http://mirror.example.com/cwagent "
            "(cloudwatch_agent_allow_http_download: true).") in check["warnings"]


def test_no_verification_is_warned_about_and_gpg_is_not():
    fleet = Fleet(held_in_place(settings()))
    check = run(fleet, {"step": "check", "settings": settings(package_verify="none"), "paths": PATHS, "credentials": KEY})
    assert any(w.startswith("cloudwatch_agent_package_verify is none: the agent package, which runs as root, is installed "
                            "without any check") for w in check["warnings"])
    quiet = run(fleet, {"step": "check", "settings": settings(), "paths": PATHS, "credentials": KEY})
    assert not [w for w in quiet["warnings"] if "verify" in w or "http" in w]


def test_a_package_file_needs_no_https_base_url():
    # The base URL is not used for a package file; the key URL still is, with gpg.
    s = settings(package_file="/srv/agent.deb", package_base_url="http://unused.example.com", package_verify="none")
    fleet = Fleet(held_in_place(settings()))
    with pytest.raises(AnsibleActionFail, match="not found on the controller"):
        run(fleet, {"step": "check", "settings": s, "paths": PATHS, "credentials": KEY})


@pytest.mark.parametrize("latest", ["", "<html>NoSuchKey</html>", "1.300069.0b1529/../../etc", "1.3 00069", "9" * 65,
                                    "latest", "1.300069.0b1529?x=1"])
def test_a_malformed_latest_version_is_refused_before_it_is_used(latest):
    fleet = Fleet(held_in_place(settings()))
    with pytest.raises(AnsibleActionFail) as e:
        run(fleet, {"step": "check", "settings": settings(version="latest"), "paths": PATHS, "credentials": KEY,
                    "latest": latest})
    assert ("The latest agent version read from "
            "https://amazoncloudwatch-agent.s3.amazonaws.com/info/latest/CWAGENT_VERSION is ") in str(e.value)
    assert "not a version such as 1.300069.0b1529" in str(e.value) and len(str(e.value)) < 600
    assert fleet.calls == []


def test_the_latest_version_is_what_the_host_gets():
    fleet = Fleet(dict(held_in_place(settings()), version="1.300060.0b1"))
    check = run(fleet, {"step": "check", "settings": settings(version="latest"), "paths": PATHS, "credentials": KEY,
                        "latest": "1.300070.0b1600\n"})
    assert check["wanted_version"] == "1.300070.0b1600"
