# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_restore_profile
short_description: The instance profile an admin session may give back, from the value of its restore tag
version_added: 0.1.0
description:
  - An admin session tags the instance with the ARN of the instance profile it had (or V(none)) before giving it the
    admin profile. Anyone allowed to tag instances can write that tag, so its value is given back only when it is
    the ARN of another instance profile in the admin profile's partition and account.
  - Returns that ARN, or V(none) (remove the admin profile and give none) for any other value, the admin profile
    itself included.
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input, admin_profile_arn
options:
  _input:
    description: The value of the restore tag.
    type: str
    required: true
  admin_profile_arn:
    description: The ARN of the admin instance profile.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Give the instance back the profile its tag names, or none
  observability.cloudwatch.instance_profile_association:
    instance_id: "{{ instance_id }}"
    only_from_profile: "{{ admin_profile_arn }}"
    instance_profile: "{{ back if back != 'none' else omit }}"
    state: "{{ 'absent' if back == 'none' else 'present' }}"
  vars:
    back: "{{ restore_tag | observability.cloudwatch.cloudwatch_restore_profile(admin_profile_arn) }}"
"""

RETURN = r"""
_value:
  description: An instance profile ARN, or V(none).
  type: str
  sample: arn:aws:iam::123456789012:instance-profile/CloudWatchAgentServerProfile
"""

from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import restore_target


def cloudwatch_restore_profile(recorded, admin_profile_arn):
    return restore_target(str(recorded), str(admin_profile_arn))


class FilterModule:
    def filters(self):
        return {"cloudwatch_restore_profile": cloudwatch_restore_profile}
