# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent's configuration saved before a change and put back on rollback, as root, following no link.

The configuration is ETC/amazon-cloudwatch-agent.d/* and ETC/amazon-cloudwatch-agent.{json,toml,yaml}, where ETC
may belong to the agent's user. A snapshot is a directory only root can enter, outside the agent's tree: the
regular files (never what a link or a hard link points to, which may be a root-only file elsewhere) as root's
0600 copies, and manifest.json with each file's relative name and mode. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_dirs import (
    clear_in,
    ensure_dir,
    files_in,
    new_dir_in,
    remove_tree,
)
from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, Trust, open_dir, split

DROPIN = "amazon-cloudwatch-agent.d"
TOP = ("amazon-cloudwatch-agent.json", "amazon-cloudwatch-agent.toml", "amazon-cloudwatch-agent.yaml")
MANIFEST = "manifest.json"


def _names(path):
    dirs, name = split(path)
    return dirs + [name]


def _read_config(etc_dir, trust):
    """{relative name: (mode, bytes)} of the configuration's regular files; a link at the drop-in directory is refused."""
    found = {}
    fd = open_dir(_names(etc_dir), trust)
    if fd is None:
        return found
    try:
        found.update(files_in(fd, etc_dir, TOP))
    finally:
        os.close(fd)
    dropin = os.path.join(etc_dir, DROPIN)
    fd = open_dir(_names(dropin), trust)
    if fd is not None:
        try:
            found.update(("%s/%s" % (DROPIN, name), entry) for name, entry in files_in(fd, dropin).items())
        finally:
            os.close(fd)
    return found


def save(etc_dir, snapshot_dir, trust):
    """Copy the agent's configuration into a new root-only snapshot_dir, replacing the previous one.

    The parent of snapshot_dir must exist and be root's (ensure_private_dir); whatever is at snapshot_dir or
    snapshot_dir.new, a link included, is removed without being followed.
    """
    files = _read_config(etc_dir, trust)
    dirs, name = split(snapshot_dir)
    new = snapshot_dir + ".new"
    remove_tree(new, Trust())
    parent = open_dir(dirs, Trust())
    if parent is None:
        raise AnsibleHostFileError(os.path.dirname(snapshot_dir), "directory does not exist")
    try:
        os.close(new_dir_in(parent, name + ".new", new, 0, 0, 0o700))
        if any(relative.startswith(DROPIN + "/") for relative in files):
            ensure_dir(os.path.join(new, DROPIN), 0, 0, 0o700, Trust())
        for relative, (_mode, data) in files.items():
            host_files.write(os.path.join(new, relative), data, 0, 0, 0o600, Trust())
        manifest = {"files": dict((relative, "%04o" % mode) for relative, (mode, _data) in files.items())}
        host_files.write(os.path.join(new, MANIFEST), json.dumps(manifest, indent=2, sort_keys=True).encode(), 0, 0, 0o600, Trust())
        remove_tree(snapshot_dir, Trust())
        try:
            os.rename(name + ".new", name, src_dir_fd=parent, dst_dir_fd=parent)
            os.fsync(parent)
        except OSError as e:
            raise AnsibleHostFileError(snapshot_dir, e.strerror or str(e)) from e
    finally:
        os.close(parent)


def exists(snapshot_dir):
    """Whether a snapshot is at snapshot_dir; a link at any component is an error, never followed."""
    fd = open_dir(_names(snapshot_dir), Trust())
    if fd is None:
        return False
    try:
        return host_files.kind_of(host_files.lstat_in(fd, MANIFEST)) == "file"
    finally:
        os.close(fd)


def _valid(relative):
    if relative in TOP:
        return True
    parts = relative.split("/")
    return len(parts) == 2 and parts[0] == DROPIN and parts[1] not in ("", ".", "..")


def _read_snapshot(snapshot_dir):
    """{relative name: (mode, bytes)} saved in snapshot_dir, checked before anything is written."""
    raw = host_files.read(os.path.join(snapshot_dir, MANIFEST), Trust())
    if raw is None:
        raise AnsibleHostFileError(snapshot_dir, "no snapshot of the agent's configuration")
    try:
        listed = json.loads(raw.decode("utf-8"))["files"]
        modes = dict((relative, int(mode, 8)) for relative, mode in listed.items())
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise AnsibleHostFileError(os.path.join(snapshot_dir, MANIFEST), "not a snapshot manifest (%s)" % e) from e
    saved = {}
    for relative, mode in sorted(modes.items()):
        if not _valid(relative):
            raise AnsibleHostFileError(os.path.join(snapshot_dir, MANIFEST), "names %r, not a file of the agent's configuration" % relative)
        data = host_files.read(os.path.join(snapshot_dir, relative), Trust())
        if data is None:
            raise AnsibleHostFileError(os.path.join(snapshot_dir, relative), "listed in the manifest but missing")
        # Permission bits only: a set-id bit is not carried onto a file written as root for another user.
        saved[relative] = (mode & 0o777, data)
    return saved


def restore(etc_dir, snapshot_dir, trust, uid, gid):
    """Put back the configuration saved in snapshot_dir: exactly its files, owned by uid:gid with their saved modes.

    The drop-in directory is emptied (created uid:gid 0755 when absent) and the top files the snapshot does not
    hold are removed. A link at the drop-in directory or at any directory on the way is refused, and nothing is
    written outside etc_dir.
    """
    saved = _read_snapshot(snapshot_dir)
    etc = open_dir(_names(etc_dir), trust)
    if etc is None:
        raise AnsibleHostFileError(etc_dir, "directory does not exist")
    os.close(etc)
    dropin = os.path.join(etc_dir, DROPIN)
    fd = open_dir(_names(dropin), trust)
    if fd is None:
        ensure_dir(dropin, uid, gid, 0o755, trust)
        fd = open_dir(_names(dropin), trust)
        if fd is None:
            raise AnsibleHostFileError(dropin, "removed while it was being restored")
    try:
        clear_in(fd, dropin)
    finally:
        os.close(fd)
    for relative, (mode, data) in sorted(saved.items()):
        host_files.write(os.path.join(etc_dir, relative), data, uid, gid, mode, trust)
    for name in TOP:
        if name not in saved:
            host_files.remove(os.path.join(etc_dir, name), trust)
