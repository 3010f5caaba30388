# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_as: the agent's steps run with its user's identity, groups, home and a private umask, not as root.

These tests run as root (they change user); they are skipped elsewhere.
"""

import os
import pwd

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_dirs
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, Trust
from ansible_collections.observability.cloudwatch.plugins.module_utils.run_as import owner_of_dir, run_as

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to change user")

NOBODY = pwd.getpwnam("nobody")


def test_a_command_runs_as_the_user_with_its_groups_and_none_of_roots():
    assert run_as(["id", "-u"], "nobody") == (0, "%d\n" % NOBODY.pw_uid, "")
    kept = os.getgroups()
    # Groups root holds at the time are not the user's: a step must not keep them.
    os.setgroups(kept + [0, 4242])
    try:
        rc, groups, _err = run_as(["id", "-G"], str(NOBODY.pw_uid))
    finally:
        os.setgroups(kept)
    assert rc == 0
    assert sorted(int(gid) for gid in groups.split()) == sorted(set(os.getgrouplist("nobody", NOBODY.pw_gid)))
    assert run_as(["id", "-g"], "nobody")[1] == "%d\n" % NOBODY.pw_gid


def test_the_user_gets_its_home_a_private_umask_and_the_root_directory():
    rc, out, _err = run_as(["sh", "-c", 'echo "$HOME $USER"; umask; pwd; echo "$EXTRA"'], "nobody", env={"EXTRA": "given"})
    assert (rc, out.split("\n")) == (0, ["%s nobody" % NOBODY.pw_dir, "0077", "/", "given", ""])


def test_root_runs_as_itself_in_the_given_directory(tmp_path):
    assert run_as(["sh", "-c", "id -u; pwd"], "root", cwd=str(tmp_path)) == (0, "0\n%s\n" % tmp_path, "")


def test_the_exit_code_and_errors_are_returned():
    rc, out, err = run_as(["sh", "-c", "echo out; echo err >&2; exit 3"], "nobody")
    assert (rc, out, err) == (3, "out\n", "err\n")


def test_a_file_the_user_writes_in_its_scratch_directory_is_its_own_and_private():
    path = host_dirs.scratch_dir(NOBODY.pw_uid, NOBODY.pw_gid)
    try:
        assert run_as(["touch", os.path.join(path, "out.json")], "nobody")[0] == 0
        info = os.lstat(os.path.join(path, "out.json"))
        assert (info.st_uid, info.st_mode & 0o777) == (NOBODY.pw_uid, 0o600)
    finally:
        host_dirs.remove_tree(path, Trust())


@pytest.mark.parametrize("user", ["no-such-agent-user", "4999999"])
def test_a_user_that_does_not_exist_is_named(user):
    with pytest.raises(AnsibleHostFileError) as error:
        run_as(["true"], user)
    assert str(error.value) == "%s: no such user on the host" % user


def test_owner_of_dir_names_the_owner_and_follows_no_link(tmp_path):
    theirs = tmp_path / "etc"
    theirs.mkdir()
    os.chown(str(theirs), NOBODY.pw_uid, NOBODY.pw_gid)
    assert owner_of_dir(str(theirs)) == "nobody"
    os.chown(str(theirs), 4242, 4242)
    assert owner_of_dir(str(theirs)) == "4242"
    (tmp_path / "link").symlink_to(theirs)
    with pytest.raises(AnsibleHostFileError, match="link: is a symbolic link; it is not followed"):
        owner_of_dir(str(tmp_path / "link"))
    with pytest.raises(AnsibleHostFileError, match="absent: directory does not exist"):
        owner_of_dir(str(tmp_path / "absent"))
