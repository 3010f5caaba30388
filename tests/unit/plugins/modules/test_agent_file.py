# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_file: one file written as root, final from its first byte, never through a link."""

import json
import os
import stat

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
