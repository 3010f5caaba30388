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
  wait:
    description:
      - Wait until the association reads back as V(associated) (or, with O(state=absent), until it is gone).
      - The credentials an instance gets from its metadata service follow the association within seconds; a
        playbook that must be sure checks the instance metadata on the instance itself.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait.
    type: int
    default: 120
notes:
  - Supports C(check_mode).
extends_documentation_fragment:
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
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2InstanceErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import associate_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_iam_instance_profile_associations
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import replace_iam_instance_profile_association
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

LIVE_STATES = ["associating", "associated", "disassociating"]


@EC2InstanceErrorHandler.common_error_handler("disassociate iam instance profile")
@jittered_backoff()
def disassociate_iam_instance_profile(client, association_id):
    client.disassociate_iam_instance_profile(AssociationId=association_id)
    return True


def read_association(client, instance_id):
    """The instance's association that is not on its way out, or None."""
    associations = describe_iam_instance_profile_associations(
        client, Filters=[{"Name": "instance-id", "Values": [instance_id]}, {"Name": "state", "Values": LIVE_STATES}]
    )
    current = [a for a in associations if a.get("State") in ("associating", "associated")]
    return current[0] if current else None


def profile_spec(profile):
    """The IamInstanceProfile argument for a name or an ARN."""
    return {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}


def has_profile(association, profile):
    if not association:
        return False
    arn = association.get("IamInstanceProfile", {}).get("Arn", "")
    if profile.startswith("arn:"):
        return arn == profile
    return arn.rsplit("/", 1)[-1] == profile


def to_ansible(association):
    return camel_dict_to_snake_dict(association) if association else {}


def wait_for(module, client, instance_id, done):
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        association = read_association(client, instance_id)
        if done(association):
            return association
        if time.monotonic() >= deadline:
            raise AnsibleEC2Error(message=f"Timeout waiting for the instance profile association of {instance_id}")
        time.sleep(2)


def ensure_present(module, client, instance_id, current):
    profile = module.params["instance_profile"]
    if has_profile(current, profile):
        if module.params["wait"] and current.get("State") != "associated" and not module.check_mode:
            current = wait_for(module, client, instance_id, lambda a: has_profile(a, profile) and a["State"] == "associated")
        return False, current
    if module.check_mode:
        predicted = {"InstanceId": instance_id, "State": "associated", "IamInstanceProfile": {"Arn": profile}}
        if current:
            predicted["AssociationId"] = current.get("AssociationId")
        return True, scrub_none_parameters(predicted)
    if current:
        association = replace_iam_instance_profile_association(client, profile_spec(profile), current["AssociationId"])
    else:
        association = associate_iam_instance_profile(client, profile_spec(profile), instance_id)
    if module.params["wait"]:
        association = wait_for(module, client, instance_id, lambda a: has_profile(a, profile) and a["State"] == "associated")
    return True, association


def ensure_absent(module, client, instance_id, current):
    if not current:
        return False, None
    if not module.check_mode:
        disassociate_iam_instance_profile(client, current["AssociationId"])
        if module.params["wait"]:
            wait_for(module, client, instance_id, lambda a: a is None)
    return True, None


def main():
    argument_spec = dict(
        instance_id=dict(type="str", required=True),
        instance_profile=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["instance_profile"])],
        supports_check_mode=True,
    )
    client = module.client("ec2", retry_decorator=jittered_backoff())
    instance_id = module.params["instance_id"]

    try:
        current = read_association(client, instance_id)
    except AnsibleEC2Error as e:
        module.fail_json_aws_error(e)

    previous = to_ansible(current)
    try:
        if module.params["state"] == "present":
            changed, association = ensure_present(module, client, instance_id, current)
        else:
            changed, association = ensure_absent(module, client, instance_id, current)
    except AnsibleEC2Error as e:
        if e.exception:
            module.fail_json_aws(e.exception, msg=e.message, previous_association=previous)
        module.fail_json(msg=e.message, previous_association=previous)

    module.exit_json(changed=changed, association=to_ansible(association), previous_association=previous)


if __name__ == "__main__":
    main()
