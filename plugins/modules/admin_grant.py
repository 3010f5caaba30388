#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: admin_grant
short_description: Give the CloudWatch agent's admin role or user its rights for a bounded time only
version_added: 0.1.0
description:
  - AWS advises to hold C(CloudWatchAgentAdminPolicy) only while the agent configuration is saved. This module makes
    the admin role (for an EC2 instance) or the admin user (for on-premises publishing) hold it for a bounded time,
    whatever happens to the run that asked for it.
  - Outside a grant, the principal carries an inline policy, C(CloudWatchAgentAdminGrantExpiry), that denies every
    action once C(aws:CurrentTime) is past the end of the last grant. O(state=present) moves that end to now, plus
    O(duration_minutes), and writes the tag C(cloudwatch-admin-grant), valued V(HOLDER until END), naming the run that holds
    the grant. If the run dies, the rights end at that time anyway.
  - O(state=absent) with O(holder) releases that run's grant. It moves the end to now. For a role it also revokes the
    sessions issued until now (the inline policy C(CloudWatchAgentAdminRevokeOlderSessions), a deny on
    C(aws:TokenIssueTime), as IAM's "revoke active sessions" does), so credentials an instance received during the
    grant do not come back with the next one. For a user it deletes every access key, since an admin user has keys only
    during a publish. Then it removes the tag.
  - O(state=present) over an expired grant of another run first does that cleanup.
  - O(state=absent) without O(holder) recovers a grant whose run ended without releasing it, once the grant has
    expired. It does the same cleanup, and it also sets up the deny on a new admin principal. A grant another run
    still holds is left alone and reported in RV(held_by).
  - IAM has no conditional write. So a grant writes its tag, waits 3 seconds and reads the tag back. Of two runs that
    asked at the same moment, the one whose tag is still there holds the grant. The other waits up to O(wait_timeout)
    seconds, polling every 10 seconds, then fails and names the holder and when its grant ends.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  role_name:
    description:
      - The admin role, for example C(CloudWatchAgentAdminRole). Exactly one of O(role_name) and O(user_name).
    type: str
  user_name:
    description:
      - The admin user, for example C(cloudwatch-agent-admin). Exactly one of O(role_name) and O(user_name).
    type: str
  state:
    description:
      - V(present) takes the grant for O(holder); V(absent) releases it, or, without O(holder), recovers an expired one.
    type: str
    choices: [present, absent]
    default: present
  holder:
    description:
      - Who holds the grant, unique per run, for example C(ops@controller-1 1733000000-4711). It is written into
        the tag, so that a run that has to wait can name the holder. It can be up to 128 letters, digits, spaces and
        C(_.:/=+-@).
      - Required with O(state=present).
    type: str
  duration_minutes:
    description:
      - With O(state=present), how long the rights last at most, from now. Between 1 and 720.
    type: int
    default: 15
  wait_timeout:
    description:
      - With O(state=present), how many seconds to wait while another run holds a grant that has not expired.
        V(0) fails at once.
    type: int
    default: 0
notes:
  - Permissions the caller needs. C(iam:GetRole), C(iam:GetRolePolicy), C(iam:PutRolePolicy), C(iam:TagRole) and
    C(iam:UntagRole) on the role. Or C(iam:GetUser), C(iam:GetUserPolicy), C(iam:PutUserPolicy), C(iam:TagUser),
    C(iam:UntagUser), C(iam:ListAccessKeys) and C(iam:DeleteAccessKey) on the user.
  - The deny applies to every action of the principal, so do not use the admin role or user for anything else.
  - M(observability.cloudwatch.agent_iam_role) and M(observability.cloudwatch.agent_iam_user) keep the tag and the
    two inline policies whatever their O(observability.cloudwatch.agent_iam_role#module:tags) and
    O(observability.cloudwatch.agent_iam_role#module:purge_tags) say.
  - Check mode reports what would change. It does not wait.
  - A run (or check mode run) that changes something also reads the caller identity once (C(sts:GetCallerIdentity))
    for O(allow_root) and O(allow_federated_user).
extends_documentation_fragment:
  - observability.cloudwatch.caller
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Give the admin user its rights for 15 minutes, waiting up to 5 minutes for another publish
  observability.cloudwatch.admin_grant:
    user_name: cloudwatch-agent-admin
    holder: "ops@controller-1 {{ now(utc=true, fmt='%s') }}"
    duration_minutes: 15
    wait_timeout: 300
  register: grant

- name: End it, and delete the admin user's access keys
  observability.cloudwatch.admin_grant:
    user_name: cloudwatch-agent-admin
    holder: "{{ grant.grant.holder }}"
    state: absent

- name: Clean up after a run that died during its grant (nothing is done while another run holds a live grant)
  observability.cloudwatch.admin_grant:
    role_name: CloudWatchAgentAdminRole
    state: absent
"""

RETURN = r"""
grant:
  description: The grant taken (or, in check mode, that would be taken).
  returned: when O(state=present)
  type: dict
  contains:
    holder:
      description: O(holder).
      type: str
    expires:
      description: When the rights end, ISO 8601 UTC.
      type: str
      sample: "2026-11-30T10:45:00Z"
    arn:
      description: The ARN of the role or user.
      type: str
waited_for:
  description: The grant of another run this one waited for before it got its own (the last one seen), or V(null).
  returned: when O(state=present)
  type: dict
  contains:
    holder:
      description: The holder written in the tag.
      type: str
    expires:
      description: When that grant was due to end, ISO 8601 UTC.
      type: str
held_by:
  description: The live grant of another run, which O(state=absent) left alone.
  returned: when another run holds a grant that has not expired
  type: dict
  contains:
    holder:
      description: The holder written in the tag.
      type: str
    expires:
      description: When that grant ends, ISO 8601 UTC.
      type: str
changes:
  description: One line per change made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import acquire_grant
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import release_grant
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import validate_duration
from ansible_collections.observability.cloudwatch.plugins.module_utils.admin_grant import validate_holder
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import CALLER_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import Caller
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_validate import validate_name
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff


def main():
    argument_spec = dict(
        role_name=dict(type="str"),
        user_name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        holder=dict(type="str"),
        duration_minutes=dict(type="int", default=15),
        wait_timeout=dict(type="int", default=0),
        **CALLER_OPTIONS,
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_one_of=[("role_name", "user_name")],
        mutually_exclusive=[("role_name", "user_name")],
        required_if=[("state", "present", ["holder"])],
        supports_check_mode=True,
    )
    params = module.params
    kind, name = ("role", params["role_name"]) if params["role_name"] else ("user", params["user_name"])
    client = module.client("iam", retry_decorator=jittered_backoff())
    try:
        validate_name(kind, name, option=f"{kind}_name")
        validate_holder(params["holder"])
        validate_duration(params["duration_minutes"])
        if params["wait_timeout"] < 0:
            module.fail_json(msg=f"wait_timeout must be 0 or more seconds; got {params['wait_timeout']}")
        # Never the root user (nor a federated user) unless allowed; asked only when a write is due.
        guard = Caller(module.client("sts", retry_decorator=jittered_backoff()), params["allow_root"], params["allow_federated_user"]).guard
        if params["state"] == "present":
            result = acquire_grant(client, kind, name, params["holder"], params["duration_minutes"], params["wait_timeout"], module.check_mode, guard=guard)
        else:
            result = release_grant(client, kind, name, params["holder"], module.check_mode, guard=guard)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
