#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: caller_guard
short_description: Refuse the AWS account root user's and federated users' credentials before a play writes to AWS
version_added: 0.1.0
description:
  - Reads the caller identity once (C(sts:GetCallerIdentity), which needs no permission) and fails, with the same rule
    as every module of the collection that writes to AWS, when the credentials are the AWS account root user's, or
    those of a federated user (C(sts:GetFederationToken)), unless O(allow_root) or O(allow_federated_user) allow them.
  - Put it before the steps of a play that write to AWS through other modules (M(amazon.aws.ec2_tag), for example),
    which do not check the caller. The modules of this collection check it themselves.
  - It changes nothing, and runs in check mode too.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - observability.cloudwatch.caller
"""

EXAMPLES = r"""
- name: Refuse the root user's credentials before tagging
  observability.cloudwatch.caller_guard:
    allow_root: "{{ cloudwatch_admin_session_allow_root }}"

- name: Tag the instance
  amazon.aws.ec2_tag:
    resource: i-0123456789abcdef0
    tags:
      team: observability
"""

RETURN = r"""
caller:
  description: The caller identity.
  returned: success
  type: dict
  contains:
    arn:
      description: The ARN of the caller.
      type: str
      sample: arn:aws:sts::123456789012:assumed-role/Admin/ops
    account:
      description: The caller's account.
      type: str
      sample: "123456789012"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import CALLER_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.caller import Caller
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff


def main():
    module = AnsibleAWSModule(argument_spec=dict(CALLER_OPTIONS), supports_check_mode=True)
    params = module.params
    caller = Caller(module.client("sts", retry_decorator=jittered_backoff()), params["allow_root"], params["allow_federated_user"])
    try:
        caller.guard()
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, caller={"arn": caller.identity["Arn"], "account": caller.account_id})


if __name__ == "__main__":
    main()
