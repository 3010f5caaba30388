#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: agent_iam_user
short_description: Manage the IAM user and access key of the CloudWatch agent on on-premises servers
version_added: 0.1.0
description:
  - Creates, updates and deletes the IAM users AWS documents for the Amazon CloudWatch agent on
    on-premises servers, and their access keys.
  - O(purpose=server) attaches C(CloudWatchAgentServerPolicy), or, with O(scoped_policy), puts a policy generated from
    the configurations the agents run, which grants only their namespaces, log groups and parameters;
    O(purpose=admin) attaches C(CloudWatchAgentAdminPolicy), which may also write the agent configuration to Parameter Store.
  - A user of that name that the collection did not create (without the tag C(managed-by=observability.cloudwatch))
    is refused unless O(adopt=true).
  - A secret access key exists only once, when IAM creates it. The module writes every key it creates to
    O(access_key_store) before it returns, and checks that the store can be written before it changes anything.
  - A run that changes nothing only reads (the user, its policies and its keys, and the store when
    O(access_key_state=present) must check that the store holds the user's active key).
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  name:
    description:
      - The name of the user, 1 to 64 letters, digits and C(+=,.@_-).
    type: str
    required: true
  purpose:
    description:
      - What the user is for. V(server) for servers that run the agent, V(admin) for servers that also
        write the agent configuration to Parameter Store.
    type: str
    required: true
    choices: [server, admin]
  ssm_managed:
    description:
      - Refused when V(true). C(AmazonSSMManagedInstanceCore) grants C(ssm:GetParameter) on every parameter of the
        account, so every holder of this user's key could read the account's other secrets, the stored keys of the
        collection included. Servers that AWS Systems Manager manages on premises use a hybrid activation and its
        service role, not a user's key.
    type: bool
    default: false
  managed_policies:
    description:
      - Further managed policies to attach, by ARN or by name (V(NAME) or V(PATH/NAME); looked up first among
        the AWS managed policies, then among the customer managed policies of the caller's account).
      - The module fails, before changing anything, when a policy it must attach does not exist.
    type: list
    elements: str
    default: []
  path:
    description:
      - The IAM path of the user, V(/) or V(/segment/.../), at most 512 characters. Defaults to V(/) on creation.
    type: str
  permissions_boundary:
    description:
      - The ARN of a managed policy to use as the user's permissions boundary. V("") removes the boundary.
      - When not set, the boundary is left alone.
    type: str
  access_key_state:
    description:
      - V(none) leaves the user's access keys alone (apart from O(retire_access_keys)).
      - V(present) ensures the user has an active key whose secret is in O(access_key_store), creating one when
        the user has no active key. An active key whose secret is not in the store is never replaced silently;
        the module fails and says to use V(rotate).
      - V(rotate) creates a new key on every run and writes it to the store. The older key stays active, so running
        agents keep working until you retire it with O(retire_access_keys); RV(previous_access_key_ids) lists it.
        When the user already has the two keys IAM allows, the oldest inactive one is deleted first; when both are
        active the module fails and changes nothing.
      - A new key can take a few seconds before AWS accepts it; with O(wait=true) the module waits for that.
      - With O(purpose=admin) only V(none) is allowed. An admin user has a key only while a publish runs, made and
        deleted by the role C(observability.cloudwatch.config).
    type: str
    choices: [none, present, rotate]
    default: none
  retire_access_keys:
    description:
      - Ids of access keys to deactivate and then delete. Ids the user no longer has are ignored.
      - The key held in O(access_key_store) is never retired (the module fails instead), so O(access_key_store)
        is required with this option.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) creates or updates the user.
      - V(absent) deletes a user the collection created (tagged C(managed-by=observability.cloudwatch)), with its access
        keys, its managed policy attachments, the user, and the record in O(access_key_store) when it holds this
        user's key. A user without that tag is not deleted; the module fails and changes nothing.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Check mode is fully supported and reports what would change; it never creates a key. With C(--diff), RV(diff)
    holds the user and its access keys (ids and status, never a secret) before and after.
  - The module never returns a secret, in any state or in check mode. A new key's secret goes to O(access_key_store)
    and nowhere else; read it from there with the P(observability.cloudwatch.access_key#lookup) lookup.
  - With O(wait=true), after creating a key the module calls C(sts:GetCallerIdentity) signed with the new key,
    backing off from 1 to 5 seconds, until AWS accepts it; after creating a user without a key it polls C(GetUser).
extends_documentation_fragment:
  - observability.cloudwatch.iam
  - observability.cloudwatch.iam.adopt
  - observability.cloudwatch.caller
  - observability.cloudwatch.iam.key_store
  - observability.cloudwatch.iam.agent_policies
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: User for on-premises servers, its key stored as an SSM SecureString
  observability.cloudwatch.agent_iam_user:
    name: cloudwatch-agent-onprem
    purpose: server
    access_key_state: present
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    kms_key_id: alias/cloudwatch-agent-keys
  register: agent_user

- name: Rotate the key; the old one stays active until the agents use the new one
  observability.cloudwatch.agent_iam_user:
    name: cloudwatch-agent-onprem
    purpose: server
    access_key_state: rotate
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
  register: rotated

- name: Later, retire the previous key
  observability.cloudwatch.agent_iam_user:
    name: cloudwatch-agent-onprem
    purpose: server
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    retire_access_keys: "{{ rotated.previous_access_key_ids }}"

- name: Admin user, with no access key (each publish makes its own)
  observability.cloudwatch.agent_iam_user:
    name: cloudwatch-agent-admin
    purpose: admin

- name: Delete the user, its keys and its stored key
  observability.cloudwatch.agent_iam_user:
    name: cloudwatch-agent-onprem
    purpose: server
    access_key_store: ssm:/cloudwatch-agent/keys/onprem
    state: absent
"""

RETURN = r"""
user:
  description: The user after the run (predicted in check mode); V(null) when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: The user's ARN.
      type: str
      sample: arn:aws:iam::123456789012:user/cloudwatch-agent-onprem
    name:
      description: The user's name.
      type: str
    path:
      description: The user's path.
      type: str
    user_id:
      description: The user's unique id.
      type: str
    create_date:
      description: When the user was created, ISO 8601.
      type: str
    permissions_boundary:
      description: The ARN of the permissions boundary, or V(null).
      type: str
    attached_policies:
      description: The ARNs of the attached managed policies.
      type: list
      elements: str
      sample: [arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy]
    tags:
      description: The user's tags.
      type: dict
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
  description:
    - The id of the key this run created and stored (never its secret). Not returned in check mode.
    - The secret is in O(access_key_store) only; read it with the P(observability.cloudwatch.access_key#lookup) lookup.
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
  description: RV(user) and RV(access_keys) before and after, with C(--diff); never a secret.
  returned: when run with C(--diff)
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402

from ansible_collections.observability.cloudwatch.plugins.module_utils.access_keys import KeySpec  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_inline_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import check_broad_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import retired_agent_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_policy_warnings  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import ADOPT_OPTIONS  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import AGENT_POLICY_OPTIONS  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import KEY_STORE_OPTIONS  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import IAMModule  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import UserSpec  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_user import ensure_user_absent  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_user import ensure_user_present  # noqa: E402


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        purpose=dict(type="str", required=True, choices=["server", "admin"]),
        ssm_managed=dict(type="bool", default=False),
        path=dict(type="str"),
        permissions_boundary=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        access_key_state=dict(type="str", choices=["none", "present", "rotate"], default="none"),
        retire_access_keys=dict(type="list", elements="str", default=[], no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **ADOPT_OPTIONS,
        **AGENT_POLICY_OPTIONS,
        **KEY_STORE_OPTIONS,
    )
    module = IAMModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    for warning in agent_policy_warnings(params["managed_policies"], params["scoped_policy"] is not None, params["purge_policies"]):
        module.warn(warning)

    if params["purpose"] == "admin" and params["access_key_state"] != "none" and params["state"] == "present":
        module.fail_json(
            msg=f"access_key_state={params['access_key_state']} is not allowed with purpose=admin: an admin user has no "
            "access key between publishes. The role observability.cloudwatch.config creates one for each publish and "
            "deletes it afterwards (see module observability.cloudwatch.admin_grant). Nothing was changed."
        )
    if params["ssm_managed"]:
        module.fail_json(
            msg="ssm_managed=true is refused for users: AmazonSSMManagedInstanceCore grants ssm:GetParameter on every "
            "parameter of the account, so every holder of this user's key could read its other secrets. On-premises "
            "servers managed by Systems Manager use a hybrid activation's service role instead. Nothing was changed."
        )
    client = module.aws_client("iam")
    caller = module.caller()
    try:
        store = module.key_store()
        check_broad_policies(params["managed_policies"], params["allow_broad_policies"])
        spec = UserSpec(
            name=params["name"],
            path=params["path"],
            permissions_boundary=params["permissions_boundary"],
            required_policies=agent_policies(params["purpose"], False, params["scoped_policy"] is not None),
            inline_policies=agent_inline_policies(params["purpose"], params["scoped_policy"]),
            retired_inline_policies=retired_agent_policies(params["scoped_policy"], params["purge_policies"]),
            managed_policies=params["managed_policies"],
            purge_policies=params["purge_policies"],
            tags=params["tags"],
            purge_tags=params["purge_tags"],
            adopt=params["adopt"],
        )
        if params["state"] == "present":
            keys_spec = KeySpec(params["access_key_state"], params["retire_access_keys"], store)
            result = ensure_user_present(
                client, caller, spec, keys_spec, module.check_mode, params["wait"], params["wait_timeout"], module.key_client
            )
        else:
            result = ensure_user_absent(client, caller, spec, store, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_result(result)


if __name__ == "__main__":
    main()
