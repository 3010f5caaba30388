# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_dirs: root creates, fixes, empties and removes directories without following a link anywhere.

These tests run as root (they chown); they are skipped elsewhere.
"""

import os
import stat

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_dirs
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, Trust

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")

OTHER_UID = 4242
OTHER_GID = 4243


def owner_mode(path):
    info = os.lstat(str(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def outside(base):
    """A root-only directory with a root-only file, which links will point to."""
    secret = base / "secret"
    secret.mkdir()
    secret.chmod(0o700)
    (secret / "shadow").write_bytes(b"root's own\n")
    (secret / "shadow").chmod(0o600)
    return secret


def state_of(directory):
    """Owner, mode and content of a directory and each file in it."""
    return owner_mode(directory), dict((name, owner_mode(directory / name) + ((directory / name).read_bytes(),)) for name in os.listdir(str(directory)))


def test_ensure_dir_creates_then_reports_no_change(tmp_path):
    path = tmp_path / "etc"
    assert host_dirs.ensure_dir(str(path), OTHER_UID, OTHER_GID, 0o750, Trust()) is True
    assert owner_mode(path) == (OTHER_UID, OTHER_GID, 0o750)
    assert host_dirs.ensure_dir(str(path), OTHER_UID, OTHER_GID, 0o750, Trust()) is False


@pytest.mark.parametrize("owner,mode", [((OTHER_UID, OTHER_GID), 0o700), ((0, 0), 0o777)])
def test_ensure_dir_fixes_the_owner_or_the_mode_of_an_existing_directory(tmp_path, owner, mode):
    path = tmp_path / "etc"
    path.mkdir()
    os.chown(str(path), *owner)
    path.chmod(mode)
    assert host_dirs.ensure_dir(str(path), 0, 0, 0o755, Trust()) is True
    assert owner_mode(path) == (0, 0, 0o755)


def test_ensure_dir_refuses_a_link_at_the_path_and_leaves_its_target(tmp_path):
    secret = outside(tmp_path)
    before = state_of(secret)
    (tmp_path / "etc").symlink_to(secret)
    with pytest.raises(AnsibleHostFileError) as error:
        host_dirs.ensure_dir(str(tmp_path / "etc"), OTHER_UID, OTHER_GID, 0o755, Trust())
    assert str(error.value) == "%s: is a symbolic link; it is not followed" % (tmp_path / "etc")
    assert state_of(secret) == before


def test_ensure_dir_refuses_a_file_a_link_on_the_way_a_missing_or_untrusted_parent(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(AnsibleHostFileError, match="file: not a directory"):
        host_dirs.ensure_dir(str(tmp_path / "file"), 0, 0, 0o755, Trust())
    secret = outside(tmp_path)
    (tmp_path / "link").symlink_to(secret)
    with pytest.raises(AnsibleHostFileError, match="link: is a symbolic link"):
        host_dirs.ensure_dir(str(tmp_path / "link" / "new"), 0, 0, 0o755, Trust())
    assert os.listdir(str(secret)) == ["shadow"]
    with pytest.raises(AnsibleHostFileError, match="missing: directory does not exist"):
        host_dirs.ensure_dir(str(tmp_path / "missing" / "new"), 0, 0, 0o755, Trust())
    (tmp_path / "theirs").mkdir()
    os.chown(str(tmp_path / "theirs"), OTHER_UID, OTHER_GID)
    with pytest.raises(AnsibleHostFileError, match="theirs: directory owned by 4242, not by root"):
        host_dirs.ensure_dir(str(tmp_path / "theirs" / "new"), 0, 0, 0o755, Trust())
    assert os.listdir(str(tmp_path / "theirs")) == []


def test_ensure_private_dir_creates_each_missing_directory_root_only_at_the_end(tmp_path):
    path = tmp_path / "var" / "lib" / "observability.cloudwatch"
    assert host_dirs.ensure_private_dir(str(path)) is True
    assert owner_mode(tmp_path / "var") == (0, 0, 0o755)
    assert owner_mode(tmp_path / "var" / "lib") == (0, 0, 0o755)
    assert owner_mode(path) == (0, 0, 0o700)
    assert host_dirs.ensure_private_dir(str(path)) is False
    # An existing directory of the role's, opened up or given away, is made root's 0700 again.
    os.chown(str(path), OTHER_UID, OTHER_GID)
    path.chmod(0o755)
    assert host_dirs.ensure_private_dir(str(path)) is True
    assert owner_mode(path) == (0, 0, 0o700)


def test_ensure_private_dir_leaves_existing_directories_on_the_way_and_refuses_a_link(tmp_path):
    tmp_path.chmod(0o711)
    host_dirs.ensure_private_dir(str(tmp_path / "state"))
    assert owner_mode(tmp_path) == (0, 0, 0o711)
    secret = outside(tmp_path)
    (tmp_path / "var").symlink_to(secret)
    with pytest.raises(AnsibleHostFileError, match="var: is a symbolic link"):
        host_dirs.ensure_private_dir(str(tmp_path / "var" / "state"))
    assert os.listdir(str(secret)) == ["shadow"]
    assert owner_mode(secret) == (0, 0, 0o700)


def test_remove_tree_unlinks_links_inside_and_leaves_what_they_point_to(tmp_path):
    secret = outside(tmp_path)
    before = state_of(secret)
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_bytes(b"x")
    (tree / "a" / "dir-link").symlink_to(secret)
    (tree / "a" / "b" / "file-link").symlink_to(secret / "shadow")
    os.mkfifo(str(tree / "fifo"))
    assert host_dirs.remove_tree(str(tree), Trust()) is True
    assert not os.path.lexists(str(tree))
    assert state_of(secret) == before
    assert host_dirs.remove_tree(str(tree), Trust()) is False


@pytest.mark.parametrize("make", [lambda entry, secret: entry.symlink_to(secret), lambda entry, secret: entry.write_bytes(b"x")])
def test_remove_tree_removes_a_link_or_a_file_itself(tmp_path, make):
    secret = outside(tmp_path)
    before = state_of(secret)
    make(tmp_path / "entry", secret)
    assert (host_dirs.remove_tree(str(tmp_path / "entry"), Trust()), os.path.lexists(str(tmp_path / "entry"))) == (True, False)
    assert state_of(secret) == before


def test_remove_tree_follows_no_link_on_the_way(tmp_path):
    secret = outside(tmp_path)
    before = state_of(secret)
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(AnsibleHostFileError, match="link: is a symbolic link"):
        host_dirs.remove_tree(str(tmp_path / "link" / "secret"), Trust())
    assert state_of(secret) == before


def test_scratch_dir_is_a_new_directory_of_the_user_and_only_theirs():
    paths = [host_dirs.scratch_dir(OTHER_UID, OTHER_GID), host_dirs.scratch_dir(OTHER_UID, OTHER_GID)]
    try:
        assert paths[0] != paths[1]
        assert [owner_mode(path) for path in paths] == [(OTHER_UID, OTHER_GID, 0o700)] * 2
        assert [os.listdir(path) for path in paths] == [[], []]
    finally:
        for path in paths:
            host_dirs.remove_tree(path, Trust())


def test_read_entries_reads_regular_files_only(tmp_path):
    secret = outside(tmp_path)
    dropin = tmp_path / "amazon-cloudwatch-agent.d"
    dropin.mkdir()
    (dropin / "a.json").write_bytes(b'{"a": 1}')
    (dropin / "b.json").write_bytes(b"")
    (dropin / "link.json").symlink_to(secret / "shadow")
    # A hard link may name a root-only file; another user can make one where the kernel allows it.
    os.link(str(secret / "shadow"), str(dropin / "hard.json"))
    (dropin / "sub").mkdir()
    os.mkfifo(str(dropin / "fifo.json"))
    assert host_dirs.read_entries(str(dropin)) == {"a.json": b'{"a": 1}', "b.json": b""}
    assert host_dirs.read_entries(str(tmp_path / "absent")) == {}
    (tmp_path / "dir-link").symlink_to(dropin)
    with pytest.raises(AnsibleHostFileError, match="dir-link: is a symbolic link"):
        host_dirs.read_entries(str(tmp_path / "dir-link"))
