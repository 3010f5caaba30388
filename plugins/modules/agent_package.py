#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agent_package
short_description: The CloudWatch agent package on the controller, from a private cache or a given file, verified
version_added: 0.1.0
description:
  - Runs on the controller. Takes the package from O(package_file), or from the cache O(cache_path), downloading it
    from O(url) when it is not there yet, and verifies it (O(verify)) before anything reaches a host.
  - The cache must belong to the controller's user, with no write access for group or others, and no component of
    its path may be a symbolic link owned by another user; otherwise the module fails, naming the path, the owner or
    mode found and the fix. Missing directories are created with mode C(0700).
  - A cached package that fails verification is deleted and downloaded once more.
  - The SHA-256 digest returned is computed from the same bytes that were verified; check it on the host after the
    copy (M(observability.cloudwatch.package_stage) V(verified)) so that a file changed after verification is never
    installed.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  package_file:
    description: A package file on the controller to use instead of the cache (air-gapped sites).
    type: path
    default: ""
  signature_file:
    description: The detached signature of O(package_file).
    type: path
    default: ""
  url:
    description: The URL of the directory holding O(name) and its signature V(<name>.sig).
    type: str
    default: ""
  name:
    description: The package's file name.
    type: str
    required: true
  cache_path:
    description: The cache's root directory on the controller (V(~) is the controller user's home).
    type: str
    required: true
  cache_subdir:
    description: The directory under O(cache_path) for this version, OS and architecture (V(/)-separated).
    type: str
    default: ""
  verify:
    description:
      - V(gpg) checks the detached signature in a throw-away keyring holding only the key with O(fingerprint).
      - V(sha256) compares the package's digest with O(sha256). V(none) checks nothing.
    type: str
    choices: [gpg, sha256, none]
    default: gpg
  sha256:
    description: The expected SHA-256 digest (with O(verify=sha256)).
    type: str
    default: ""
  gpg_key:
    description: The armored public signing key; replaces the download from O(gpg_key_url).
    type: str
    default: ""
  gpg_key_url:
    description: Where the public signing key is downloaded from.
    type: str
    default: ""
  fingerprint:
    description: The fingerprint the signing key must have (40 upper-case hexadecimal digits).
    type: str
    default: ""
attributes:
  action:
    support: full
    description: All the work is done on the controller.
  check_mode:
    support: full
    description: Only the controller's cache changes, so it runs the same in check mode.
  diff_mode:
    support: none
    description: No host changes.
"""

EXAMPLES = r"""
- name: Fetch and verify the package on the controller
  observability.cloudwatch.agent_package:
    url: https://amazoncloudwatch-agent.s3.amazonaws.com/debian/amd64/1.300069.0b1529
    name: amazon-cloudwatch-agent.deb
    cache_path: ~/.cache/observability.cloudwatch/packages
    cache_subdir: 1.300069.0b1529/debian/amd64
    gpg_key_url: https://amazoncloudwatch-agent.s3.amazonaws.com/assets/amazon-cloudwatch-agent.gpg
    fingerprint: 937616F3450B7D806CBD9725D58167303B789C72
  register: package
"""

RETURN = r"""
path:
  description: The verified package on the controller.
  returned: success
  type: str
  sample: /home/ops/.cache/observability.cloudwatch/packages/1.300069.0b1529/debian/amd64/amazon-cloudwatch-agent.deb
sha256:
  description: The SHA-256 digest of the bytes that were verified.
  returned: success
  type: str
downloaded:
  description: Whether the package was downloaded in this run.
  returned: success
  type: bool
"""
