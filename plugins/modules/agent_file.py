#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: agent_file
short_description: Write one file of the Amazon CloudWatch agent as root without following a link
version_added: 0.1.0
description:
  - Ensures one file's content, owner, group and mode, for files that root writes in or beside the agent's tree,
    such as its shared-credentials file and C(common-config.toml).
  - The path is walked from C(/) one directory at a time without following a symbolic link; a link at any
    directory on the way fails the task and nothing is written. A link at the file itself is replaced by the
    file, never followed, so the file it pointed to is left as it was.
  - Each directory on the way must be owned by root and not writable by other users, or, inside O(agent_tree)
    only, owned by one of O(agent_users).
  - A changed file is written as a new file that has its final owner, group and mode before its first byte,
    then renamed over the old one. An existing file's owner or mode is never changed in place or copied.
  - With O(state=absent) and O(recurse=true), a directory is removed with everything in it through descriptors.
    A link inside it is removed itself, and a directory is entered only through a descriptor opened without
    following a link, so nothing outside the tree is removed or changed.
  - This module needs nothing but Python's standard library on the target.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  path:
    description:
      - The absolute path of the file. Paths with C(..) are refused.
    type: path
    required: true
  state:
    description:
      - V(present) writes the file as wanted, V(absent) removes it (a link at O(path) is removed itself, never
        its target).
    type: str
    choices: [present, absent]
    default: present
  recurse:
    description:
      - With O(state=absent), whether a directory at O(path) is removed with everything in it. Links inside it
        are removed themselves, never followed; the directories inside it may belong to any user.
      - When V(false), a directory at O(path) fails the task and nothing is removed.
    type: bool
    default: false
  content:
    description:
      - What the file holds. Required when O(state=present).
    type: str
  secret:
    description:
      - Whether O(content) is secret. Secret content is never shown in a diff or result and is masked in logs;
        set V(false) to show a diff of the content with C(--diff).
    type: bool
    default: true
  owner:
    description:
      - The file's owner (name or uid).
      - When not given, a file that already holds O(content) with O(mode) keeps its owner, and a file that must
        be written belongs to root. The owner of a file being replaced is never carried over.
    type: str
  group:
    description:
      - The file's group (name or gid). Mutually exclusive with O(group_of).
      - When neither is given, the primary group of O(owner); without O(owner) either, a file that already holds
        O(content) with O(mode) keeps its group, and a file that must be written gets root's group.
    type: str
  group_of:
    description:
      - A user whose primary group is the file's group, for a file this user reads through its group.
    type: str
  mode:
    description:
      - The file's permission bits, in octal, for example V('0640').
    type: str
    default: "0600"
  agent_users:
    description:
      - The users the agent runs or ran as. The agent gives the directories of O(agent_tree) to its user at
        every start. Users that do not exist on the host are ignored.
    type: list
    elements: str
    default: []
  agent_tree:
    description:
      - The agent's own directory tree. Inside it, and only there, directories may belong to one of O(agent_users).
    type: path
    default: /opt/aws/amazon-cloudwatch-agent
attributes:
  check_mode:
    support: full
    description: In check mode the module reports what it would change and writes nothing.
  diff_mode:
    support: full
    description: Owner, group and mode are shown; the content only when O(secret=false).
notes:
  - The directory of O(path) must exist.
"""

EXAMPLES = r"""
- name: Write the agent's shared-credentials file for its user alone
  observability.cloudwatch.agent_file:
    path: /opt/aws/amazon-cloudwatch-agent/etc/credentials
    content: "{{ lookup('ansible.builtin.template', 'credentials.j2') }}"
    owner: cwagent
    mode: "0600"
    agent_users: [cwagent]
  no_log: true
  diff: false

- name: Write common-config.toml, readable by the agent's group
  observability.cloudwatch.agent_file:
    path: /opt/aws/amazon-cloudwatch-agent/etc/common-config.toml
    content: "{{ lookup('ansible.builtin.template', 'common-config.toml.j2') }}"
    owner: root
    group_of: cwagent
    mode: "0640"
    agent_users: [cwagent]

- name: Remove the agent's directory with everything in it, following no link
  observability.cloudwatch.agent_file:
    path: /opt/aws/amazon-cloudwatch-agent
    state: absent
    recurse: true
"""

RETURN = r"""
file:
  description: The file's state after the task (predicted in check mode). Never its content.
  returned: always
  type: dict
  contains:
    path:
      description: The file's path.
      type: str
    state:
      description: V(file), V(absent), or V(link) when a symbolic link was found at the path.
      type: str
      sample: file
    owner:
      description: The owner's name, when O(state=present).
      type: str
      sample: cwagent
    group:
      description: The group's name, when O(state=present).
      type: str
      sample: cwagent
    mode:
      description: The permission bits, in octal, when O(state=present).
      type: str
      sample: "0600"
"""

import errno
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files

MODE = re.compile(r"^0?[0-7]{3,4}$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


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


def ensure_absent(path, trust, recurse, check_mode):
    """Remove what is at path: a file or a link, or with recurse a directory and everything in it."""
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
        (remove_tree if recurse else host_files.remove)(path, trust)
    return kind is not None, {"path": path, "state": kind or "absent"}, {"path": path, "state": "absent"}


def remove_tree(path, trust):
    """Remove the file, link or directory tree at path, following no link; returns whether there was one.

    The directories on the way to path must be trusted. Inside the tree nothing is followed: a link is removed
    itself, and each directory is emptied through a descriptor opened with O_NOFOLLOW, so a directory swapped for
    a link meanwhile is never entered. A file system mounted inside the tree is refused, not emptied.
    """
    dirs, name = host_files.split(path)
    fd = host_files.open_dir(dirs, trust)
    if fd is None:
        return False
    try:
        info = host_files.lstat_in(fd, name)
        if info is None:
            return False
        _remove_entry(fd, name, path, info.st_dev)
        os.fsync(fd)
        return True
    except OSError as e:
        raise host_files.AnsibleHostFileError(path, e.strerror or str(e)) from e
    except RecursionError:
        raise host_files.AnsibleHostFileError(path, "directories nested too deeply to remove") from None
    finally:
        os.close(fd)


def _remove_entry(parent_fd, name, path, device):
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as e:
        # A link (O_NOFOLLOW), a file or anything else but a directory: only its name goes.
        if e.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        os.unlink(name, dir_fd=parent_fd)
        return
    try:
        if os.fstat(fd).st_dev != device:
            raise host_files.AnsibleHostFileError(path, "another file system is mounted here; it is not removed")
        for entry in os.listdir(fd):
            _remove_entry(fd, entry, os.path.join(path, entry), device)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)


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
                      "before": to_text(old or b"", errors="surrogate_or_replace"),
                      "after": to_text(new or b"", errors="surrogate_or_replace")})
    return diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            recurse=dict(type="bool", default=False),
            # Masked in logs even when not secret: it is unmasked below only for the diff of a non-secret file.
            content=dict(type="str", no_log=True),
            secret=dict(type="bool", default=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            group_of=dict(type="str"),
            mode=dict(type="str", default="0600"),
            agent_tree=dict(type="path", default="/opt/aws/amazon-cloudwatch-agent"),
            agent_users=dict(type="list", elements="str", default=[]),
        ),
        required_if=[("state", "present", ["content"])],
        mutually_exclusive=[("group", "group_of")],
        supports_check_mode=True,
    )
    params = module.params
    if params["recurse"] and params["state"] != "absent":
        module.fail_json(msg="recurse=true applies to state=absent only, got state=%s" % params["state"])
    if not MODE.match(params["mode"]):
        module.fail_json(msg="mode must be octal permission bits such as 0600 or 0640, got %s" % params["mode"])
    path = params["path"]
    try:
        trust = agent_trust(params["agent_tree"], params["agent_users"])
        if params["state"] == "absent":
            changed, before, after = ensure_absent(path, trust, params["recurse"], module.check_mode)
            old = new = None
        else:
            uid, gid = wanted_ids(params["owner"], params["group"], params["group_of"])
            new = to_bytes(params["content"], errors="surrogate_or_strict")
            changed, before, after, old = ensure_present(path, new, uid, gid, int(params["mode"], 8), trust, module.check_mode)
    except host_files.AnsibleHostFileError as e:
        module.fail_json(msg=str(e))
    result = {"changed": changed, "file": after}
    if module._diff:
        if not params["secret"]:
            module.no_log_values.discard(params["content"])
        result["diff"] = diff_of(before, after, old, new, params["secret"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
