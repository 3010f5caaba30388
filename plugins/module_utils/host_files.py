# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on a host as root, without following a symbolic link anywhere on the path.

Every path is walked from / one component at a time, each opened relative to its parent's descriptor with
O_NOFOLLOW, so no link at any component is followed and no component can be swapped between check and use.
Writes check each directory on the way: owned by root, or by the agent's user inside the agent's own tree
(the agent chowns its etc/, var/ and logs/ to that user), and not writable by others. A file is replaced by a
new one that has its final owner and mode before its first byte, then renamed into place: nothing is ever
chowned, chmodded or copied in place, so nothing is taken from a file another user may have planted.
Standard library only: the modules that use this run on hosts with nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import hashlib
import os
import pwd
import stat

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: opening a FIFO planted at the path must not hang the run.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class AnsibleHostFileError(Exception):
    """A path that cannot be used safely, named with what is wrong with it."""

    def __init__(self, path, problem):
        super(AnsibleHostFileError, self).__init__("%s: %s" % (path, problem))
        self.path = path
        self.problem = problem


class Trust(object):
    """Who may own the directories on a path: root, and the agent's users inside the agent's tree only."""

    def __init__(self, tree=None, uids=(), gids=()):
        self.tree = os.path.normpath(tree) if tree else None
        self.uids = frozenset(uids)
        self.gids = frozenset(gids)

    def inside(self, path):
        return self.tree is not None and (path == self.tree or path.startswith(self.tree.rstrip("/") + "/"))

    def problem(self, path, info):
        """Why a directory cannot be trusted, or None."""
        agents = self.inside(path) and bool(self.uids)
        if info.st_uid != 0 and not (agents and info.st_uid in self.uids):
            return "directory owned by %s, not by root%s" % (
                user_name(info.st_uid), " or the agent's user (%s)" % ", ".join(sorted(user_name(uid) for uid in self.uids)) if agents else "")
        mode = info.st_mode
        # A root-owned sticky directory (/tmp) lets others add names but not replace root's.
        if mode & stat.S_IWOTH and not (mode & stat.S_ISVTX and info.st_uid == 0):
            return "directory writable by every user (mode %04o)" % stat.S_IMODE(mode)
        if mode & stat.S_IWGRP and info.st_gid != 0 and not (agents and info.st_gid in self.gids):
            return "directory writable by group %s (mode %04o)" % (group_name(info.st_gid), stat.S_IMODE(mode))
        return None


def _named(lookup, ident):
    """The name of a uid or gid, or the number when the host has no entry for it."""
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def user_name(uid):
    return _named(pwd.getpwuid, uid)


def group_name(gid):
    return _named(grp.getgrgid, gid)


def user_ids(name):
    """(uid, primary gid) of a user name or number."""
    try:
        entry = pwd.getpwuid(int(name)) if str(name).isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise AnsibleHostFileError(str(name), "no such user on the host") from None
    return entry.pw_uid, entry.pw_gid


def group_id(name):
    try:
        return grp.getgrgid(int(name)).gr_gid if str(name).isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise AnsibleHostFileError(str(name), "no such group on the host") from None


def split(path):
    """The directories from / to the file's and the file's own name; refuses relative and '..' paths."""
    if not path or not os.path.isabs(path):
        raise AnsibleHostFileError(str(path), "not an absolute path")
    if ".." in path.split("/"):
        raise AnsibleHostFileError(path, "a path with '..' is not accepted")
    names = [name for name in os.path.normpath(path).split("/") if name]
    if not names:
        raise AnsibleHostFileError(path, "the root directory is not a file")
    return names[:-1], names[-1]


def open_dir(names, trust=None):
    """Descriptor of the directory /names..., each component opened with O_NOFOLLOW and, given trust, checked.

    Returns None when a component does not exist; raises when one is a link, not a directory, or untrusted.
    """
    fd = os.open("/", _DIR_FLAGS)
    walked = "/"
    try:
        while True:
            if trust is not None:
                problem = trust.problem(walked, os.fstat(fd))
                if problem:
                    raise AnsibleHostFileError(walked, problem)
            if not names:
                return fd
            name, names = names[0], names[1:]
            walked = os.path.join(walked, name)
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    os.close(fd)
                    return None
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    kind = "a symbolic link" if _is_link(fd, name) else "not a directory"
                    raise AnsibleHostFileError(walked, "is %s; it is not followed" % kind) from e
                raise AnsibleHostFileError(walked, e.strerror) from e
            os.close(fd)
            fd = child
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise


def _is_link(dir_fd, name):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def lstat_in(dir_fd, name):
    """The entry's own metadata (a link's, never its target's), or None."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        raise


def kind_of(info):
    """None (absent), "link", "directory", "file" or "other" for an lstat result."""
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "link"
    if stat.S_ISDIR(info.st_mode):
        return "directory"
    return "file" if stat.S_ISREG(info.st_mode) else "other"


def read_in(dir_fd, name, path, last=None):
    """The bytes of a regular file (its last bytes only, given last), opened without following a link; None when absent."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        if e.errno == errno.ELOOP:
            raise AnsibleHostFileError(path, "is a symbolic link; it is not followed") from e
        raise AnsibleHostFileError(path, e.strerror) from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise AnsibleHostFileError(path, "not a regular file")
        if last is not None and info.st_size > last:
            os.lseek(fd, info.st_size - last, os.SEEK_SET)
        chunks = []
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def describe(path, digest=True):
    """Metadata (and SHA-256) of a regular file, read without following any link, never its contents.

    exists is true for a regular file with no other name only; link is true when the path or one of its
    directories is a symbolic link, which is reported and never followed; hardlinks counts the names of a
    file that has others.
    """
    state = {"path": path, "exists": False}
    try:
        dirs, name = split(path)
        fd = open_dir(dirs)
    except AnsibleHostFileError as e:
        if "symbolic link" in e.problem:
            state["link"] = True
        return state
    if fd is None:
        return state
    try:
        info = lstat_in(fd, name)
        kind = kind_of(info)
        if kind == "link":
            state["link"] = True
        if kind != "file":
            return state
        if info.st_nlink > 1:
            # Another name of the same file may be one root keeps elsewhere: neither its metadata nor its digest.
            state["hardlinks"] = info.st_nlink
            return state
        state.update(
            exists=True,
            mode="%04o" % stat.S_IMODE(info.st_mode),
            owner=user_name(info.st_uid),
            group=group_name(info.st_gid),
            mtime=info.st_mtime,
            size=info.st_size,
        )
        if digest:
            try:
                state["sha256"] = hashlib.sha256(read_in(fd, name, path) or b"").hexdigest()
            except (AnsibleHostFileError, OSError):
                # Replaced between the stat and the read: report what cannot be trusted as absent.
                return {"path": path, "exists": False}
        return state
    finally:
        os.close(fd)


def list_dir(path):
    """Names in a directory opened without following a link, or None when it is absent or a link."""
    try:
        dirs, name = split(path)
        fd = open_dir(dirs + [name])
    except AnsibleHostFileError:
        return None
    if fd is None:
        return None
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def read(path, trust=None, last=None):
    """The bytes of the file at path (its last bytes only, given last), or None when it is absent; a link anywhere
    on the path is an error."""
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    if fd is None:
        return None
    try:
        return read_in(fd, name, path, last)
    finally:
        os.close(fd)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write(path, data, uid, gid, mode, trust):
    """Replace the file at path with data, owned by uid:gid with mode from its creation on.

    A link at the path is replaced, never followed; the directory must exist and be trusted.
    """
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    if fd is None:
        raise AnsibleHostFileError(os.path.dirname(path), "directory does not exist")
    try:
        if kind_of(lstat_in(fd, name)) == "directory":
            raise AnsibleHostFileError(path, "is a directory")
        temp = _create_temp(fd, name, path)
        try:
            out = temp[1]
            try:
                os.fchown(out, uid, gid)
                # After the chown, which clears set-id bits; before any byte is written.
                os.fchmod(out, mode)
                _write_all(out, data)
                os.fsync(out)
            finally:
                os.close(out)
            os.rename(temp[0], name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(temp[0], dir_fd=fd)
            except OSError:
                pass
            raise
        os.fsync(fd)
    except OSError as e:
        raise AnsibleHostFileError(path, e.strerror or str(e)) from e
    finally:
        os.close(fd)


def _create_temp(dir_fd, name, path):
    for _attempt in range(100):
        temp = ".%s.%s.tmp" % (name, os.urandom(6).hex())
        try:
            return temp, os.open(temp, _CREATE_FLAGS, 0o600, dir_fd=dir_fd)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise AnsibleHostFileError(path, "cannot create a file beside it: %s" % e.strerror) from e
    raise AnsibleHostFileError(path, "cannot create a file beside it: every name tried exists")


def remove(path, trust):
    """Remove the file or link at path (a link itself, never its target); returns whether there was one."""
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    if fd is None:
        return False
    try:
        kind = kind_of(lstat_in(fd, name))
        if kind == "directory":
            raise AnsibleHostFileError(path, "is a directory")
        if kind is not None:
            os.unlink(name, dir_fd=fd)
            os.fsync(fd)
        return kind is not None
    except OSError as e:
        raise AnsibleHostFileError(path, e.strerror or str(e)) from e
    finally:
        os.close(fd)


def current_state(path, trust):
    """(state dict without contents, stat result or None, contents or None) of path, to decide what to change."""
    dirs, name = split(path)
    fd = open_dir(dirs, trust)
    try:
        info = lstat_in(fd, name) if fd is not None else None
        kind = kind_of(info)
        if kind in (None, "link"):
            return {"path": path, "state": kind or "absent"}, info, None
        if kind != "file":
            raise AnsibleHostFileError(path, "not a regular file")
        state = {"path": path, "state": "file", "owner": user_name(info.st_uid), "group": group_name(info.st_gid),
                 "mode": "%04o" % stat.S_IMODE(info.st_mode)}
        # A file with another name may be one root keeps elsewhere: not read (so never in a diff), only replaced.
        return state, info, read_in(fd, name, path) if info.st_nlink == 1 else None
    finally:
        if fd is not None:
            os.close(fd)
