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

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_files import agent_trust, diff_of, ensure_absent, ensure_present, wanted_ids

MODE = re.compile(r"^0?[0-7]{3,4}$")


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
            changed, before, after = ensure_absent(path, trust, module.check_mode, params["recurse"])
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
