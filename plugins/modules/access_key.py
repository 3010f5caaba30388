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
  - V(rotate) and V(retire) together rotate a key without a moment where a consumer holds an inactive key.
    V(rotate) makes the new key, the consumers get it from the store, then V(retire) ends the old keys once
    nothing uses them. A rotation spans several runs; each picks up where the last one stopped.
  - A run that changes nothing only reads (the user's keys, and the store when it must check that the store
    holds the user's active key).
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
      - V(rotate) creates a new key and writes it to the store when one of the user's keys, active or not, is at
        least O(max_age_days) days old. The older keys stay active, so running agents keep working until
        V(retire) ends them, and RV(previous_access_key_ids) lists them. When the store already holds the user's
        newest key and older keys remain (a rotation that stopped before its end), no key is made; the run
        returns RV(rotation_in_progress=true), the stored key and the old ones, and the rotation goes on. When the
        user already has the two keys IAM allows and the store holds neither the newest, the oldest inactive one
        is deleted first; when both are active the module fails and changes nothing.
      - V(retire) ends the user's keys other than the one in O(access_key_store). An active one is deactivated
        only when C(GetAccessKeyLastUsed) shows no use since every consumer had the stored key
        (O(all_consumers_switched)), and O(last_used_margin_minutes) have passed since then; without a recorded
        switch, once the stored key has been used and the old one has not, for O(last_used_margin_minutes). An
        inactive one is deleted once it stayed inactive for O(retire_grace_days). What a run learns (when every
        consumer switched, since when a key is inactive) is kept on the user in the tag C(cloudwatch-key-rotation),
        which the other modules never purge. RV(waiting) says why each remaining old key stays.
      - V(absent) deletes every access key of the user, and the record in O(access_key_store) when it holds this
        user's key. The user stays.
    type: str
    choices: [present, rotate, retire, absent]
    default: present
  all_consumers_switched:
    description:
      - With O(state=retire), every consumer of the user's key (every host) runs with the key in the store now.
        The first run that says so records the moment on the user; old keys used after it stay active, with a
        warning.
    type: bool
    default: false
  last_used_margin_minutes:
    description:
      - With O(state=retire), how long after the switch (or, without one, how long unused) an old key stays
        active, because AWS updates a key's last use with a delay.
    type: int
    default: 240
  retire_grace_days:
    description:
      - With O(state=retire), how many days an old key stays inactive before it is deleted. Until then it can be
        turned back on if something turns out to need it.
    type: int
    default: 7
  max_age_days:
    description:
      - With O(state=rotate), rotate only when one of the user's active keys is at least this many days old.
        V(0) rotates on every run a user that has an active key; a user without one gets its key from
        O(state=present).
    type: int
    default: 0
  retire_access_keys:
    description:
      - Ids of access keys to deactivate and then delete, at once, without looking at their last use; for a key
        you know is unused. A rotation ends its old keys with O(state=retire). Ids the user no longer has are
        ignored.
      - The key held in O(access_key_store) is never retired (the module fails instead).
    type: list
    elements: str
    default: []
notes:
  - Check mode is fully supported and reports what would change; it never creates a key. With C(--diff), RV(diff)
    holds the user's access keys (ids and status, never a secret) before and after.
  - With O(wait=true), after creating a key the module calls C(sts:GetCallerIdentity) signed with the new key,
    backing off from 1 to 5 seconds, until AWS accepts it.
  - O(state=retire) needs C(iam:GetUser), C(iam:ListAccessKeys) and C(iam:GetAccessKeyLastUsed) on the user, and to
    act C(iam:UpdateAccessKey), C(iam:DeleteAccessKey), C(iam:TagUser) and C(iam:UntagUser).
extends_documentation_fragment:
  - observability.cloudwatch.iam
  - observability.cloudwatch.caller
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

- name: Once every host uses the new key, retire the old one when nothing uses it any more
  observability.cloudwatch.access_key:
    user_name: cloudwatch-agent-onprem
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    state: retire
    all_consumers_switched: true
  when: rotated.previous_access_key_ids | length > 0

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
  description:
    - When a key was created, or with RV(rotation_in_progress), the ids of the user's older keys, which stay as they
      were (O(state=retire) ends them).
  returned: always
  type: list
  elements: str
stored_access_key_id:
  description: The id of the key in O(access_key_store) after the run (V(null) in check mode when a key would be made).
  returned: with O(state=rotate) or O(state=retire)
  type: str
rotation_in_progress:
  description: Whether an earlier rotation was found unfinished (the store holds the newest key, older ones remain).
  returned: with O(state=rotate)
  type: bool
waiting:
  description: With O(state=retire), one line per old key that stays, saying why or until when.
  returned: with O(state=retire)
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
from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import ensure_old_keys_retired
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import KEY_STORE_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import IAMModule


def main():
    argument_spec = dict(
        user_name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "rotate", "retire", "absent"], default="present"),
        max_age_days=dict(type="int", default=0),
        retire_access_keys=dict(type="list", elements="str", default=[], no_log=False),
        all_consumers_switched=dict(type="bool", default=False),
        last_used_margin_minutes=dict(type="int", default=240),
        retire_grace_days=dict(type="int", default=7),
        **KEY_STORE_OPTIONS,
    )
    module = IAMModule(
        argument_spec=argument_spec,
        required_if=[("state", state, ["access_key_store"]) for state in ("present", "rotate", "retire")],
        supports_check_mode=True,
    )
    params = module.params
    for option in ("last_used_margin_minutes", "retire_grace_days"):
        if params[option] < 0:
            module.fail_json(msg=f"{option} must be 0 or more, got {params[option]}")
    client = module.aws_client("iam")
    caller = module.caller()
    try:
        store = module.key_store()
        if params["state"] == "absent":
            result = ensure_access_keys_absent(client, caller, params["user_name"], store, module.check_mode)
        elif params["state"] == "retire":
            retirement = dict(
                switched=params["all_consumers_switched"],
                margin_minutes=params["last_used_margin_minutes"],
                grace_days=params["retire_grace_days"],
            )
            result = ensure_old_keys_retired(client, caller, params["user_name"], store, retirement, module.check_mode)
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
