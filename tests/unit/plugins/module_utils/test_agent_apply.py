# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""agent_apply: the agent role's one call on a host, against a real directory tree and stand-in agent commands.

The stand-in commands record the uid they ran as and their arguments; these tests run as root (they chown) and
are skipped elsewhere.
"""

import json
import os
import pwd
import shutil
import stat
import tempfile

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils import log_access
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_apply import AgentApplyError, Applier
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")

CONFIG = {"agent": {"run_as_user": "nobody"}, "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
NOBODY = pwd.getpwnam("nobody")

# The agent's commands: each appends "uid argv..." to calls.log; fetch-config copies file:PATH into the drop-in
# directory as the agent names it, the translator fails when REJECT exists, the downloader writes its document
# (DOCUMENT when it exists).
COMMAND = """#!/bin/sh
echo "$(id -u) $(basename "$0") $*" >> {log}
case "$(basename "$0")" in
config-translator) [ ! -e {base}/REJECT ] || {{ echo "E! invalid configuration"; exit 1; }} ;;
config-downloader) out="$2"; name="${{4#ssm:}}"
    if [ -e {base}/DOCUMENT ]; then cat {base}/DOCUMENT; else printf '%s' '{document}'; fi > "$out/ssm_$name.tmp" ;;
amazon-cloudwatch-agent-ctl)
    src="${{6#file:}}"
    [ "$2" = fetch-config ] && rm -f {etc}/amazon-cloudwatch-agent.d/*
    if [ "$src" != "$6" ]; then cp "$src" {etc}/amazon-cloudwatch-agent.d/file_$(basename "$src"); fi
    touch {etc}/amazon-cloudwatch-agent.toml ;;
esac
"""


class Host(object):
    """An installed agent under a fresh directory others can traverse (the agent's user runs its commands there)."""

    def __init__(self, etc_owner=0):
        self.base = tempfile.mkdtemp(prefix="agent-apply-")
        os.chmod(self.base, 0o755)
        self.prefix = os.path.join(self.base, "agent")
        self.etc = os.path.join(self.prefix, "etc")
        self.log = os.path.join(self.base, "calls.log")
        os.makedirs(os.path.join(self.etc, "amazon-cloudwatch-agent.d"))
        os.makedirs(os.path.join(self.prefix, "bin"))
        os.makedirs(os.path.join(self.prefix, "var"))
        for name in ("amazon-cloudwatch-agent-ctl", "config-translator", "config-downloader"):
            path = os.path.join(self.prefix, "bin", name)
            with open(path, "w") as handle:
                handle.write(COMMAND.format(log=self.log, base=self.base, etc=self.etc, document=json.dumps(CONFIG)))
            os.chmod(path, 0o755)
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)
        for directory in (self.etc, os.path.join(self.etc, "amazon-cloudwatch-agent.d")):
            os.chown(directory, etc_owner, etc_owner and NOBODY.pw_gid)
        self.paths = {"prefix": self.prefix, "common_config": os.path.join(self.etc, "common-config.toml"),
                      "credentials_file": os.path.join(self.base, "credentials", "credentials"),
                      "dropin": os.path.join(self.base, "dropin.d", "observability-cloudwatch.conf"),
                      "state_dir": os.path.join(self.base, "state"), "state_file": os.path.join(self.base, "state", "state.json"),
                      "delivered_dir": os.path.join(self.base, "state", "delivered"), "unit_dir": os.path.join(self.base, "units")}

    def calls(self):
        with open(self.log) as handle:
            return [line.split() for line in handle]

    def held(self, **changes):
        held = {"version": "1.300069.0b1529", "config_files": {}, "json_config": {"exists": False}, "toml_exists": False,
                "managed_state": None, "delivered_files": {}, "groups": {}, "present": {}}
        held.update(changes)
        return held


@pytest.fixture
def host():
    made = Host()
    yield made
    shutil.rmtree(made.base)


def args(host, docs=None, download=None, mode="onPremise", **held):
    settings = {"credentials_file": host.paths["credentials_file"], "proxy": {}, "ca_bundle": "", "imds_retries": 0}
    files = [{"path": host.paths["credentials_file"], "content": agent_plan.credentials({"access_key_id": "AKIAX", "secret_access_key": "s3cr3t"}, "eu-west-1"),
              "owner": "root", "group": "agent", "mode": "0640", "secret": True},
             {"path": host.paths["common_config"], "content": agent_plan.common_config(mode, settings), "owner": "agent", "group": "agent",
              "mode": "0640", "secret": True}]
    return {"step": "apply", "paths": host.paths, "mode": mode, "files": files, "absent": [], "documents": docs, "download": download,
            "held": host.held(**held), "reader_groups": [], "log_access_program": "", "record": {"config_source": "inline", "ssm_fetch": None},
            "allowed": {"run_as_users": ["nobody", "root"], "endpoints": [], "log_paths": ["/var/log/**"]}}


def inline_docs():
    return [agent_plan.document("inline.json", "file_inline.json", "cloudwatch_agent_config", "file:inline.json", agent_plan.nice_json(CONFIG))]


def owner_mode(path):
    info = os.lstat(path)
    return pwd.getpwuid(info.st_uid).pw_name, stat.S_IMODE(info.st_mode)


def test_a_first_apply_writes_every_file_with_its_owner_and_applies_once(host):
    result = Applier(args(host, inline_docs()), False, True).apply()
    assert result["changed"] and result["applied"] and result["run_as_user"] == "nobody"
    assert owner_mode(host.paths["credentials_file"]) == ("root", 0o640)
    assert os.stat(host.paths["credentials_file"]).st_gid == NOBODY.pw_gid
    assert owner_mode(host.paths["common_config"]) == ("nobody", 0o640)
    assert owner_mode(host.paths["state_dir"]) == ("root", 0o700)
    assert owner_mode(os.path.join(host.paths["delivered_dir"], "inline.json")) == ("root", 0o600)
    record = json.load(open(host.paths["state_file"]))
    assert record["documents"] == {"file_inline.json": agent_plan.sha256(agent_plan.nice_json(CONFIG))} and record["run_as_user"] == "nobody"
    # The translator checked it, then fetch-config applied it from a scratch directory, as root (the owner of etc/).
    calls = host.calls()
    assert [call[1] for call in calls] == ["config-translator", "amazon-cloudwatch-agent-ctl"]
    assert {call[0] for call in calls} == {"0"}
    location = calls[1][calls[1].index("-c") + 1]
    assert location.startswith("file:") and location.endswith("/inline.json") and not os.path.exists(location[5:])
    assert os.listdir(os.path.join(host.etc, "amazon-cloudwatch-agent.d")) == ["file_inline.json"]
    # The secret is in no diff.
    assert "s3cr3t" not in json.dumps(result["diff"])
    # Kept for rollback in the role's own directory, before the change.
    assert os.path.isdir(os.path.join(host.paths["state_dir"], "rollback"))


def test_the_agents_steps_run_as_the_owner_of_its_etc():
    host = Host(etc_owner=NOBODY.pw_uid)
    try:
        Applier(args(host, inline_docs()), False, False).apply()
        assert {call[0] for call in host.calls()} == {str(NOBODY.pw_uid)}
    finally:
        shutil.rmtree(host.base)


def test_a_configuration_the_translator_rejects_changes_nothing_of_the_agents(host):
    open(os.path.join(host.base, "REJECT"), "w").close()
    with open(os.path.join(host.etc, "amazon-cloudwatch-agent.d", "file_old.json"), "w") as handle:
        handle.write("{}")
    with pytest.raises(AgentApplyError, match="rejects the new configuration .cloudwatch_agent_config.*E! invalid configuration"):
        Applier(args(host, inline_docs()), False, False).apply()
    assert os.listdir(os.path.join(host.etc, "amazon-cloudwatch-agent.d")) == ["file_old.json"]
    assert [call[1] for call in host.calls()] == ["config-translator"]


def test_check_mode_writes_nothing_and_only_runs_the_translators_check(host):
    result = Applier(args(host, inline_docs()), True, True).apply()
    assert result["changed"] and result["applied"]
    assert not os.path.exists(host.paths["credentials_file"]) and not os.path.exists(host.paths["state_dir"])
    assert [call[1] for call in host.calls()] == ["config-translator"]


def test_a_second_apply_with_everything_in_place_changes_nothing(host):
    Applier(args(host, inline_docs()), False, False).apply()
    docs = inline_docs()
    held = {"config_files": {"file_inline.json": {"sha256": docs[0]["sha256"]}}, "toml_exists": True,
            "managed_state": json.load(open(host.paths["state_file"])),
            "delivered_files": {"inline.json": {"sha256": docs[0]["sha256"], "mode": "0600"}}}
    open(host.log, "w").close()
    result = Applier(args(host, docs, **held), False, False).apply()
    assert not result["changed"] and not result["applied"] and host.calls() == []


def test_documents_read_by_the_agents_downloader(host):
    result = Applier(args(host, None, ["AmazonCloudWatch-linux"]), False, False).apply()
    assert result["applied"] and result["run_as_user"] == "nobody"
    downloads = [call for call in host.calls() if call[1] == "config-downloader"]
    assert len(downloads) == 1 and "ssm:AmazonCloudWatch-linux" in downloads[0]
    fetch = [call for call in host.calls() if call[1] == "amazon-cloudwatch-agent-ctl"][0]
    assert fetch[fetch.index("-c") + 1] == "ssm:AmazonCloudWatch-linux"
    assert os.listdir(host.paths["delivered_dir"]) == ["ssm_AmazonCloudWatch-linux"]
    # Written first for the user the agent ran as (root), then for the configuration's user.
    assert owner_mode(host.paths["common_config"]) == ("nobody", 0o640)


def tree(base):
    """Every path under base with its owner, mode and content: what a write would change."""
    out = {}
    for root, dirs, names in os.walk(base):
        for name in dirs + names:
            path = os.path.join(root, name)
            info = os.lstat(path)
            content = open(path, "rb").read() if stat.S_ISREG(info.st_mode) and name != "calls.log" else None
            out[path] = (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), content)
    return out


def test_a_downloaded_document_the_inventory_does_not_allow_is_refused_before_anything_is_written():
    # As on a host the agent ran on: its etc/ belongs to the configuration's user.
    host = Host(etc_owner=NOBODY.pw_uid)
    try:
        refused_before_anything_is_written(host)
    finally:
        shutil.rmtree(host.base)


def refused_before_anything_is_written(host):
    Applier(args(host, None, ["AmazonCloudWatch-linux"]), False, False).apply()
    held = {"managed_state": json.load(open(host.paths["state_file"])), "toml_exists": True,
            "config_files": dict((name, {"sha256": "x"}) for name in os.listdir(os.path.join(host.etc, "amazon-cloudwatch-agent.d")))}
    types_db = os.path.join(host.base, "etc", "collectd", "types.db")
    with open(os.path.join(host.base, "DOCUMENT"), "w") as handle:
        json.dump({"agent": {"run_as_user": "root"}, "logs": {"endpoint_override": "https://collector.example.net",
                   "logs_collected": {"files": {"collect_list": [{"file_path": "/root/.bash_history"}]}}},
                   "metrics": {"metrics_collected": {"collectd": {"collectd_typesdb": [types_db]}}}}, handle)
    before = tree(host.base)
    open(host.log, "w").close()
    with pytest.raises(agent_plan.AgentPlanError) as e:
        Applier(args(host, None, ["AmazonCloudWatch-linux"], **held), False, False).apply()
    assert "- parameter AmazonCloudWatch-linux: logs.endpoint_override is \"https://collector.example.net\"" in str(e.value)
    assert "collect_list[0].file_path is \"/root/.bash_history\"" in str(e.value)
    assert "collectd_typesdb[0] is %s" % json.dumps(types_db) in str(e.value)
    # Read by the downloader, then nothing: no file written or chowned for root, no types.db, no fetch-config.
    assert [call[1] for call in host.calls()] == ["config-downloader"]
    assert tree(host.base) == before and not os.path.exists(types_db)


def test_documents_known_on_the_controller_are_checked_again_on_the_host(host):
    request = args(host, inline_docs())
    request["allowed"] = dict(request["allowed"], run_as_users=["cwagent"])
    with pytest.raises(agent_plan.AgentPlanError, match='agent.run_as_user is "nobody", not in cloudwatch_agent_allowed_run_as_users'):
        Applier(request, False, False).apply()
    assert host.calls() == [] and not os.path.exists(host.paths["credentials_file"]) and not os.path.exists(host.paths["state_dir"])


def test_an_allowed_user_the_host_lacks_fails_and_no_account_is_made(host):
    request = args(host, [agent_plan.document("inline.json", "file_inline.json", "cloudwatch_agent_config", "file:inline.json",
                                              agent_plan.nice_json({"agent": {"run_as_user": "cw-absent"}}))])
    request["allowed"] = dict(request["allowed"], run_as_users=["cw-absent"])
    with pytest.raises(AnsibleHostFileError, match="cw-absent.*no such user on the host"):
        Applier(request, False, False).apply()
    with pytest.raises(KeyError):
        pwd.getpwnam("cw-absent")
    assert host.calls() == [] and not os.path.exists(host.paths["credentials_file"])


def test_what_earlier_versions_kept_in_the_tree_is_moved_or_removed_never_followed(host):
    outside = os.path.join(host.base, "root-only")
    os.mkdir(outside, 0o700)
    with open(os.path.join(outside, "keep"), "w") as handle:
        handle.write("root's")
    takeover = os.path.join(host.etc, "observability.cloudwatch.pre-ansible")
    os.makedirs(os.path.join(takeover, "amazon-cloudwatch-agent.d"))
    with open(os.path.join(takeover, "amazon-cloudwatch-agent.d", "file_mine.json"), "w") as handle:
        handle.write('{"mine": 1}')
    rollback = os.path.join(host.etc, "observability.cloudwatch.rollback")
    os.symlink(outside, rollback)
    legacy = agent_plan.legacy_paths(host.prefix, host.paths["credentials_file"])
    present = dict((path, os.path.lexists(path)) for path in legacy)
    Applier(args(host, inline_docs(), present=present), False, False).apply()
    assert not os.path.lexists(takeover) and not os.path.lexists(rollback)
    assert os.listdir(outside) == ["keep"] and open(os.path.join(outside, "keep")).read() == "root's"
    kept = os.path.join(host.paths["state_dir"], "pre-ansible", "amazon-cloudwatch-agent.d", "file_mine.json")
    assert open(kept).read() == '{"mine": 1}'


def test_rollback_puts_back_the_configuration_kept_before_the_change(host):
    with open(os.path.join(host.etc, "amazon-cloudwatch-agent.d", "file_old.json"), "w") as handle:
        handle.write('{"old": 1}')
    Applier(args(host, inline_docs(), config_files={"file_old.json": {"sha256": "x"}}), False, False).apply()
    assert os.listdir(os.path.join(host.etc, "amazon-cloudwatch-agent.d")) == ["file_inline.json"]
    Applier({"step": "rollback", "paths": host.paths, "held": host.held()}, False, False).rollback()
    assert os.listdir(os.path.join(host.etc, "amazon-cloudwatch-agent.d")) == ["file_old.json"]


def test_collected_root_only_log_files_are_made_readable_and_kept_so_by_a_path_unit(host, monkeypatch):
    logs = os.path.join(host.base, "logs")
    os.mkdir(logs, 0o755)
    os.mkdir(host.paths["unit_dir"], 0o755)
    with open(os.path.join(logs, "private.log"), "w") as handle:
        handle.write("line\n")
    os.chmod(os.path.join(logs, "private.log"), 0o600)
    config = dict(CONFIG, logs={"logs_collected": {"files": {"collect_list": [{"file_path": os.path.join(logs, "private.log")}]}}})
    docs = [agent_plan.document("inline.json", "file_inline.json", "cloudwatch_agent_config", "file:inline.json", agent_plan.nice_json(config))]
    systemctl = []
    monkeypatch.setattr(Applier, "systemctl", staticmethod(lambda *argv: systemctl.append(list(argv))))
    request = args(host, docs, python="/usr/bin/python3.11")
    request.update(log_access_program="# the program\n", allowed=dict(request["allowed"], log_paths=[logs + "/**"]))
    assert Applier(request, True, False).apply()["changed"]
    assert systemctl == [] and os.listdir(host.paths["unit_dir"]) == []
    assert Applier(request, False, False).apply()["changed"]
    assert systemctl == [["daemon-reload"], ["enable", log_access.UNIT + ".path"], ["restart", log_access.UNIT + ".path"]]
    assert sorted(os.listdir(host.paths["unit_dir"])) == [log_access.UNIT + ".path", log_access.UNIT + ".service"]
    assert owner_mode(os.path.join(host.paths["state_dir"], "log-access.py")) == ("root", 0o600)
    assert log_access.allows(log_access._describe(os.open(os.path.join(logs, "private.log"), os.O_RDONLY), "", "file"),
                             NOBODY.pw_uid, {NOBODY.pw_gid}, log_access.READ)
    # A configuration that collects no file any more: the grant is taken back, the unit stopped and removed.
    systemctl.clear()
    request.update(documents=inline_docs())
    assert Applier(request, False, False).apply()["changed"]
    assert systemctl == [["disable", "--now", log_access.UNIT + ".path"], ["daemon-reload"]]
    assert os.listdir(host.paths["unit_dir"]) == [] and not os.path.exists(os.path.join(host.paths["state_dir"], "log-access.json"))
    with pytest.raises(OSError):
        os.getxattr(os.path.join(logs, "private.log"), log_access.ACL_XATTR)
    # The role's removal, after the configuration collected the file again.
    request.update(documents=docs)
    Applier(request, False, False).apply()
    assert os.getxattr(os.path.join(logs, "private.log"), log_access.ACL_XATTR)
    systemctl.clear()
    removal = {"step": "remove_log_access", "paths": host.paths, "held": {}}
    assert Applier(removal, True, False).remove_log_access()["changed"] and systemctl == []
    assert len(os.listdir(host.paths["unit_dir"])) == 2
    assert Applier(removal, False, False).remove_log_access()["changed"]
    assert systemctl == [["disable", "--now", log_access.UNIT + ".path"], ["daemon-reload"]] and os.listdir(host.paths["unit_dir"]) == []
    with pytest.raises(OSError):
        os.getxattr(os.path.join(logs, "private.log"), log_access.ACL_XATTR)
    assert not Applier(removal, False, False).remove_log_access()["changed"]
