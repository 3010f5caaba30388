#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: instance_profile_association
version_added: 0.1.0
short_description: Set, swap or remove the IAM instance profile of a running EC2 instance
description:
  - Ensures an EC2 instance is associated with an IAM instance profile, replacing the association it has
    (C(ec2:ReplaceIamInstanceProfileAssociation)) or creating one (C(ec2:AssociateIamInstanceProfile)), or removes
    the association (C(ec2:DisassociateIamInstanceProfile)).
  - Reads the association with C(ec2:DescribeIamInstanceProfileAssociations), never from the instance description,
    and returns the association found before the change in RV(previous_association), also when the module fails
    after reading it, so that a playbook can always put it back.
  - Used by the C(observability.cloudwatch.admin_session) playbook to give an instance the agent's administrator
    role only while it publishes the agent configuration.
  - Replacing the association also needs C(iam:PassRole) on the role of the new instance profile.
  - Right after IAM creates an instance profile, EC2 refuses it (C(InvalidParameterValue), C(Invalid IAM Instance
    Profile name) or C(ARN)) until the change reaches EC2; the module retries exactly that refusal with backoff, within
    O(wait_timeout) (60 seconds with O(wait=false)), then fails saying the profile may not exist or has not propagated
    yet. Other errors are not retried.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  instance_id:
    description:
      - The ID of the instance.
    type: str
    required: true
  instance_profile:
    description:
      - Name or ARN of the instance profile the instance should have.
      - Required when O(state=present).
    type: str
  state:
    description:
      - V(present) associates the instance with O(instance_profile); V(absent) removes its association.
    type: str
    choices: ['present', 'absent']
    default: present
  only_from_profile:
    description:
      - Change the association only when the instance is associated with this instance profile (name or ARN) now.
        When it is not, the module changes nothing and returns RV(from_profile_matched=false).
      - Used to give back an instance's previous profile only while it still has the admin profile, so that a tag
        written by someone else cannot steer the change of another instance's profile.
    type: str
  wait:
    description:
      - Wait until the association reads back as V(associated) (or, with O(state=absent), until it is gone).
      - The credentials an instance gets from its metadata service follow the association within seconds; a
        playbook that must be sure checks the instance metadata on the instance itself.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait, in all, for EC2 to accept a new instance profile and for the association.
    type: int
    default: 120
notes:
  - Supports C(check_mode).
  - A run (or check mode run) that changes the association also reads the caller identity once
    (C(sts:GetCallerIdentity)) for O(allow_root) and O(allow_federated_user).
extends_documentation_fragment:
  - observability.cloudwatch.caller
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Give the instance the admin profile for the session
  observability.cloudwatch.instance_profile_association:
    instance_id: i-0123456789abcdef0
    instance_profile: CloudWatchAgentAdminProfile
  register: swap

- name: Put the previous profile back
  observability.cloudwatch.instance_profile_association:
    instance_id: i-0123456789abcdef0
    instance_profile: "{{ swap.previous_association.iam_instance_profile.arn }}"
  when: swap.previous_association
"""

RETURN = r"""
association:
  description: The association after the change (in check mode, as it would be). Empty when there is none.
  returned: always
  type: dict
  contains:
    association_id:
      description: The association ID. AWS gives a replaced association a new ID.
      type: str
      sample: iip-assoc-0123456789abcdef0
    instance_id:
      description: The instance ID.
      type: str
    iam_instance_profile:
      description: The instance profile, C(arn) and C(id) (the ARN only in check mode).
      type: dict
      sample: {"arn": "arn:aws:iam::123456789012:instance-profile/CloudWatchAgentAdminProfile", "id": "AIPAEXAMPLE"}
    state:
      description: The association state, V(associated) after a wait.
      type: str
      sample: associated
previous_association:
  description:
    - The association the instance had before, in the same form. Empty when it had none.
    - Also returned when the module fails after reading it.
  returned: always
  type: dict
from_profile_matched:
  description: Whether the instance had O(only_from_profile); when V(false), nothing was changed.
  returned: when O(only_from_profile) is set
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.aws_limits import instance_id_problem
from ansible_collections.observability.cloudwatch.plugins.module_utils.aws_limits import instance_profile_problem
from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import ensure_absent
from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import ensure_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import has_profile
from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import read_association
from ansible_collections.observability.cloudwatch.plugins.module_utils.ec2_association import to_ansible
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import CALLER_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import Caller
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff


def main():
    argument_spec = dict(
        instance_id=dict(type="str", required=True),
        instance_profile=dict(type="str"),
        only_from_profile=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
        **CALLER_OPTIONS,
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["instance_profile"])],
        supports_check_mode=True,
    )
    params = module.params
    problem = (
        instance_id_problem(params["instance_id"])
        or instance_profile_problem(params["instance_profile"])
        or instance_profile_problem(params["only_from_profile"], "only_from_profile")
    )
    if problem:
        module.fail_json(msg=problem)
    client = module.client("ec2", retry_decorator=jittered_backoff())
    instance_id = params["instance_id"]
    # Never the root user (nor a federated user) unless allowed; asked only when a change is due.
    guard = Caller(module.client("sts", retry_decorator=jittered_backoff()), params["allow_root"], params["allow_federated_user"]).guard
    options = dict(wait=params["wait"], wait_timeout=params["wait_timeout"], check_mode=module.check_mode, guard=guard)

    previous = None
    try:
        current = read_association(client, instance_id)
        previous = to_ansible(current)
        only_from = params["only_from_profile"]
        if only_from and not has_profile(current, only_from):
            module.exit_json(changed=False, association=previous, previous_association=previous, from_profile_matched=False)
        if params["state"] == "present":
            changed, association = ensure_present(client, instance_id, params["instance_profile"], current, **options)
        else:
            changed, association = ensure_absent(client, instance_id, current, **options)
    except AnsibleAWSError as e:
        if previous is None:
            module.fail_json_aws_error(e)
        # Once read, the previous association is in every result, so that a playbook can put it back.
        if e.exception:
            module.fail_json_aws(e.exception, msg=e.message, previous_association=previous)
        module.fail_json(msg=e.message, previous_association=previous)

    matched = {"from_profile_matched": True} if params["only_from_profile"] else {}
    module.exit_json(changed=changed, association=to_ansible(association), previous_association=previous, **matched)


if __name__ == "__main__":
    main()
