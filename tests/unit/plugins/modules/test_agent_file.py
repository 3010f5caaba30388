# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_file: one file written as root, final from its first byte, never through a link."""

import json
import os
import stat
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.observability.cloudwatch.plugins.modules import agent_file

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = "[AmazonCloudWatchAgent]\naws_secret_access_key = %s\n" % SECRET
# The agent's user stands as daemon (1:1), a user every Debian and RHEL-like system has.
AGENT = "daemon"
AGENT_UID = 1
AGENT_GID = 1


def run(capsys, **args):
    """Run the module's main() with args; returns its JSON result."""
    args.setdefault("_ansible_check_mode", False)
    args.setdefault("_ansible_diff", False)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            agent_file.main()
    return json.loads(capsys.readouterr().out)


def state(path):
    info = os.lstat(str(path))
    return info.st_uid, info.st_gid, "%04o" % stat.S_IMODE(info.st_mode), path.read_text()


@pytest.fixture
def etc(tmp_path):
    etc = tmp_path / "agent" / "etc"
    etc.mkdir(parents=True)
    return etc


def test_writes_then_is_no_change(capsys, etc):
    path = etc / "credentials"
    args = dict(path=str(path), content=CREDENTIALS, owner=AGENT, mode="0600")
    result = run(capsys, **args)
    assert result["changed"] is True
    assert result["file"] == {"path": str(path), "state": "file", "owner": AGENT, "group": AGENT, "mode": "0600"}
    assert state(path) == (AGENT_UID, AGENT_GID, "0600", CREDENTIALS)
    mtime = os.lstat(str(path)).st_mtime_ns
    assert run(capsys, **args)["changed"] is False
    assert os.lstat(str(path)).st_mtime_ns == mtime


def test_check_mode_predicts_and_writes_nothing(capsys, etc):
    path = etc / "credentials"
    result = run(capsys, path=str(path), content=CREDENTIALS, mode="0600", _ansible_check_mode=True)
    assert result["changed"] is True
    assert result["file"]["owner"] == "root"
    assert not os.path.lexists(str(path))


def test_a_wrong_mode_or_owner_is_a_new_file_not_a_chmod(capsys, etc):
    path = etc / "credentials"
    path.write_text(CREDENTIALS)
    path.chmod(0o644)
    inode = os.lstat(str(path)).st_ino
    result = run(capsys, path=str(path), content=CREDENTIALS, owner=AGENT, mode="0600")
    assert result["changed"] is True
    assert state(path) == (AGENT_UID, AGENT_GID, "0600", CREDENTIALS)
    # The readable old file was replaced, not narrowed: whoever opened it holds the old inode, not the new secret.
    assert os.lstat(str(path)).st_ino != inode


def test_without_owner_a_matching_file_keeps_its_owner_and_a_new_one_is_roots(capsys, etc):
    path = etc / "credentials"
    path.write_text(CREDENTIALS)
    os.chown(str(path), AGENT_UID, AGENT_GID)
    path.chmod(0o600)
    assert run(capsys, path=str(path), content=CREDENTIALS, mode="0600")["changed"] is False
    assert state(path)[:2] == (AGENT_UID, AGENT_GID)
    # A different content: the agent user's ownership is not carried over to the new file.
    assert run(capsys, path=str(path), content="other\n", mode="0600")["changed"] is True
    assert state(path) == (0, 0, "0600", "other\n")


def test_group_of_a_user(capsys, etc):
    path = etc / "common-config.toml"
    result = run(capsys, path=str(path), content="[proxy]\n", owner="root", group_of="root", mode="0640")
    assert result["file"]["group"] == "root"
    assert state(path) == (0, 0, "0640", "[proxy]\n")


def test_a_link_at_the_file_is_replaced_and_its_target_untouched(capsys, tmp_path, etc):
    target = tmp_path / "cw-target"
    target.write_text("known\n")
    target.chmod(0o600)
    (etc / "credentials").symlink_to(target)
    result = run(capsys, path=str(etc / "credentials"), content=CREDENTIALS, owner=AGENT, mode="0600",
                 agent_users=[AGENT], agent_tree=str(etc.parent), _ansible_diff=True)
    assert result["changed"] is True
    assert result["diff"] == [{"before": {"path": str(etc / "credentials"), "state": "link"},
                               "after": {"path": str(etc / "credentials"), "state": "file", "owner": AGENT, "group": AGENT, "mode": "0600"}}]
    assert state(target) == (0, 0, "0600", "known\n")
    assert state(etc / "credentials") == (AGENT_UID, AGENT_GID, "0600", CREDENTIALS)


def test_a_linked_directory_fails_naming_it_and_writes_nothing(capsys, tmp_path, etc):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (etc / "linked").symlink_to(elsewhere)
    result = run(capsys, path=str(etc / "linked" / "credentials"), content=CREDENTIALS)
    assert result["failed"] is True
    assert result["msg"] == "%s: is a symbolic link; it is not followed" % (etc / "linked")
    assert os.listdir(str(elsewhere)) == []


def test_a_directory_of_the_agent_user_is_accepted_only_inside_the_tree(capsys, tmp_path, etc):
    os.chown(str(etc), AGENT_UID, AGENT_GID)
    args = dict(path=str(etc / "credentials"), content=CREDENTIALS, owner=AGENT)
    assert run(capsys, agent_tree=str(etc.parent), agent_users=[AGENT], **args)["changed"] is True
    result = run(capsys, agent_tree=str(tmp_path / "other"), agent_users=[AGENT], **args)
    assert result["msg"] == "%s: directory owned by daemon, not by root" % etc
    # A user the host does not have trusts nothing.
    result = run(capsys, agent_tree=str(etc.parent), agent_users=["no-such-user-here"], **args)
    assert result["msg"] == "%s: directory owned by daemon, not by root" % etc


def test_a_secret_is_in_no_result_nor_diff(capsys, etc):
    path = etc / "credentials"
    path.write_text("old secret\n")
    result = run(capsys, path=str(path), content=CREDENTIALS, _ansible_diff=True)
    assert result["changed"] is True
    assert SECRET not in json.dumps(result)
    assert "old secret" not in json.dumps(result)
    assert result["diff"] == [{"before": {"path": str(path), "state": "file", "owner": "root", "group": "root", "mode": "0644"},
                               "after": {"path": str(path), "state": "file", "owner": "root", "group": "root", "mode": "0600"}}]


def test_a_file_that_is_not_secret_shows_its_content_in_the_diff(capsys, etc):
    path = etc / "common-config.toml"
    path.write_text("[ssl]\n")
    result = run(capsys, path=str(path), content="[imds]\n", secret=False, mode="0640", _ansible_diff=True)
    assert result["diff"][1] == {"before_header": str(path), "after_header": str(path), "before": "[ssl]\n", "after": "[imds]\n"}


def test_absent_removes_a_link_itself(capsys, tmp_path, etc):
    target = tmp_path / "cw-target"
    target.write_text("known\n")
    (etc / "credentials").symlink_to(target)
    assert run(capsys, path=str(etc / "credentials"), state="absent", _ansible_check_mode=True)["changed"] is True
    assert os.path.islink(str(etc / "credentials"))
    assert run(capsys, path=str(etc / "credentials"), state="absent")["changed"] is True
    assert not os.path.lexists(str(etc / "credentials"))
    assert target.read_text() == "known\n"
    assert run(capsys, path=str(etc / "credentials"), state="absent")["changed"] is False


@pytest.mark.parametrize(
    "args,message",
    [
        ({"mode": "u=rw"}, "mode must be octal permission bits such as 0600 or 0640, got u=rw"),
        ({"owner": "no-such-user-here"}, "no-such-user-here: no such user on the host"),
        ({"group": "no-such-group-here"}, "no-such-group-here: no such group on the host"),
        ({"group_of": "no-such-user-here"}, "no-such-user-here: no such user on the host"),
        ({"recurse": True}, "recurse=true applies to state=absent only, got state=present"),
    ],
)
def test_bad_input_fails_naming_it_and_writes_nothing(capsys, etc, args, message):
    result = run(capsys, path=str(etc / "credentials"), content=CREDENTIALS, **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert os.listdir(str(etc)) == []


def test_a_hard_link_to_a_root_file_is_never_shown_in_a_diff(capsys, tmp_path, etc):
    target = tmp_path / "shadow"
    target.write_text("root-only secret\n")
    target.chmod(0o600)
    os.link(str(target), str(etc / "common-config.toml"))
    result = run(capsys, path=str(etc / "common-config.toml"), content="root-only secret\n", secret=False, mode="0600",
                 _ansible_diff=True)
    assert result["changed"] is True
    assert result["diff"][1]["before"] == ""
    assert target.read_text() == "root-only secret\n"
    assert os.lstat(str(target)).st_nlink == 1


def snapshot(top):
    """Every entry below top with its owner, group, mode and content (a link's target), to show nothing changed."""
    seen = {}
    for root, dirs, files in os.walk(str(top)):
        for name in [""] + dirs + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                body = "-> " + os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                body = open(path).read()
            else:
                body = None
            seen[path] = (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), stat.S_IFMT(info.st_mode), body)
    return seen


@pytest.fixture
def outside(tmp_path):
    """Root's files outside the tree: a private file, a directory with a file, a directory of the agent's user."""
    outside = tmp_path / "outside"
    (outside / "dir" / "sub").mkdir(parents=True)
    (outside / "shadow").write_text("root-only\n")
    (outside / "shadow").chmod(0o600)
    (outside / "dir" / "sub" / "kept").write_text("kept\n")
    (outside / "dir" / "sub" / "kept").chmod(0o640)
    (outside / "agents").mkdir()
    os.chown(str(outside / "agents"), AGENT_UID, AGENT_GID)
    return outside


@pytest.fixture
def planted_tree(tmp_path, outside):
    """An agent tree whose user planted links and a hard link to root's files, a FIFO and its own directories."""
    tree = tmp_path / "agent"
    (tree / "etc" / "amazon-cloudwatch-agent.d").mkdir(parents=True)
    (tree / "logs").mkdir()
    (tree / "var").mkdir()
    (tree / "etc" / "amazon-cloudwatch-agent.d" / "a.json").write_text("{}\n")
    (tree / "etc" / "credentials").symlink_to(outside / "shadow")
    (tree / "var" / "linked-dir").symlink_to(outside / "dir")
    (tree / "logs" / "hard").write_text("")
    (tree / "logs" / "hard").unlink()
    os.link(str(outside / "shadow"), str(tree / "logs" / "hard"))
    os.mkfifo(str(tree / "var" / "fifo"))
    for path in (tree / "etc", tree / "logs", tree / "var"):
        os.chown(str(path), AGENT_UID, AGENT_GID)
    return tree


def test_absent_recurse_removes_a_tree_following_no_link(capsys, outside, planted_tree):
    before = snapshot(outside)
    args = dict(path=str(planted_tree), state="absent", recurse=True)
    result = run(capsys, _ansible_check_mode=True, **args)
    assert result["changed"] is True
    assert os.path.isfile(str(planted_tree / "etc" / "amazon-cloudwatch-agent.d" / "a.json"))
    result = run(capsys, _ansible_diff=True, **args)
    assert result["changed"] is True
    assert result["diff"] == [{"before": {"path": str(planted_tree), "state": "directory"},
                               "after": {"path": str(planted_tree), "state": "absent"}}]
    assert not os.path.lexists(str(planted_tree))
    assert snapshot(outside) == before
    assert run(capsys, **args)["changed"] is False


def test_absent_without_recurse_refuses_a_directory_and_removes_nothing(capsys, planted_tree):
    result = run(capsys, path=str(planted_tree / "etc"), state="absent")
    assert result["failed"] is True
    assert result["msg"] == "%s: is a directory; recurse=true removes it with everything in it" % (planted_tree / "etc")
    assert os.path.isfile(str(planted_tree / "etc" / "amazon-cloudwatch-agent.d" / "a.json"))


def test_absent_recurse_at_a_link_removes_the_link_alone(capsys, tmp_path, outside):
    before = snapshot(outside)
    (tmp_path / "state").symlink_to(outside / "dir")
    assert run(capsys, path=str(tmp_path / "state"), state="absent", recurse=True)["changed"] is True
    assert not os.path.lexists(str(tmp_path / "state"))
    assert snapshot(outside) == before


def test_absent_recurse_behind_a_linked_directory_fails_and_removes_nothing(capsys, tmp_path, outside):
    before = snapshot(outside)
    (tmp_path / "aws").symlink_to(outside)
    result = run(capsys, path=str(tmp_path / "aws" / "dir"), state="absent", recurse=True)
    assert result["failed"] is True
    assert result["msg"] == "%s: is a symbolic link; it is not followed" % (tmp_path / "aws")
    assert snapshot(outside) == before


def test_absent_recurse_in_a_directory_of_another_user_fails_and_removes_nothing(capsys, outside):
    (outside / "agents" / "state").mkdir()
    result = run(capsys, path=str(outside / "agents" / "state"), state="absent", recurse=True)
    assert result["msg"] == "%s: directory owned by daemon, not by root" % (outside / "agents")
    assert os.path.isdir(str(outside / "agents" / "state"))


def test_absent_recurse_refuses_a_file_system_mounted_inside(capsys, tmp_path, outside):
    mounted = tmp_path / "agent" / "logs"
    mounted.mkdir(parents=True)
    if subprocess.call(["mount", "-t", "tmpfs", "none", str(mounted)], stderr=subprocess.DEVNULL) != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mounted / "kept").write_text("kept\n")
        result = run(capsys, path=str(tmp_path / "agent"), state="absent", recurse=True)
        assert result["msg"] == "%s: another file system is mounted here; it is not removed" % mounted
        assert (mounted / "kept").read_text() == "kept\n"
    finally:
        subprocess.call(["umount", str(mounted)])


def test_the_uninstall_removals_change_nothing_outside_their_paths(capsys, tmp_path, outside, planted_tree):
    # What the role's uninstall removes, in its order: the agent's tree, the role's two directories, then the
    # files it wrote (a credentials file the agent's user replaced by a link, one kept elsewhere, the drop-in).
    state_dir = tmp_path / "lib" / "observability.cloudwatch"
    credentials_dir = tmp_path / "etc" / "observability.cloudwatch"
    (state_dir / "snapshot").mkdir(parents=True)
    (state_dir / "snapshot" / "x.json").write_text("{}\n")
    credentials_dir.mkdir(parents=True)
    (credentials_dir / "credentials").write_text(CREDENTIALS)
    (tmp_path / "etc" / "credentials").symlink_to(outside / "shadow")
    dropin = tmp_path / "etc" / "observability-cloudwatch.conf"
    dropin.write_text("[Service]\n")
    before = snapshot(outside)
    removals = [(planted_tree, True), (state_dir, True), (credentials_dir, True), (planted_tree / "etc" / "credentials", False),
                (tmp_path / "etc" / "credentials", False), (dropin, False)]

    def uninstall(check_mode):
        return [run(capsys, path=str(path), state="absent", recurse=recurse, agent_tree=str(planted_tree), agent_users=[AGENT],
                    _ansible_check_mode=check_mode)["changed"] for path, recurse in removals]

    assert uninstall(check_mode=True) == [True] * 6
    assert os.path.islink(str(planted_tree / "etc" / "credentials"))
    # The link in the agent's etc/ went with the tree.
    assert uninstall(check_mode=False) == [True, True, True, False, True, True]
    assert uninstall(check_mode=False) == [False] * 6
    assert [path for path, recurse in removals if os.path.lexists(str(path))] == []
    assert snapshot(outside) == before
