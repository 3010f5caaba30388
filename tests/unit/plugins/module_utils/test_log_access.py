# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""log_access: which collected log files and directories the agent's user gets an ACL entry on, and the units."""

import json
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import log_access
from ansible_collections.observability.cloudwatch.plugins.module_utils.log_access import GROUP, MASK, NO_ID, READ, SEARCH, USER

AGENT, ADM, ROOT = 998, 4, 0
ALLOWED = ["/var/log/**"]


def item(path, mode, uid=ROOT, gid=ROOT, kind="file", nlink=1, acl=None):
    return {"path": path, "kind": kind, "nlink": nlink, "uid": uid, "gid": gid, "mode": mode, "acl": acl}


def dirs(*extra):
    out = {"/var": item("/var", 0o755, kind="directory"), "/var/log": item("/var/log", 0o755, kind="directory")}
    out.update((d["path"], d) for d in extra)
    return out


def plan(found, directories=None, gids=(AGENT,), allowed=None):
    return log_access.plan(found, directories or dirs(), ALLOWED if allowed is None else allowed, AGENT, set(gids))


# --- what is granted ------------------------------------------------------------------------------------------------
def test_a_root_only_file_under_the_allowed_globs_is_granted_read():
    assert plan([item("/var/log/messages", 0o600)]) == [("/var/log/messages", READ)]


def test_a_file_the_user_reads_through_a_group_or_others_gets_nothing():
    syslog = item("/var/log/syslog", 0o640, gid=ADM)
    assert plan([syslog], gids=(AGENT, ADM)) == []
    assert plan([item("/var/log/dpkg.log", 0o644)]) == []
    # Not in adm (yet): the group does not help.
    assert plan([syslog]) == [("/var/log/syslog", READ)]


def test_a_file_already_granted_gets_nothing_and_one_whose_mask_hides_the_grant_is_granted_again():
    granted = log_access.with_user(log_access.mode_acl(0o600), AGENT, READ)
    assert plan([item("/var/log/messages", 0o640, acl=granted)]) == []
    # What a default ACL gives a file created 0600: the named entry is there, the mask takes it away.
    masked = [entry if entry[0] != MASK else (MASK, 0, NO_ID) for entry in granted]
    assert plan([item("/var/log/messages", 0o600, acl=masked)]) == [("/var/log/messages", READ)]


@pytest.mark.parametrize("path", ["/etc/shadow", "/root/notes.log", "/var/lib/secret", "/var/logs/x.log"])
def test_a_file_outside_the_allowed_globs_is_never_granted(path):
    assert plan([item(path, 0o600)], dirs(item("/etc", 0o755, kind="directory"))) == []


def test_links_other_files_and_files_with_other_names_are_never_granted():
    assert plan([item("/var/log/link.log", 0o777, kind="link"),
                 item("/var/log/fifo.log", 0o600, kind="other"),
                 # A second name of a root-only file kept elsewhere.
                 item("/var/log/hard.log", 0o600, nlink=2)]) == []


def test_directories_get_search_from_the_allowed_globs_fixed_directory_down_only():
    audit = item("/var/log/audit", 0o700, kind="directory")
    closed = dirs(audit, item("/var", 0o700, kind="directory"))
    assert plan([item("/var/log/audit/audit.log", 0o600)], closed) == [("/var/log/audit", SEARCH), ("/var/log/audit/audit.log", READ)]
    # A directory only its group may search, the user in it: nothing to grant.
    open_to_adm = dirs(item("/var/log/audit", 0o750, gid=ADM, kind="directory"))
    assert plan([item("/var/log/audit/audit.log", 0o640, gid=ADM)], open_to_adm, gids=(AGENT, ADM)) == []
    # With a narrower glob, /var/log itself is outside the fixed directory: searchable or not, it is not touched.
    narrow = dirs(item("/var/log", 0o700, kind="directory"), audit)
    assert plan([item("/var/log/audit/audit.log", 0o600)], narrow, allowed=["/var/log/audit/*.log"]) == [
        ("/var/log/audit", SEARCH), ("/var/log/audit/audit.log", READ)]


def test_the_owner_reads_by_its_own_bits():
    assert plan([item("/var/log/app.log", 0o600, uid=AGENT)]) == []
    assert plan([item("/var/log/app.log", 0o200, uid=AGENT)]) == [("/var/log/app.log", READ)]


# --- ACL entries ------------------------------------------------------------------------------------------------------
def test_a_grant_adds_a_named_entry_and_widens_the_mask_by_read_only():
    entries = log_access.with_user(log_access.mode_acl(0o600), AGENT, READ)
    assert (USER, READ, AGENT) in entries and (MASK, READ, NO_ID) in entries
    assert log_access.decode_acl(log_access.encode_acl(entries)) == entries
    assert log_access.allows(item("/f", 0o640, acl=entries), AGENT, set(), READ)
    # Group and others still read nothing: the file's group entry stays empty.
    assert not log_access.allows(item("/f", 0o640, acl=entries), 1234, {ROOT}, READ)
    with_group = log_access.with_user([(1, 6, NO_ID), (4, 0, NO_ID), (GROUP, 4, 50), (MASK, 0, NO_ID), (0x20, 0, NO_ID)], AGENT, READ)
    assert (MASK, READ, NO_ID) in with_group


def test_revoking_leaves_the_file_as_it_was():
    minimal = log_access.mode_acl(0o600)
    assert log_access.without_user(log_access.with_user(minimal, AGENT, READ), AGENT) == sorted(minimal)
    other = log_access.with_user(minimal, 1234, READ)
    assert log_access.without_user(log_access.with_user(other, AGENT, READ), AGENT) == other


def test_what_is_not_an_acl_is_refused():
    with pytest.raises(ValueError):
        log_access.decode_acl(b"\x01\x00\x00\x00")


# --- the program's settings and the units ----------------------------------------------------------------------------
def config(*paths, user="cwagent"):
    return {"agent": {"run_as_user": user},
            "logs": {"logs_collected": {"files": {"collect_list": [{"file_path": path} for path in paths]}}}}


PATHS = {"state_dir": "/var/lib/observability.cloudwatch", "unit_dir": "/etc/systemd/system"}


def test_nothing_is_installed_for_a_root_agent_or_one_that_collects_no_file():
    assert log_access.wanted_files([config("/var/log/messages", user="root")], "root", ALLOWED, PATHS, "/usr/bin/python3", "") == []
    assert log_access.wanted_files([{"agent": {"run_as_user": "cwagent"}}], "cwagent", ALLOWED, PATHS, "/usr/bin/python3", "") == []


def test_the_units_watch_each_file_and_each_globs_directory_and_the_service_is_confined():
    files = log_access.wanted_files([config("/var/log/messages", "/var/log/app/*.log"), config("/var/log/messages")],
                                    "cwagent", ALLOWED, PATHS, "/usr/bin/python3.11", "program")
    by_path = dict((f["path"], f) for f in files)
    spec = json.loads(by_path["/var/lib/observability.cloudwatch/log-access.json"]["content"])
    assert spec == {"user": "cwagent", "collect": ["/var/log/messages", "/var/log/app/*.log"], "allowed": ALLOWED}
    watch = by_path["/etc/systemd/system/amazon-cloudwatch-agent-log-access.path"]["content"]
    assert [line for line in watch.splitlines() if line.startswith("PathChanged=")] == [
        "PathChanged=/var/log/app", "PathChanged=/var/log/messages"]
    service = by_path["/etc/systemd/system/amazon-cloudwatch-agent-log-access.service"]["content"]
    assert ("ExecStart=/usr/bin/python3.11 -I -s /var/lib/observability.cloudwatch/log-access.py "
            "/var/lib/observability.cloudwatch/log-access.json") in service
    assert "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_FOWNER\n" in service
    assert "ProtectSystem=strict\n" in service and "ReadWritePaths=-/var/log\n" in service
    assert by_path["/var/lib/observability.cloudwatch/log-access.py"]["mode"] == "0600"


def test_a_collected_path_the_inventory_does_not_allow_or_a_unit_cannot_hold_is_left_out():
    files = log_access.wanted_files([config("/var/log/a b.log", "/etc/shadow", "/var/log/x%i.log")], "cwagent", ALLOWED, PATHS, "py", "")
    watch = next(f["content"] for f in files if f["path"].endswith(".path"))
    assert [line for line in watch.splitlines() if line.startswith("PathChanged=")] == ["PathChanged=/var/log/x%%i.log"]
    assert "/etc/shadow" not in json.loads(next(f["content"] for f in files if f["path"].endswith(".json")))["collect"]


def test_the_installed_program_imports_the_standard_library_only():
    source = open(log_access.__file__).read()
    imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "errno", "fnmatch", "grp", "json", "os", "pwd", "re", "stat", "struct", "sys", "time"}


# --- on a real tree, as root ------------------------------------------------------------------------------------------
def reads(user, path):
    entry = pwd.getpwnam(user)

    def become():
        os.setgid(entry.pw_gid)
        os.setgroups([])
        os.setuid(entry.pw_uid)
    return subprocess.run(["cat", path], preexec_fn=become, capture_output=True, check=False).returncode == 0


@pytest.fixture
def tree():
    base = tempfile.mkdtemp(prefix="log-access-")
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base)


def make(path, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, b"line\n")
    os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="sets ACLs on files root owns and reads them as another user")
def test_on_a_real_tree_the_user_reads_the_file_again_after_a_rotation_and_nothing_outside_is_touched(tree):
    logs, secret = os.path.join(tree, "logs"), os.path.join(tree, "secret")
    os.mkdir(logs, 0o700)
    make(os.path.join(logs, "private.log"), 0o600)
    make(secret, 0o600)
    os.symlink(secret, os.path.join(logs, "link.log"))
    spec = {"user": "nobody", "collect": [os.path.join(logs, "*.log")], "allowed": [logs + "/**"]}
    assert not reads("nobody", os.path.join(logs, "private.log"))
    assert log_access.grant(spec, check_mode=True) == [(logs, SEARCH), (os.path.join(logs, "private.log"), READ)]
    assert not reads("nobody", os.path.join(logs, "private.log"))
    assert log_access.grant(spec) == [(logs, SEARCH), (os.path.join(logs, "private.log"), READ)]
    assert reads("nobody", os.path.join(logs, "private.log"))
    assert log_access.grant(spec) == []
    # The link's target, outside the allowed globs, got nothing.
    with pytest.raises(OSError):
        os.getxattr(secret, log_access.ACL_XATTR)
    # A rotation: the old file moved away, a new one created 0600.
    os.rename(os.path.join(logs, "private.log"), os.path.join(logs, "private.log.1"))
    make(os.path.join(logs, "private.log"), 0o600)
    assert not reads("nobody", os.path.join(logs, "private.log"))
    assert log_access.grant(spec) == [(os.path.join(logs, "private.log"), READ)]
    assert reads("nobody", os.path.join(logs, "private.log"))
    assert log_access.revoke(spec) == [(logs, SEARCH), (os.path.join(logs, "private.log"), READ)]
    assert not reads("nobody", os.path.join(logs, "private.log"))
    assert os.stat(os.path.join(logs, "private.log")).st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="sets ACLs on files root owns and reads them as another user")
def test_the_services_program_grants_looks_again_and_the_removal_revokes(tree, monkeypatch, capsys):
    logs = os.path.join(tree, "logs")
    os.mkdir(logs, 0o755)
    make(os.path.join(logs, "messages"), 0o600)
    spec = os.path.join(tree, "log-access.json")
    with open(spec, "w") as handle:
        json.dump({"user": "nobody", "collect": [os.path.join(logs, "messages")], "allowed": [logs + "/**"]}, handle)
    slept = []
    monkeypatch.setattr(log_access.time, "sleep", slept.append)
    assert log_access.main([spec]) == 0
    # One more look a second after the grant, which found nothing more to grant.
    assert slept == [1] and capsys.readouterr().out == "granted read for %s/messages\n" % logs
    assert reads("nobody", os.path.join(logs, "messages"))
    assert log_access.main(["--revoke", spec]) == 0
    assert capsys.readouterr().out == "revoked read for %s/messages\n" % logs
    assert not reads("nobody", os.path.join(logs, "messages"))
    with open(spec, "w") as handle:
        json.dump({"user": "no-such-user", "collect": [os.path.join(logs, "messages")], "allowed": [logs + "/**"]}, handle)
    assert log_access.main([spec]) == 1 and "no user no-such-user" in capsys.readouterr().err
