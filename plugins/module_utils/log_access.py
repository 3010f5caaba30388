# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read access for the agent's user to the log files its configuration collects, kept across log rotation.

Debian gives its logs to group adm, which the role adds the agent's user to; RHEL-family hosts keep
/var/log/messages and others root's only. Each collected file that an allowed glob (cloudwatch_agent_allowed_log_paths)
names and that the user cannot read otherwise gets a named ACL entry for the user: read on the file, search on the
directories between the allowed glob's fixed directory and the file. A rotation recreates the file 0600, so its ACL
mask is empty whatever the directory's default ACL says: a systemd path unit watches each collected file and each
directory holding a glob, and runs this file again, as a hardened oneshot service, when one changes.

Run as root, both in the role's module and as that service's program, so standard library only and nothing of the
collection imported (the role installs this file as it is). Nothing is followed: every directory is opened relative
to its parent with O_NOFOLLOW, links and files with other names are skipped, the ACL is set through the descriptor
of the file that was checked, and only files an allowed glob names are touched, whatever the configuration (it may
come from Parameter Store) asks for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fnmatch
import grp
import json
import os
import pwd
import re
import stat
import struct
import sys
import time

UNIT = "amazon-cloudwatch-agent-log-access"
# When the host did not say which Python runs the role's modules.
DEFAULT_PYTHON = "/usr/bin/python3"
HEADER = "# Managed by the observability.cloudwatch agent role: changes made here are replaced."

# The kernel's POSIX ACL extended attribute: a version, then (tag, permissions, id) entries sorted by tag and id.
ACL_XATTR = "system.posix_acl_access"
ACL_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
NO_ID = 0xFFFFFFFF
READ, SEARCH = 4, 1
# The path unit stops watching while the service runs: a rotation that creates or chmods the new file a moment
# after the old one moved away is seen by another pass, after a second with nothing to grant at most this often.
SETTLE_PASSES = 5


class LogAccessError(Exception):
    """A grant that could not be set, named with the path."""


WILDCARD = re.compile(r"[*?\[{]")
# What systemd would read in a unit otherwise than as one path.
UNIT_UNSAFE = re.compile(r"[\s\"'\\;]")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a FIFO named like a log file must not hang the run.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


# --- globs ------------------------------------------------------------------------------------------------------
def glob_match(pattern, path):
    """Whether every file the agent's glob `path` can name is one `pattern` allows, its wildcards taken as text.

    In `pattern`, ** is any depth, * any name within one directory (never a ** of `path`), ? one plain character.
    """
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    regex = {"**": ".*", "*": r"(?:[^/*]|\*(?!\*))*", "?": r"[^/*?\[{]"}
    return re.match("".join(regex.get(part, re.escape(part)) for part in parts) + r"\Z", path) is not None


def braces(pattern):
    """The patterns a glob's {a,b} alternatives stand for (not nested, as the agent's globs use them)."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if not found:
        return [pattern]
    return [expanded for choice in found.group(1).split(",")
            for expanded in braces(pattern[:found.start()] + choice + pattern[found.end():])]


def fixed_dir(pattern):
    """The deepest directory of a glob without a wildcard in it (a plain path's own directory)."""
    names = [name for name in pattern.split("/") if name]
    fixed = []
    for name in names[:-1]:
        if WILDCARD.search(name):
            break
        fixed.append(name)
    return "/" + "/".join(fixed)


def inside(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


# --- ACLs on plain data -----------------------------------------------------------------------------------------
def decode_acl(data):
    """[(tag, permissions, id)] of an ACL attribute's bytes."""
    if len(data) < 4 or struct.unpack_from("<I", data)[0] != ACL_VERSION or (len(data) - 4) % 8:
        raise ValueError("not a POSIX ACL")
    return [struct.unpack_from("<HHI", data, offset) for offset in range(4, len(data), 8)]


def encode_acl(entries):
    return struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *entry) for entry in sorted(entries))


def mode_acl(mode):
    """The three entries a file without an ACL has, from its mode."""
    return [(USER_OBJ, (mode >> 6) & 7, NO_ID), (GROUP_OBJ, (mode >> 3) & 7, NO_ID), (OTHER, mode & 7, NO_ID)]


def allows(item, uid, gids, want):
    """Whether uid, member of gids, has the permission bits want on a file or directory, as the kernel decides.

    item: uid, gid, mode and acl (its entries, None when it has no ACL).
    """
    entries = item["acl"] if item.get("acl") is not None else mode_acl(item["mode"])
    mask = next((perm for tag, perm, dummy in entries if tag == MASK), 7)
    if uid == item["uid"]:
        return any(tag == USER_OBJ and perm & want == want for tag, perm, dummy in entries)
    named = [perm for tag, perm, ident in entries if tag == USER and ident == uid]
    if named:
        return named[0] & mask & want == want
    groups = [perm & mask for tag, perm, ident in entries
              if (tag == GROUP_OBJ and item["gid"] in gids) or (tag == GROUP and ident in gids)]
    if groups:
        return any(perm & want == want for perm in groups)
    return any(tag == OTHER and perm & want == want for tag, perm, dummy in entries)


def with_user(entries, uid, perm):
    """The entries with uid's named entry holding perm too; the mask widened by perm only, as little as it takes."""
    old = next((p for tag, p, ident in entries if tag == USER and ident == uid), 0)
    mask = next((p for tag, p, dummy in entries if tag == MASK), None)
    if mask is None:
        mask = 0
        for entry in entries:
            mask |= entry[1] if entry[0] in (GROUP_OBJ, USER, GROUP) else 0
    kept = [entry for entry in entries if entry[0] != MASK and not (entry[0] == USER and entry[2] == uid)]
    return sorted(kept + [(USER, old | perm, uid), (MASK, mask | perm, NO_ID)])


def without_user(entries, uid):
    """The entries without uid's named entry; no mask left when no named entry is."""
    kept = [entry for entry in entries if not (entry[0] == USER and entry[2] == uid)]
    if not any(tag in (USER, GROUP) for tag, dummy, dummy2 in kept):
        kept = [entry for entry in kept if entry[0] != MASK]
    return sorted(kept)


# --- what to grant, on plain data ---------------------------------------------------------------------------------
def plan(found, dirs, allowed, uid, gids):
    """[(path, permission)]: read on each collected file an allowed glob names that uid cannot read yet, and search
    on the directories on its way, from the allowed glob's fixed directory down, that uid cannot search yet.

    found: the entries the collected globs name (path, kind, nlink, uid, gid, mode, acl); dirs: the directories
    on their way, by path. Links, other kinds of file and files with other names are never granted anything.
    """
    grants = {}
    for item in found:
        if item["kind"] != "file" or item["nlink"] != 1:
            continue
        tops = [fixed_dir(glob) for glob in allowed if glob_match(glob, item["path"])]
        if not tops:
            continue
        if not allows(item, uid, gids, READ):
            grants[item["path"]] = READ
        parent = os.path.dirname(item["path"])
        while parent != "/":
            if any(inside(parent, top) for top in tops) and parent in dirs and not allows(dirs[parent], uid, gids, SEARCH):
                grants[parent] = SEARCH
            parent = os.path.dirname(parent)
    return sorted(grants.items())


def collected(configs):
    """The file_path globs of the configurations, in order, once each."""
    out = []
    for config in configs:
        logs = config.get("logs") if isinstance(config.get("logs"), dict) else {}
        files = (logs.get("logs_collected") or {}).get("files") if isinstance(logs.get("logs_collected"), dict) else None
        entries = files.get("collect_list") if isinstance(files, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            path = entry.get("file_path") if isinstance(entry, dict) else None
            if isinstance(path, str) and path not in out:
                out.append(path)
    return out


# --- the files the role installs ------------------------------------------------------------------------------------
def locations(paths):
    """Where the program, its settings and the two units live."""
    return {"program": os.path.join(paths["state_dir"], "log-access.py"),
            "spec": os.path.join(paths["state_dir"], "log-access.json"),
            "service": os.path.join(paths["unit_dir"], UNIT + ".service"),
            "path": os.path.join(paths["unit_dir"], UNIT + ".path")}


def spec_for(configs, user, allowed):
    """The program's settings for an agent running as user, or None when it needs no grant (root, or no log file)."""
    patterns = [pattern for pattern in collected(configs) if any(glob_match(glob, pattern) for glob in allowed)]
    if user == "root" or not patterns:
        return None
    return {"user": user, "collect": patterns, "allowed": list(allowed)}


def unit_path(path):
    """A path as a unit file reads it, or None when the unit would read it otherwise."""
    if UNIT_UNSAFE.search(path) or any(ord(c) < 32 for c in path):
        return None
    return path.replace("%", "%%")


def service_unit(where, python, spec):
    writable = sorted(set(unit_path(fixed_dir(glob)) for glob in spec["allowed"]) - {None})
    return "\n".join([
        HEADER,
        "[Unit]",
        "Description=Read access for the CloudWatch agent's user to the log files it collects",
        "",
        "[Service]",
        "Type=oneshot",
        "ExecStart=%s -I -s %s %s" % (python, where["program"], where["spec"]),
        # Reading any file and setting an ACL on a file root does not own are all it does.
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_FOWNER",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        # Writable only for the ACL attributes of the log files: nothing is written there.
        "ReadWritePaths=" + " ".join("-" + path for path in writable),
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateNetwork=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_UNIX",
        "RestrictNamespaces=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "UMask=0077",
    ]) + "\n"


def path_unit(spec):
    watched = sorted(set(unit_path(pattern if not WILDCARD.search(pattern) else fixed_dir(pattern))
                         for glob in spec["collect"] for pattern in braces(glob)) - {None})
    return "\n".join([
        HEADER,
        "[Unit]",
        "Description=Read access for the CloudWatch agent's user to log files recreated by a rotation",
        "",
        "[Path]",
    ] + ["PathChanged=" + path for path in watched] + [
        "Unit=%s.service" % UNIT,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]) + "\n"


def wanted_files(configs, user, allowed, paths, python, program):
    """The files the role installs for these configurations (agent_apply's file entries), [] when none is needed."""
    spec = spec_for(configs, user, allowed)
    if spec is None:
        return []
    where = locations(paths)
    root = {"owner": "root", "group": "root", "secret": False}
    return [dict(root, path=where["program"], content=program, mode="0600"),
            dict(root, path=where["spec"], content=json.dumps(spec, indent=2, sort_keys=True) + "\n", mode="0600"),
            dict(root, path=where["service"], content=service_unit(where, python, spec), mode="0644"),
            dict(root, path=where["path"], content=path_unit(spec), mode="0644")]


# --- the host, as root ------------------------------------------------------------------------------------------------
def _open_dir_in(dir_fd, name):
    """A child directory's descriptor, or None when it is absent, a link or not a directory."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EACCES):
            return None
        raise


def _acl_of(fd):
    try:
        return decode_acl(os.getxattr(fd, ACL_XATTR))
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise


def _describe(fd, path, kind):
    info = os.fstat(fd)
    return {"path": path, "kind": kind, "nlink": info.st_nlink, "uid": info.st_uid, "gid": info.st_gid,
            "mode": stat.S_IMODE(info.st_mode), "acl": _acl_of(fd), "ino": (info.st_dev, info.st_ino)}


def _entry(dir_fd, name, path):
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    if not stat.S_ISREG(info.st_mode):
        return {"path": path, "kind": "link" if stat.S_ISLNK(info.st_mode) else "other", "nlink": info.st_nlink}
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENXIO):
            # Gone or replaced since it was looked at: left for the next run.
            return None
        raise
    try:
        return _describe(fd, path, "file" if stat.S_ISREG(os.fstat(fd).st_mode) else "other")
    finally:
        os.close(fd)


def _walk(dir_fd, path, names, found, dirs):
    if not names:
        return
    name, rest = names[0], names[1:]
    if name == "**":
        # Any depth: none here, then every directory below; a final ** names every file below.
        _walk(dir_fd, path, rest or ["*"], found, dirs)
        matches, rest = sorted(os.listdir(dir_fd)), names
    elif WILDCARD.search(name):
        matches = [child for child in sorted(os.listdir(dir_fd)) if fnmatch.fnmatchcase(child, name)]
    else:
        matches = [name] if name not in (".", "..") else []
    for child in matches:
        child_path = os.path.join(path, child)
        if not rest:
            entry = _entry(dir_fd, child, child_path)
            if entry is not None and child_path not in [item["path"] for item in found]:
                found.append(entry)
            continue
        child_fd = _open_dir_in(dir_fd, child)
        if child_fd is None:
            continue
        try:
            dirs[child_path] = _describe(child_fd, child_path, "directory")
            _walk(child_fd, child_path, rest, found, dirs)
        finally:
            os.close(child_fd)


def find(patterns):
    """(found, dirs) for plan(): what the globs name on this host, and the directories on their way."""
    found, dirs = [], {}
    for pattern in patterns:
        for glob in braces(pattern):
            root = os.open("/", _DIR_FLAGS)
            try:
                _walk(root, "/", [name for name in glob.split("/") if name], found, dirs)
            finally:
                os.close(root)
    return found, dirs


def _open_path(path, directory):
    """A descriptor of path, no component followed, or None when it is absent, a link or another kind of file."""
    names = [name for name in path.split("/") if name]
    fd = os.open("/", _DIR_FLAGS)
    try:
        for name in names[:-1]:
            child = _open_dir_in(fd, name)
            os.close(fd)
            fd = child
            if fd is None:
                return None
        try:
            target = os.open(names[-1], _DIR_FLAGS if directory else _FILE_FLAGS, dir_fd=fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                return None
            raise
        if not directory and not stat.S_ISREG(os.fstat(target).st_mode):
            os.close(target)
            return None
        return target
    finally:
        if fd is not None:
            os.close(fd)


def _change_acl(path, perm, change):
    """Apply change to the ACL of path through its descriptor; whether it changed."""
    fd = _open_path(path, perm == SEARCH)
    if fd is None:
        return False
    try:
        item = _describe(fd, path, "directory" if perm == SEARCH else "file")
        if perm == READ and item["nlink"] != 1:
            return False
        entries = item["acl"] if item["acl"] is not None else mode_acl(item["mode"])
        new = change(entries)
        if sorted(new) == sorted(entries):
            return False
        try:
            os.setxattr(fd, ACL_XATTR, encode_acl(new))
        except OSError as e:
            raise LogAccessError("%s: the ACL cannot be set (%s)" % (path, e.strerror)) from None
        return True
    finally:
        os.close(fd)


def user_of(spec, extra_groups=()):
    """(uid, gids) of the spec's user, with the groups the run adds the user to; None when the user does not exist."""
    try:
        entry = pwd.getpwnam(spec["user"])
    except KeyError:
        return None
    gids = set(os.getgrouplist(entry.pw_name, entry.pw_gid))
    for name in extra_groups:
        try:
            gids.add(grp.getgrnam(name).gr_gid)
        except KeyError:
            pass
    return entry.pw_uid, gids


def grant(spec, extra_groups=(), check_mode=False):
    """Grant what plan() finds missing on this host; the grants, [(path, permission)]."""
    user = user_of(spec, extra_groups)
    if user is None:
        if check_mode:
            return []
        raise LogAccessError("no user %s on this host" % spec["user"])
    found, dirs = find(spec["collect"])
    wanted = plan(found, dirs, spec["allowed"], user[0], user[1])
    if check_mode:
        return wanted
    return [(path, perm) for path, perm in wanted if _change_acl(path, perm, lambda e, p=perm: with_user(e, user[0], p))]


def revoke(spec, check_mode=False):
    """Remove the user's named entries from what the collected globs name under the allowed globs; what changed."""
    user = user_of(spec)
    if user is None:
        return []
    found, dirs = find(spec["collect"])
    targets = [(item["path"], READ) for item in found if item["kind"] == "file"
               and any(glob_match(glob, item["path"]) for glob in spec["allowed"])]
    tops = [fixed_dir(glob) for glob in spec["allowed"]]
    targets += [(path, SEARCH) for path in sorted(dirs) if any(inside(path, top) for top in tops)]
    held = dict((item["path"], item) for item in found)
    held.update(dirs)
    named = [(path, perm) for path, perm in sorted(targets)
             if any(tag == USER and ident == user[0] for tag, dummy, ident in held[path].get("acl") or [])]
    if check_mode:
        return named
    return [(path, perm) for path, perm in named if _change_acl(path, perm, lambda e: without_user(e, user[0]))]


def main(argv):
    """log-access.py [--revoke] SPEC: the service's program (and the removal's)."""
    removing = argv[:1] == ["--revoke"]
    with open(argv[-1]) as handle:
        spec = json.load(handle)
    try:
        done = revoke(spec) if removing else grant(spec)
        passes = 0 if removing else SETTLE_PASSES
        while passes:
            time.sleep(1)
            more = grant(spec)
            done += more
            passes = passes - 1 if more else 0
    except (LogAccessError, OSError) as e:
        sys.stderr.write("%s\n" % e)
        return 1
    for path, perm in done:
        sys.stdout.write("%s %s for %s\n" % ("revoked" if removing else "granted", "read" if perm == READ else "search", path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
