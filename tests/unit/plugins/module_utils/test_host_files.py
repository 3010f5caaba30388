# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_files: root's writes and reads on real directories never follow a link nor trust another user's directory.

These tests run as root (they chown); they are skipped elsewhere.
"""

import os
import stat

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, Trust

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")

OTHER_UID = 4242
OTHER_GID = 4243


@pytest.fixture
def base(tmp_path):
    # pytest's directories are root's and 0700 when root runs the tests; the walk checks every one of them.
    return tmp_path


def target_file(base, content=b"root's own\n"):
    """A root-owned 0600 file outside the tree, which a link will point to."""
    target = base / "target"
    target.write_bytes(content)
    os.chown(str(target), 0, 0)
    target.chmod(0o600)
    return target


def snapshot(path):
    info = os.lstat(str(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), path.read_bytes()


def leftovers(directory):
    return [name for name in os.listdir(str(directory)) if name.endswith(".tmp")]


def test_write_creates_with_owner_mode_and_content(base):
    path = base / "credentials"
    host_files.write(str(path), b"secret\n", OTHER_UID, OTHER_GID, 0o600, Trust())
    assert snapshot(path) == (OTHER_UID, OTHER_GID, 0o600, b"secret\n")
    assert leftovers(base) == []


def test_a_link_at_the_file_is_replaced_never_followed(base):
    target = target_file(base)
    before = snapshot(target)
    link = base / "credentials"
    link.symlink_to(target)
    host_files.write(str(link), b"new\n", OTHER_UID, OTHER_GID, 0o600, Trust())
    assert snapshot(target) == before
    assert not link.is_symlink()
    assert snapshot(link) == (OTHER_UID, OTHER_GID, 0o600, b"new\n")


def test_a_link_at_a_directory_on_the_way_is_refused(base):
    real = base / "real"
    real.mkdir()
    target = target_file(real)
    before = snapshot(target)
    (base / "etc").symlink_to(real)
    with pytest.raises(AnsibleHostFileError) as error:
        host_files.write(str(base / "etc" / "target"), b"new\n", OTHER_UID, OTHER_GID, 0o644, Trust())
    assert str(error.value) == "%s: is a symbolic link; it is not followed" % (base / "etc")
    assert snapshot(target) == before
    assert leftovers(real) == []
    with pytest.raises(AnsibleHostFileError, match="symbolic link"):
        host_files.read(str(base / "etc" / "target"))
    with pytest.raises(AnsibleHostFileError, match="symbolic link"):
        host_files.remove(str(base / "etc" / "target"), Trust())
    assert snapshot(target) == before


def test_read_refuses_a_link_at_the_file(base):
    target = target_file(base)
    (base / "link").symlink_to(target)
    with pytest.raises(AnsibleHostFileError, match="link: is a symbolic link; it is not followed"):
        host_files.read(str(base / "link"))
    assert host_files.read(str(target)) == b"root's own\n"
    assert host_files.read(str(base / "absent")) is None


def test_remove_removes_a_link_itself_not_its_target(base):
    target = target_file(base)
    before = snapshot(target)
    (base / "link").symlink_to(target)
    assert host_files.remove(str(base / "link"), Trust()) is True
    assert not os.path.lexists(str(base / "link"))
    assert snapshot(target) == before
    assert host_files.remove(str(base / "link"), Trust()) is False


def test_a_directory_of_another_user_is_refused_outside_the_tree(base):
    etc = base / "etc"
    etc.mkdir()
    os.chown(str(etc), OTHER_UID, OTHER_GID)
    with pytest.raises(AnsibleHostFileError) as error:
        host_files.write(str(etc / "common-config.toml"), b"x", 0, 0, 0o640, Trust(str(base / "agent"), [OTHER_UID], [OTHER_GID]))
    assert str(error.value) == "%s: directory owned by 4242, not by root" % etc
    assert os.listdir(str(etc)) == []


def test_the_agent_user_may_own_directories_inside_its_tree_only(base):
    tree = base / "agent"
    etc = tree / "etc"
    etc.mkdir(parents=True)
    os.chown(str(etc), OTHER_UID, OTHER_GID)
    trust = Trust(str(tree), [OTHER_UID], [OTHER_GID])
    host_files.write(str(etc / "credentials"), b"k\n", OTHER_UID, OTHER_GID, 0o600, trust)
    assert snapshot(etc / "credentials") == (OTHER_UID, OTHER_GID, 0o600, b"k\n")
    # Another user than the agent's is refused even inside the tree.
    with pytest.raises(AnsibleHostFileError, match=r"directory owned by 4242, not by root or the agent's user \(4000, 4001\)"):
        host_files.write(str(etc / "credentials"), b"k\n", 0, 0, 0o600, Trust(str(tree), [4000, 4001], [4000]))
    # A tree whose name only starts like the agent's is not inside it.
    lookalike = base / "agent-other"
    lookalike.mkdir()
    os.chown(str(lookalike), OTHER_UID, OTHER_GID)
    with pytest.raises(AnsibleHostFileError, match="not by root$"):
        host_files.write(str(lookalike / "f"), b"k\n", 0, 0, 0o600, trust)


@pytest.mark.parametrize("mode,problem", [(0o777, "writable by every user (mode 0777)"), (0o775, "writable by group 4243 (mode 0775)")])
def test_a_directory_others_can_write_is_refused(base, mode, problem):
    etc = base / "etc"
    etc.mkdir()
    os.chown(str(etc), 0, OTHER_GID)
    etc.chmod(mode)
    with pytest.raises(AnsibleHostFileError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        host_files.write(str(etc / "f"), b"x", 0, 0, 0o600, Trust())
    assert os.listdir(str(etc)) == []


def test_the_mode_and_owner_are_final_before_the_first_byte(base, monkeypatch):
    seen = []
    real_write_all = host_files._write_all

    def spy(fd, data):
        info = os.fstat(fd)
        seen.append((info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), info.st_size))
        real_write_all(fd, data)

    monkeypatch.setattr(host_files, "_write_all", spy)
    path = base / "credentials"
    path.write_bytes(b"old\n")
    path.chmod(0o644)
    # 0640, not the 0600 the file is created with, so a mode set after the write would show.
    host_files.write(str(path), b"secret\n", OTHER_UID, OTHER_GID, 0o640, Trust())
    assert seen == [(OTHER_UID, OTHER_GID, 0o640, 0)]
    assert snapshot(path) == (OTHER_UID, OTHER_GID, 0o640, b"secret\n")


def test_an_existing_file_of_the_agent_user_gives_nothing_to_the_new_one(base):
    path = base / "common-config.toml"
    path.write_bytes(b"old\n")
    os.chown(str(path), OTHER_UID, OTHER_GID)
    path.chmod(0o666)
    host_files.write(str(path), b"new\n", 0, 0, 0o640, Trust())
    assert snapshot(path) == (0, 0, 0o640, b"new\n")


def test_no_temporary_file_is_left_when_writing_fails(base, monkeypatch):
    def broken(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(host_files, "_write_all", broken)
    path = base / "credentials"
    path.write_bytes(b"old\n")
    with pytest.raises(AnsibleHostFileError, match="credentials: No space left on device"):
        host_files.write(str(path), b"new\n", 0, 0, 0o600, Trust())
    assert os.listdir(str(base)) == ["credentials"]
    assert path.read_bytes() == b"old\n"


def test_a_missing_directory_or_a_directory_at_the_file_is_an_error(base):
    with pytest.raises(AnsibleHostFileError, match="missing: directory does not exist"):
        host_files.write(str(base / "missing" / "f"), b"x", 0, 0, 0o600, Trust())
    (base / "dir").mkdir()
    with pytest.raises(AnsibleHostFileError, match="dir: is a directory"):
        host_files.write(str(base / "dir"), b"x", 0, 0, 0o600, Trust())


@pytest.mark.parametrize("path,problem", [("relative/f", "not an absolute path"), ("/etc/../f", "'..'"), ("/", "root directory")])
def test_paths_that_cannot_be_walked_safely_are_refused(path, problem):
    with pytest.raises(AnsibleHostFileError, match=problem):
        host_files.split(path)


def test_describe_reports_a_link_and_never_its_target(base):
    target = target_file(base)
    (base / "link").symlink_to(target)
    (base / "linked-dir").symlink_to(base)
    assert host_files.describe(str(base / "link")) == {"path": str(base / "link"), "exists": False, "link": True}
    assert host_files.describe(str(base / "linked-dir" / "target")) == {
        "path": str(base / "linked-dir" / "target"), "exists": False, "link": True}
    state = host_files.describe(str(target), digest=False)
    assert state["exists"] is True and state["mode"] == "0600" and "sha256" not in state
    assert host_files.list_dir(str(base / "linked-dir")) is None


def test_a_fifo_is_not_a_file_and_does_not_hang(base):
    os.mkfifo(str(base / "fifo"))
    assert host_files.describe(str(base / "fifo"))["exists"] is False
    with pytest.raises(AnsibleHostFileError, match="not a regular file"):
        host_files.read(str(base / "fifo"))


def test_a_hard_link_is_neither_described_nor_read_and_is_replaced(base):
    # Where the kernel allows hard links to others' files, one in the agent's tree may be a root-only file.
    target = target_file(base)
    before = snapshot(target)
    os.link(str(target), str(base / "hardlink"))
    assert host_files.describe(str(base / "hardlink")) == {"path": str(base / "hardlink"), "exists": False, "hardlinks": 2}
    state, info, content = host_files.current_state(str(base / "hardlink"), Trust())
    assert content is None
    host_files.write(str(base / "hardlink"), b"new\n", OTHER_UID, OTHER_GID, 0o600, Trust())
    assert snapshot(target) == before
    assert snapshot(base / "hardlink") == (OTHER_UID, OTHER_GID, 0o600, b"new\n")
