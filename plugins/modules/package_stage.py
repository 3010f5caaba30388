#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: package_stage
short_description: A root-only directory on the host for a package, and its digest checked before installation
version_added: 0.1.0
description:
  - V(present) creates a new directory with a random name in O(parent), mode C(0700), owned by the user the module
    runs as (root, with become), so no other user can place, replace or change a file in it.
  - V(verified) checks, right before installation, that O(path) is a regular file (not a link) in such a directory and
    that its SHA-256 digest is O(sha256), the digest computed when the controller verified the package. Otherwise it
    fails and the package must not be installed.
  - V(absent) removes the staging directory O(path) and what it holds; any other path is refused.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  state:
    description: What to do.
    type: str
    choices: [present, verified, absent]
    required: true
  parent:
    description: Where V(present) creates the directory.
    type: path
    default: /var/tmp
  path:
    description: The staged package (V(verified)) or the staging directory (V(absent)).
    type: path
  sha256:
    description: The package's expected SHA-256 digest (V(verified)).
    type: str
attributes:
  check_mode:
    support: full
    description: V(present) creates nothing and returns no O(path); V(verified) reads only.
  diff_mode:
    support: none
    description: Nothing worth a diff changes.
"""

EXAMPLES = r"""
- name: Create the staging directory
  observability.cloudwatch.package_stage:
    state: present
  register: staging

- name: Check the copied package's digest before installing it
  observability.cloudwatch.package_stage:
    state: verified
    path: "{{ staging.path }}/amazon-cloudwatch-agent.deb"
    sha256: "{{ package.sha256 }}"

- name: Remove the staging directory
  observability.cloudwatch.package_stage:
    state: absent
    path: "{{ staging.path }}"
"""

RETURN = r"""
path:
  description: The staging directory created (empty in check mode).
  returned: state is present
  type: str
  sample: /var/tmp/observability.cloudwatch-agent-package.k2j4x9d1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import PackageStageError
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import create
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import remove
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import verify


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "verified", "absent"], required=True),
            parent=dict(type="path", default="/var/tmp"),
            path=dict(type="path"),
            sha256=dict(type="str"),
        ),
        required_if=[("state", "verified", ["path", "sha256"]), ("state", "absent", ["path"])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["state"] == "present":
            module.exit_json(changed=True, path="" if module.check_mode else create(params["parent"]))
        if params["state"] == "verified":
            verify(params["path"], params["sha256"])
            module.exit_json(changed=False)
        module.exit_json(changed=remove(params["path"], module.check_mode))
    except (OSError, PackageStageError) as e:
        module.fail_json(msg=str(e))


if __name__ == "__main__":
    main()
