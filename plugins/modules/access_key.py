#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: access_key
short_description: Manage an IAM user's access keys together with the store that holds the secret
version_added: 0.1.0
description:
  - Creates, rotates and retires the access keys of an existing IAM user, such as a user made by
    M(observability.cloudwatch.agent_iam_user) or M(observability.cloudwatch.exporter_access), without
    restating the user's policies or tags.
  - A secret access key exists only once, when IAM creates it. The module writes every key it creates to
    O(access_key_store) before it returns, and checks that the store can be written before it changes anything.
    It never returns a secret; read the key from the store with the P(observability.cloudwatch.access_key#lookup)
    lookup.
  - Keys follow the same rules, through the same code, as the C(access_key_state) and C(retire_access_keys)
    options of M(observability.cloudwatch.agent_iam_user).
  - A run that changes nothing makes one C(ListAccessKeys) call, plus one read of the store when it must check
    that the store holds the user's active key (one C(GetParameter) for an V(ssm:) store). When the user has no
    key at all, one C(GetUser) tells whether the user exists.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  user_name:
    description:
      - The name of the IAM user. The user must exist; the module never creates or deletes users.
    type: str
    required: true
  state:
    description:
      - V(present) ensures the user has an active key whose secret is in O(access_key_store), creating one when
        the user has no active key. An active key whose secret is not in the store is never replaced silently;
        the module fails and says to use V(rotate).
      - V(rotate) creates a new key and writes it to the store when one of the user's active keys is at least
        O(max_age_days) days old. The older keys stay active, so running agents keep working until you retire
        them with O(retire_access_keys); RV(previous_access_key_ids) lists them. When the user already has the
        two keys IAM allows, the oldest inactive one is deleted first; when both are active the module fails and
        changes nothing.
      - V(absent) deletes every access key of the user, and the record in O(access_key_store) when it holds this
        user's key. The user stays.
    type: str
    choices: [present, rotate, absent]
    default: present
  max_age_days:
    description:
      - With O(state=rotate), rotate only when one of the user's active keys is at least this many days old.
        V(0) rotates on every run a user that has an active key; a user without one gets its key from
        O(state=present).
    type: int
    default: 0
  retire_access_keys:
    description:
      - Ids of access keys to deactivate and then delete. Ids the user no longer has are ignored.
      - The key held in O(access_key_store) is never retired (the module fails instead).
    type: list
    elements: str
    default: []
notes:
  - Check mode is fully supported and reports what would change; it never creates a key. With C(--diff), RV(diff)
    holds the user's access keys (ids and status, never a secret) before and after.
  - With O(wait=true), after creating a key the module calls C(sts:GetCallerIdentity) signed with the new key,
    backing off from 1 to 5 seconds, until AWS accepts it.
extends_documentation_fragment:
  - observability.cloudwatch.iam
  - observability.cloudwatch.iam.key_store
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Rotate the key of the on-premises user when it is 90 days old; the old key stays active
  observability.cloudwatch.access_key:
    user_name: cloudwatch-agent-onprem
    state: rotate
    max_age_days: 90
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
  register: rotated

- name: Once every host uses the new key, retire the old one
  observability.cloudwatch.access_key:
    user_name: cloudwatch-agent-onprem
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    retire_access_keys: "{{ rotated.previous_access_key_ids }}"
  when: rotated is changed

- name: Delete the user's keys and the stored record
  observability.cloudwatch.access_key:
    user_name: cloudwatch-agent-onprem
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    state: absent
"""

RETURN = r"""
access_keys:
  description: The user's access keys after the run, oldest first, without secrets.
  returned: always
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The key id (V(null) for the key check mode predicts).
      type: str
    status:
      description: V(Active) or V(Inactive).
      type: str
    create_date:
      description: When the key was created, ISO 8601.
      type: str
access_key_id:
  description: The id of the key this run created and stored (never its secret).
  returned: when a key was created
  type: str
  sample: AKIAIOSFODNN7EXAMPLE
previous_access_key_ids:
  description: When a key was created, the ids of the user's older keys, which stay as they were (retire them later).
  returned: always
  type: list
  elements: str
changes:
  description: One line per change made (or, in check mode, that would be made); never a secret.
  returned: always
  type: list
  elements: str
diff:
  description: RV(access_keys) before and after, with C(--diff); never a secret.
  returned: when run with C(--diff)
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import KeySpec
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import ensure_access_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import ensure_access_keys_absent
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import KEY_STORE_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import IAMModule


def main():
    argument_spec = dict(
        user_name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "rotate", "absent"], default="present"),
        max_age_days=dict(type="int", default=0),
        retire_access_keys=dict(type="list", elements="str", default=[], no_log=False),
        **KEY_STORE_OPTIONS,
    )
    module = IAMModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["access_key_store"]), ("state", "rotate", ["access_key_store"])],
        supports_check_mode=True,
    )
    params = module.params
    client = module.aws_client("iam")
    caller = module.caller()
    try:
        store = module.key_store()
        if params["state"] == "absent":
            result = ensure_access_keys_absent(client, caller, params["user_name"], store, module.check_mode)
        else:
            keys_spec = KeySpec(params["state"], params["retire_access_keys"], store, max_age_days=params["max_age_days"])
            result = ensure_access_keys(
                client, caller, params["user_name"], keys_spec, module.check_mode, params["wait"], params["wait_timeout"], module.key_client
            )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_result(result)


if __name__ == "__main__":
    main()
