# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""agent_snapshot: the agent's configuration saved and put back as root, with its user owning the agent's etc/.

No link the agent's user can plant (in etc/, at the snapshot) makes root read, copy or write a file elsewhere.
These tests run as root (they chown); they are skipped elsewhere.
"""

import json
import os
import stat

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_snapshot, host_dirs
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, Trust

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")

AGENT_UID = 4242
AGENT_GID = 4243
SECRET = b"root's own secret\n"


def owner_mode(path):
    info = os.lstat(str(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def state_of(directory):
    """Owner and mode of a directory, and owner, mode and content of every entry below it."""
    found = {".": owner_mode(directory)}
    for root, dirs, files in os.walk(str(directory)):
        for name in dirs + files:
            path = os.path.join(root, name)
            content = open(path, "rb").read() if os.path.isfile(path) and not os.path.islink(path) else None
            found[os.path.relpath(path, str(directory))] = owner_mode(path) + (content,)
    return found


def put(path, content, mode, uid=AGENT_UID, gid=AGENT_GID):
    path.write_bytes(content)
    os.chown(str(path), uid, gid)
    path.chmod(mode)


class Host(object):
    """An agent tree whose etc/ belongs to the agent's user, a root-only state directory and a root-only secret."""

    def __init__(self, base):
        self.tree = base / "opt" / "aws" / "amazon-cloudwatch-agent"
        self.etc = self.tree / "etc"
        self.dropin = self.etc / "amazon-cloudwatch-agent.d"
        self.dropin.mkdir(parents=True)
        for directory in (self.etc, self.dropin):
            os.chown(str(directory), AGENT_UID, AGENT_GID)
            directory.chmod(0o755)
        self.trust = Trust(str(self.tree), [AGENT_UID], [AGENT_GID])
        self.state = base / "var" / "lib" / "observability.cloudwatch"
        host_dirs.ensure_private_dir(str(self.state))
        self.snapshot = self.state / "config-snapshot"
        self.secret = base / "root-only"
        self.secret.mkdir()
        self.secret.chmod(0o700)
        put(self.secret / "shadow", SECRET, 0o600, 0, 0)

    def configure(self):
        put(self.dropin / "file_a.json", b'{"a": 1}\n', 0o644)
        put(self.dropin / "file_b.json", b'{"b": 2}\n', 0o640)
        put(self.etc / "amazon-cloudwatch-agent.json", b'{"agent": {}}\n', 0o600)
        put(self.etc / "amazon-cloudwatch-agent.toml", b"[agent]\n", 0o644)

    def save(self):
        agent_snapshot.save(str(self.etc), str(self.snapshot), self.trust)

    def restore(self):
        agent_snapshot.restore(str(self.etc), str(self.snapshot), self.trust, AGENT_UID, AGENT_GID)


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def snapshot_bytes(host):
    return b"".join(open(os.path.join(root, name), "rb").read() for root, _dirs, files in os.walk(str(host.snapshot)) for name in files)


def test_save_keeps_root_only_copies_and_the_modes_in_a_manifest(host):
    host.configure()
    host.save()
    assert agent_snapshot.exists(str(host.snapshot)) is True
    saved = state_of(host.snapshot)
    assert saved == {
        ".": (0, 0, 0o700),
        "amazon-cloudwatch-agent.d": (0, 0, 0o700, None),
        "amazon-cloudwatch-agent.d/file_a.json": (0, 0, 0o600, b'{"a": 1}\n'),
        "amazon-cloudwatch-agent.d/file_b.json": (0, 0, 0o600, b'{"b": 2}\n'),
        "amazon-cloudwatch-agent.json": (0, 0, 0o600, b'{"agent": {}}\n'),
        "amazon-cloudwatch-agent.toml": (0, 0, 0o600, b"[agent]\n"),
        "manifest.json": saved["manifest.json"],
    }
    assert saved["manifest.json"][:3] == (0, 0, 0o600)
    assert json.loads(saved["manifest.json"][3]) == {"files": {
        "amazon-cloudwatch-agent.d/file_a.json": "0644", "amazon-cloudwatch-agent.d/file_b.json": "0640",
        "amazon-cloudwatch-agent.json": "0600", "amazon-cloudwatch-agent.toml": "0644"}}
    assert not os.path.lexists(str(host.snapshot) + ".new")


def test_restore_puts_back_exactly_the_saved_files_with_their_modes(host):
    host.configure()
    host.save()
    put(host.dropin / "file_a.json", b"changed\n", 0o600)
    (host.dropin / "file_b.json").unlink()
    put(host.dropin / "added.json", b"new\n", 0o644)
    (host.dropin / "sub").mkdir()
    (host.dropin / "sub" / "link").symlink_to(host.secret)
    put(host.etc / "amazon-cloudwatch-agent.toml", b"changed\n", 0o600)
    put(host.etc / "amazon-cloudwatch-agent.yaml", b"new: 1\n", 0o644)
    before = state_of(host.secret)
    host.restore()
    assert state_of(host.etc) == {
        ".": (AGENT_UID, AGENT_GID, 0o755),
        "amazon-cloudwatch-agent.d": (AGENT_UID, AGENT_GID, 0o755, None),
        "amazon-cloudwatch-agent.d/file_a.json": (AGENT_UID, AGENT_GID, 0o644, b'{"a": 1}\n'),
        "amazon-cloudwatch-agent.d/file_b.json": (AGENT_UID, AGENT_GID, 0o640, b'{"b": 2}\n'),
        "amazon-cloudwatch-agent.json": (AGENT_UID, AGENT_GID, 0o600, b'{"agent": {}}\n'),
        "amazon-cloudwatch-agent.toml": (AGENT_UID, AGENT_GID, 0o644, b"[agent]\n"),
    }
    assert state_of(host.secret) == before


def test_an_empty_configuration_restores_to_an_empty_drop_in_directory(host):
    host.save()
    host.configure()
    host.restore()
    assert state_of(host.etc) == {".": (AGENT_UID, AGENT_GID, 0o755), "amazon-cloudwatch-agent.d": (AGENT_UID, AGENT_GID, 0o755, None)}


def test_restore_creates_a_missing_drop_in_directory_for_the_agent_user(host):
    host.configure()
    host.save()
    for name in os.listdir(str(host.dropin)):
        (host.dropin / name).unlink()
    host.dropin.rmdir()
    host.restore()
    assert owner_mode(host.dropin) == (AGENT_UID, AGENT_GID, 0o755)
    assert sorted(os.listdir(str(host.dropin))) == ["file_a.json", "file_b.json"]


def test_save_copies_no_file_a_link_points_to(host):
    host.configure()
    # The agent's user links (or, where the kernel allows it, hard-links) a root-only file into its drop-ins.
    (host.dropin / "x.json").symlink_to(host.secret / "shadow")
    os.link(str(host.secret / "shadow"), str(host.dropin / "y.json"))
    (host.etc / "amazon-cloudwatch-agent.yaml").symlink_to(host.secret / "shadow")
    os.mkfifo(str(host.dropin / "fifo.json"))
    host.save()
    assert SECRET not in snapshot_bytes(host)
    assert sorted(json.loads((host.snapshot / "manifest.json").read_bytes())["files"]) == [
        "amazon-cloudwatch-agent.d/file_a.json", "amazon-cloudwatch-agent.d/file_b.json",
        "amazon-cloudwatch-agent.json", "amazon-cloudwatch-agent.toml"]
    # So a rollback cannot hand the secret to the agent's user either.
    host.restore()
    assert SECRET not in b"".join((host.dropin / name).read_bytes() for name in os.listdir(str(host.dropin)))


def test_save_refuses_a_drop_in_directory_that_is_a_link(host):
    host.configure()
    host.save()
    kept = state_of(host.snapshot)
    for name in os.listdir(str(host.dropin)):
        (host.dropin / name).unlink()
    host.dropin.rmdir()
    host.dropin.symlink_to(host.secret)
    with pytest.raises(AnsibleHostFileError, match="amazon-cloudwatch-agent.d: is a symbolic link; it is not followed"):
        host.save()
    assert state_of(host.snapshot) == kept


@pytest.mark.parametrize("suffix", ["", ".new"])
def test_a_link_planted_at_the_snapshot_is_removed_and_its_target_untouched(host, tmp_path, suffix):
    other = tmp_path / "other"
    other.mkdir()
    put(other / "amazon-cloudwatch-agent.json", b"kept\n", 0o644, 0, 0)
    before = state_of(other)
    (host.state / (host.snapshot.name + suffix)).symlink_to(other)
    host.configure()
    host.save()
    assert state_of(other) == before
    assert not host.snapshot.is_symlink() and owner_mode(host.snapshot) == (0, 0, 0o700)
    assert (host.snapshot / "amazon-cloudwatch-agent.json").read_bytes() == b'{"agent": {}}\n'


def test_save_refuses_a_snapshot_directory_whose_parent_is_not_roots(host, tmp_path):
    host.configure()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(str(theirs), AGENT_UID, AGENT_GID)
    with pytest.raises(AnsibleHostFileError, match="theirs: directory owned by 4242, not by root"):
        agent_snapshot.save(str(host.etc), str(theirs / "snapshot"), host.trust)
    assert os.listdir(str(theirs)) == []


def test_restore_refuses_a_drop_in_directory_replaced_by_a_link_to_a_root_directory(host, tmp_path):
    host.configure()
    host.save()
    root_dir = tmp_path / "etc-cron.d"
    root_dir.mkdir()
    put(root_dir / "file_a.json", b"root's job\n", 0o644, 0, 0)
    put(root_dir / "job", b"* * * * * root true\n", 0o600, 0, 0)
    before_root = state_of(root_dir)
    for name in os.listdir(str(host.dropin)):
        (host.dropin / name).unlink()
    host.dropin.rmdir()
    host.dropin.symlink_to(root_dir)
    before_etc = state_of(host.etc)
    with pytest.raises(AnsibleHostFileError, match="amazon-cloudwatch-agent.d: is a symbolic link; it is not followed"):
        host.restore()
    assert state_of(root_dir) == before_root
    assert state_of(host.etc) == before_etc


def test_restore_refuses_a_link_on_the_way_to_etc(host, tmp_path):
    host.configure()
    host.save()
    moved = tmp_path / "moved"
    host.etc.rename(moved)
    root_dir = tmp_path / "root-etc"
    root_dir.mkdir()
    put(root_dir / "amazon-cloudwatch-agent.toml", b"root's\n", 0o600, 0, 0)
    before = state_of(root_dir)
    host.etc.symlink_to(root_dir)
    with pytest.raises(AnsibleHostFileError, match="etc: is a symbolic link; it is not followed"):
        host.restore()
    assert state_of(root_dir) == before


def test_restore_replaces_a_link_at_a_top_file_without_following_it(host):
    host.configure()
    host.save()
    (host.etc / "amazon-cloudwatch-agent.toml").unlink()
    (host.etc / "amazon-cloudwatch-agent.toml").symlink_to(host.secret / "shadow")
    (host.etc / "amazon-cloudwatch-agent.yaml").symlink_to(host.secret / "shadow")
    before = state_of(host.secret)
    host.restore()
    assert state_of(host.secret) == before
    assert owner_mode(host.etc / "amazon-cloudwatch-agent.toml") == (AGENT_UID, AGENT_GID, 0o644)
    assert not os.path.lexists(str(host.etc / "amazon-cloudwatch-agent.yaml"))


def test_without_a_snapshot_restore_fails_and_changes_nothing(host):
    host.configure()
    before = state_of(host.etc)
    assert agent_snapshot.exists(str(host.snapshot)) is False
    with pytest.raises(AnsibleHostFileError, match="config-snapshot: no snapshot of the agent's configuration"):
        host.restore()
    assert state_of(host.etc) == before


@pytest.mark.parametrize("listed", [{"../../x": "0644"}, {"amazon-cloudwatch-agent.d/../x": "0644"}, {"other.json": "0644"}, "files"])
def test_a_manifest_naming_another_file_is_refused(host, listed):
    host.configure()
    host.save()
    before = state_of(host.etc)
    (host.snapshot / "manifest.json").write_text(json.dumps({"files": listed}))
    with pytest.raises(AnsibleHostFileError, match="manifest.json: n"):
        host.restore()
    assert state_of(host.etc) == before


def test_set_id_bits_are_not_carried_onto_a_restored_file(host):
    put(host.dropin / "file_a.json", b"{}\n", 0o644)
    (host.dropin / "file_a.json").chmod(0o4755)
    host.save()
    host.restore()
    assert owner_mode(host.dropin / "file_a.json") == (AGENT_UID, AGENT_GID, 0o755)
