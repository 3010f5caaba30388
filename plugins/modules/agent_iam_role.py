#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: agent_iam_role
short_description: Manage the IAM role and instance profile of the CloudWatch agent on EC2
version_added: 0.1.0
description:
  - Creates, updates and deletes the IAM roles AWS documents for the Amazon CloudWatch agent on EC2
    instances, each with an instance profile of the same name.
  - O(purpose=server) is a role trusted by C(ec2.amazonaws.com) with C(CloudWatchAgentServerPolicy),
    named C(CloudWatchAgentServerRole) by default; O(purpose=admin) has C(CloudWatchAgentAdminPolicy)
    instead (it may also write the agent configuration to Parameter Store), named C(CloudWatchAgentAdminRole).
  - With O(scoped_policy), a server role gets instead of C(CloudWatchAgentServerPolicy) a policy generated from the
    configurations its agents run, which grants only their namespaces, log groups and parameters.
  - A role or instance profile of that name that the collection did not create (without the tag
    C(managed-by=observability.cloudwatch)) is refused unless O(adopt=true); even then the role's trust policy
    is kept unless O(replace_trust_policy=true).
  - The module reads the current state once, computes the difference, applies it and reports it. A run
    that changes nothing only reads.
  - Checks that only matter before a write (the caller identity for O(allow_root), that the named
    policies and the permissions boundary exist) are made only when a write is due, and before the first one.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  purpose:
    description:
      - What the role is for. V(server) for hosts that run the agent, V(admin) for hosts that also
        write the agent configuration to Parameter Store.
    type: str
    required: true
    choices: [server, admin]
  name:
    description:
      - The name of the role and of its instance profile, 1 to 64 letters, digits and C(+=,.@_-).
      - Defaults to V(CloudWatchAgentServerRole) or V(CloudWatchAgentAdminRole) after O(purpose).
    type: str
  ssm_managed:
    description:
      - Attach C(AmazonSSMManagedInstanceCore), needed only when AWS Systems Manager installs or configures
        the agent. It is the successor of the deprecated C(service-role/AmazonEC2RoleforSSM), which the module
        warns about when O(managed_policies) names it.
      - C(AmazonSSMManagedInstanceCore) lets the instance read every parameter of the account's Parameter Store
        that is not encrypted with a customer managed KMS key it cannot use.
    type: bool
    default: false
  managed_policies:
    description:
      - Further managed policies to attach, by ARN or by name.
      - A name (V(NAME) or V(PATH/NAME), e.g. V(service-role/AmazonEC2RoleforSSM)) is looked up first among the
        AWS managed policies, then among the customer managed policies of the caller's account.
      - The module fails, before changing anything, when a policy it must attach does not exist.
    type: list
    elements: str
    default: []
  instance_profile:
    description:
      - Manage an instance profile of the same name (and path) holding the role.
      - The module fails, before changing anything, when a profile of that name holds another role.
      - With V(false) an existing profile is left alone; O(state=absent) deletes it whenever the collection created it.
    type: bool
    default: true
  path:
    description:
      - The IAM path of the role and its profile, V(/) or V(/segment/.../), at most 512 characters.
      - Defaults to V(/) on creation. IAM cannot move an existing role, so a different path fails.
    type: str
  description:
    description:
      - The role's description, at most 1000 characters.
      - Defaults on creation to a sentence naming the purpose; an existing role's description is only
        changed when this is set.
    type: str
  permissions_boundary:
    description:
      - The ARN of a managed policy to use as the role's permissions boundary. V("") removes the boundary.
      - When not set, the boundary is left alone.
    type: str
  max_session_duration:
    description:
      - The maximum session duration in seconds, from 3600 to 43200.
      - When not set, IAM's default (3600) applies on creation and an existing role keeps its value.
    type: int
  replace_trust_policy:
    description:
      - With O(adopt=true), also replace the trust policy of a role without the tag C(managed-by=observability.cloudwatch)
        with the module's (C(ec2.amazonaws.com) may assume it). Whoever the role trusted before loses it.
      - A role the collection created always gets the module's trust policy.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the role and its profile.
      - V(absent) removes exactly what the collection owns (resources tagged C(managed-by=observability.cloudwatch));
        it detaches the managed policies, removes the role from its instance profiles, deletes the profile of
        the same name if the collection created it, then deletes the role. A role without that tag is not deleted;
        the module fails and changes nothing.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Check mode is fully supported and reports what would change. With C(--diff), RV(diff) holds the role and the
    instance profile before and after.
  - With O(wait=true), after creating the role or adding it to the profile, the module polls C(GetInstanceProfile)
    (C(GetRole) without a profile), backing off from 1 to 5 seconds, until IAM returns the profile holding the role.
    That proves IAM reads back both. EC2 may still reject a brand-new instance profile for a few more seconds,
    so a task launching instances with it right away should retry.
extends_documentation_fragment:
  - observability.cloudwatch.iam
  - observability.cloudwatch.iam.adopt
  - observability.cloudwatch.caller
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - observability.cloudwatch.iam.agent_policies
"""

EXAMPLES = r"""
- name: Role and instance profile for EC2 hosts running the CloudWatch agent
  observability.cloudwatch.agent_iam_role:
    purpose: server

- name: Admin role for a host that writes the agent configuration, installed by Systems Manager
  observability.cloudwatch.agent_iam_role:
    purpose: admin
    ssm_managed: true
    tags:
      team: observability

- name: Server role with an extra customer managed policy, on a path, with a permissions boundary
  observability.cloudwatch.agent_iam_role:
    purpose: server
    name: AppCloudWatchAgent
    path: /agents/
    managed_policies:
      - AppLogsReadOnly
    permissions_boundary: arn:aws:iam::123456789012:policy/AgentBoundary
    max_session_duration: 7200

- name: Remove the role and the instance profile the collection created
  observability.cloudwatch.agent_iam_role:
    purpose: server
    state: absent
"""

RETURN = r"""
role:
  description: The role after the run (predicted in check mode); V(null) when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: The role's ARN.
      type: str
      sample: arn:aws:iam::123456789012:role/CloudWatchAgentServerRole
    name:
      description: The role's name.
      type: str
      sample: CloudWatchAgentServerRole
    path:
      description: The role's path.
      type: str
      sample: /
    role_id:
      description: The role's unique id (V(null) in check mode before creation).
      type: str
    create_date:
      description: When the role was created, ISO 8601.
      type: str
    description:
      description: The role's description.
      type: str
    max_session_duration:
      description: The maximum session duration in seconds.
      type: int
      sample: 3600
    permissions_boundary:
      description: The ARN of the permissions boundary, or V(null).
      type: str
    assume_role_policy_document:
      description: The trust policy.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
               "Action": "sts:AssumeRole"}]}
    attached_policies:
      description: The ARNs of the attached managed policies.
      type: list
      elements: str
      sample: [arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy]
    tags:
      description: The role's tags.
      type: dict
      sample: {"managed-by": "observability.cloudwatch"}
instance_profile:
  description: The instance profile of the same name; V(null) when there is none.
  returned: always
  type: dict
  contains:
    arn:
      description: The instance profile's ARN, the value EC2 launch settings ask for.
      type: str
      sample: arn:aws:iam::123456789012:instance-profile/CloudWatchAgentServerRole
    name:
      description: The instance profile's name.
      type: str
    path:
      description: The instance profile's path.
      type: str
    instance_profile_id:
      description: The instance profile's unique id.
      type: str
    create_date:
      description: When the profile was created, ISO 8601.
      type: str
    roles:
      description: The names of the roles in the profile.
      type: list
      elements: str
    tags:
      description: The profile's tags.
      type: dict
changes:
  description: One line per change made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: str
  sample: [create role CloudWatchAgentServerRole, attach arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy to role CloudWatchAgentServerRole]
diff:
  description: RV(role) and RV(instance_profile) before and after, with C(--diff).
  returned: when run with C(--diff)
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import EC2_TRUST_POLICY  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_inline_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import check_broad_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import retired_agent_policies  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_identity import agent_policy_warnings  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import ADOPT_OPTIONS  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import AGENT_POLICY_OPTIONS  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import IAMModule  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import RoleSpec  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_role import ensure_role_absent  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_role import ensure_role_present  # noqa: E402

DEFAULT_NAMES = {"server": "CloudWatchAgentServerRole", "admin": "CloudWatchAgentAdminRole"}


def main():
    argument_spec = dict(
        purpose=dict(type="str", required=True, choices=["server", "admin"]),
        name=dict(type="str"),
        ssm_managed=dict(type="bool", default=False),
        instance_profile=dict(type="bool", default=True),
        path=dict(type="str"),
        description=dict(type="str"),
        permissions_boundary=dict(type="str"),
        max_session_duration=dict(type="int"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        replace_trust_policy=dict(type="bool", default=False),
        **ADOPT_OPTIONS,
        **AGENT_POLICY_OPTIONS,
    )
    module = IAMModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    purpose = params["purpose"]
    name = params["name"] or DEFAULT_NAMES[purpose]
    for warning in agent_policy_warnings(params["managed_policies"], params["scoped_policy"] is not None, params["purge_policies"]):
        module.warn(warning)

    client = module.aws_client("iam")
    caller = module.caller()
    try:
        check_broad_policies(params["managed_policies"], params["allow_broad_policies"])
        scoped = params["scoped_policy"] is not None
        spec = RoleSpec(
            name=name,
            trust_policy=EC2_TRUST_POLICY,
            description=params["description"],
            default_description=f"Lets EC2 instances run the Amazon CloudWatch agent ({purpose})",
            max_session_duration=params["max_session_duration"],
            instance_profile=name if params["instance_profile"] or params["state"] == "absent" else None,
            path=params["path"],
            permissions_boundary=params["permissions_boundary"],
            required_policies=agent_policies(purpose, params["ssm_managed"], scoped),
            inline_policies=agent_inline_policies(purpose, params["scoped_policy"]),
            retired_inline_policies=retired_agent_policies(params["scoped_policy"], params["purge_policies"]),
            managed_policies=params["managed_policies"],
            purge_policies=params["purge_policies"],
            tags=params["tags"],
            purge_tags=params["purge_tags"],
            adopt=params["adopt"],
            replace_trust_policy=params["replace_trust_policy"],
        )
        if params["state"] == "present":
            result = ensure_role_present(
                client, caller, spec, module.check_mode, params["wait"], params["wait_timeout"]
            )
        else:
            result = ensure_role_absent(client, caller, spec, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    if spec.instance_profile is None:
        # Documented as always returned: null when the role has no instance profile.
        result["instance_profile"] = None
        for side in ("before", "after"):
            result["diff"][side]["instance_profile"] = None
    module.exit_result(result)


if __name__ == "__main__":
    main()
