# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One file of the agent's as root: compared on the host, written only when it differs, never through a link.

Built on host_files; used by agent_file (one file) and agent_apply (every file of the role). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_dirs
from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files


def _text(data):
    return (data or b"").decode("utf-8", errors="replace")


def wanted_ids(owner, group, group_of):
    """(uid or None, gid or None) of the options; raises for unknown names."""
    uid = host_files.user_ids(owner)[0] if owner else None
    if group_of:
        return uid, host_files.user_ids(group_of)[1]
    return uid, host_files.group_id(group) if group else None


def ensure_present(path, data, uid, gid, mode, trust, check_mode):
    """Write the file when its content, mode or a given owner or group differ.

    uid or gid None: not managed while the file needs no writing; a file that must be written belongs to root
    (and the owner's primary group), never to whoever owned the file it replaces.
    Returns (changed, before, after, old content).
    """
    before, info, current = host_files.current_state(path, trust)
    if gid is None and uid is not None:
        gid = host_files.user_ids(uid)[1]
    changed = (
        before["state"] != "file" or current != data or stat.S_IMODE(info.st_mode) != mode
        or (uid is not None and info.st_uid != uid) or (gid is not None and info.st_gid != gid)
    )
    if not changed:
        return False, before, before, current
    uid = 0 if uid is None else uid
    gid = host_files.user_ids(uid)[1] if gid is None else gid
    after = {"path": path, "state": "file", "owner": host_files.user_name(uid), "group": host_files.group_name(gid),
             "mode": "%04o" % mode}
    if not check_mode:
        host_files.write(path, data, uid, gid, mode, trust)
    return True, before, after, current


def ensure_absent(path, trust, check_mode, recurse=False):
    """Remove what is at path: a file or a link (itself), or with recurse a directory and everything in it."""
    dirs, name = host_files.split(path)
    fd = host_files.open_dir(dirs, trust)
    if fd is None:
        kind = None
    else:
        try:
            kind = host_files.kind_of(host_files.lstat_in(fd, name))
        finally:
            os.close(fd)
    if kind == "directory" and not recurse:
        raise host_files.AnsibleHostFileError(path, "is a directory; recurse=true removes it with everything in it")
    if kind is not None and not check_mode:
        host_dirs.remove_tree(path, trust)
    return kind is not None, {"path": path, "state": kind or "absent"}, {"path": path, "state": "absent"}


def agent_trust(tree, users):
    """Trust in root, and inside tree in those of users that exist on the host."""
    ids = []
    for user in users:
        try:
            ids.append(host_files.user_ids(user))
        except host_files.AnsibleHostFileError:
            continue  # no directory belongs to a user the host does not have
    return host_files.Trust(tree, [uid for uid, gid in ids], [gid for uid, gid in ids])


def diff_of(before, after, old, new, secret):
    """Owner, group and mode as a dict diff; the content, unless secret, as a text diff like the copy module's."""
    diffs = [{"before": before, "after": after}]
    if not secret:
        diffs.append({"before_header": before["path"], "after_header": after["path"],
                      "before": _text(old),
                      "after": _text(new)})
    return diffs
