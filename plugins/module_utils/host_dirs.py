# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories on a host as root, without following a symbolic link anywhere on the path.

As in host_files, every path is walked from / with O_NOFOLLOW; a directory is created, chowned, chmodded,
emptied and removed only relative to a descriptor, so a link planted at any point is removed or refused,
never followed. Standard library only: the modules that use this run on hosts with nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import tempfile

from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import (
    _DIR_FLAGS,
    _READ_FLAGS,
    AnsibleHostFileError,
    Trust,
    kind_of,
    lstat_in,
    open_dir,
    remove,
    split,
)


def _error(path, e):
    return AnsibleHostFileError(path, e.strerror or str(e))


def _open_child(dir_fd, name, path):
    """Descriptor of the directory name in dir_fd; a link or anything but a directory is refused."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = kind_of(lstat_in(dir_fd, name))
            raise AnsibleHostFileError(path, "is a symbolic link; it is not followed" if kind == "link" else "not a directory") from e
        raise _error(path, e) from e


def _set_owner_mode(fd, uid, gid, mode):
    """Owner and mode through the descriptor; whether either changed."""
    info = os.fstat(fd)
    owner = (info.st_uid, info.st_gid) != (uid, gid)
    if owner:
        os.fchown(fd, uid, gid)
    # After the chown, which may clear set-id bits.
    if owner or stat.S_IMODE(info.st_mode) != mode:
        os.fchmod(fd, mode)
    return owner or stat.S_IMODE(info.st_mode) != mode


def new_dir_in(dir_fd, name, path, uid, gid, mode):
    """Create the directory name in dir_fd (it must not exist) owned uid:gid with mode; returns its descriptor.

    It is created 0700 root's, so no one else can enter it before it has its final owner and mode.
    """
    try:
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    except OSError as e:
        raise _error(path, e) from e
    fd = _open_child(dir_fd, name, path)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    except OSError as e:
        os.close(fd)
        raise _error(path, e) from e
    return fd


def _ensure_in(dir_fd, name, path, uid, gid, mode, fix=True):
    """Make name in dir_fd a directory owned uid:gid with mode (only when created, unless fix); whether changed."""
    kind = kind_of(lstat_in(dir_fd, name))
    if kind is None:
        os.close(new_dir_in(dir_fd, name, path, uid, gid, mode))
        return True
    if kind == "link":
        raise AnsibleHostFileError(path, "is a symbolic link; it is not followed")
    if kind != "directory":
        raise AnsibleHostFileError(path, "not a directory")
    if not fix:
        return False
    fd = _open_child(dir_fd, name, path)
    try:
        return _set_owner_mode(fd, uid, gid, mode)
    except OSError as e:
        raise _error(path, e) from e
    finally:
        os.close(fd)


def ensure_dir(path, uid, gid, mode, trust):
    """Ensure the directory at path, owned by uid:gid with mode; its parent must exist and be trusted.

    Returns whether anything changed. A link or anything but a directory at path is an error naming it.
    """
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    if fd is None:
        raise AnsibleHostFileError(os.path.dirname(path), "directory does not exist")
    try:
        return _ensure_in(fd, name, path, uid, gid, mode)
    except OSError as e:
        raise _error(path, e) from e
    finally:
        os.close(fd)


def ensure_private_dir(path):
    """Ensure a directory only root can enter (root:root 0700) for the role's own state.

    Each missing directory on the way is created root:root 0755; the existing ones must be trusted (root's and
    not writable by others) and are left as they are. Returns whether anything changed.
    """
    dirs, name = split(path)
    changed = False
    for depth in range(len(dirs)):
        fd = open_dir(dirs[:depth], Trust())
        try:
            changed |= _ensure_in(fd, dirs[depth], "/" + "/".join(dirs[:depth + 1]), 0, 0, 0o755, fix=False)
        finally:
            os.close(fd)
    return ensure_dir(path, 0, 0, 0o700, Trust()) or changed


def clear_in(dir_fd, path):
    """Remove everything inside the directory dir_fd, relative to descriptors: a link is removed, never followed.

    A file system mounted inside is refused, not emptied.
    """
    device = os.fstat(dir_fd).st_dev
    with os.scandir(dir_fd) as entries:
        names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_dir in names:
        where = os.path.join(path, name)
        try:
            if is_dir:
                _remove_dir_in(dir_fd, name, where, device)
            else:
                os.unlink(name, dir_fd=dir_fd)
        except OSError as e:
            raise _error(where, e) from e


def _remove_dir_in(dir_fd, name, path, device=None):
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        # Replaced by a link or a file since it was listed: removed itself.
        os.unlink(name, dir_fd=dir_fd)
        return
    try:
        if device is not None and os.fstat(fd).st_dev != device:
            raise AnsibleHostFileError(path, "another file system is mounted here; it is not removed")
        clear_in(fd, path)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=dir_fd)


def remove_tree(path, trust):
    """Remove the directory tree, file or link at path without following any link; whether anything was there.

    The directories above path must be trusted; inside the tree a link is unlinked, never followed.
    """
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    if fd is None:
        return False
    try:
        if kind_of(lstat_in(fd, name)) == "directory":
            _remove_dir_in(fd, name, path, os.fstat(fd).st_dev)
            return True
    except OSError as e:
        raise _error(path, e) from e
    finally:
        os.close(fd)
    # A file or a link, itself.
    return remove(path, trust)


def scratch_dir(uid, gid):
    """A new directory with a random name in the default temporary directory, uid:gid's and mode 0700.

    For a step that runs as that user; the caller removes it with remove_tree.
    """
    path = tempfile.mkdtemp()
    try:
        dirs, name = split(path)
        fd = open_dir(dirs + [name], Trust())
        try:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
    except BaseException:
        os.rmdir(path)
        raise
    return path


def _read_single(dir_fd, name):
    """(mode, bytes) of a regular file with no other name, opened without following a link; None for anything else.

    A file with other names (hard links) may be one root keeps elsewhere: never read.
    """
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENXIO):
            return None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            return None
        chunks = []
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            chunks.append(chunk)
        return stat.S_IMODE(info.st_mode), b"".join(chunks)
    finally:
        os.close(fd)


def files_in(dir_fd, path, names=None):
    """{name: (mode, bytes)} of the regular files in dir_fd (or of those names only); others are skipped unread."""
    found = {}
    for name in sorted(os.listdir(dir_fd) if names is None else names):
        if kind_of(lstat_in(dir_fd, name)) != "file":
            continue
        try:
            entry = _read_single(dir_fd, name)
        except OSError as e:
            raise _error(os.path.join(path, name), e) from e
        if entry is not None:
            found[name] = entry
    return found


def read_entries(path):
    """{name: bytes} of the regular files in the directory at path ({} when it does not exist).

    No link is followed at any component; links, hard-linked files and other entries are skipped, never read.
    """
    dirs, name = split(path)
    fd = open_dir(dirs + [name])
    if fd is None:
        return {}
    try:
        return dict((entry, data) for entry, (_mode, data) in files_in(fd, path).items())
    finally:
        os.close(fd)
