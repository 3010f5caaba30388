#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: status_sources
short_description: Read what the status report needs from AWS, once for the whole fleet
version_added: 0.1.0
description:
  - Run on the controller by the playbook C(observability.cloudwatch.status), once, with what every host of the
    fleet reported.
  - For each parameter, finds the version whose value has each SHA-256 digest the hosts recorded (the role records
    the digest of each parameter's value as the agent got it, also where the host's own agent downloaded it), by
    hashing every version of the parameter's history (C(ssm:GetParameterHistory)). Parameter Store keeps the last
    100 versions; a digest that matches none of them has no version. Values are never returned.
  - For each access key id, its user, status, creation date and age, and when it was last used, from IAM
    (C(iam:GetAccessKeyLastUsed) once per key, C(iam:ListAccessKeys) once per user), however many hosts share it.
  - It changes nothing, and runs in check mode too.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  parameters:
    description:
      - The digests to find, by parameter name.
    type: dict
    default: {}
  access_key_ids:
    description:
      - The access key ids to describe.
    type: list
    elements: str
    default: []
notes:
  - Needs C(ssm:GetParameterHistory) on the parameters (in the region the hosts read them in) and
    C(iam:GetAccessKeyLastUsed) and C(iam:ListAccessKeys).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the versions two hosts run and the age of their key
  observability.cloudwatch.status_sources:
    region: us-east-1
    parameters:
      AmazonCloudWatch-linux:
        - 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    access_key_ids:
      - AKIAIOSFODNN7EXAMPLE
"""

RETURN = r"""
parameters:
  description: By parameter name, what its history says.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the parameter exists.
      type: bool
    latest:
      description: Its newest version, or V(null).
      type: int
      sample: 3
    versions:
      description: By digest, the newest version whose value has it, or V(null) when none has.
      type: dict
      sample: {"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": 2}
access_keys:
  description: By access key id, the key as IAM describes it.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether IAM knows the key in this account.
      type: bool
    user_name:
      description: The key's user.
      type: str
    status:
      description: V(Active) or V(Inactive).
      type: str
    create_date:
      description: When IAM created the key (ISO 8601).
      type: str
      sample: "2024-01-01T00:00:00+00:00"
    age_days:
      description: Days since then, to a tenth.
      type: float
      sample: 12.5
    last_used_date:
      description: When the key was last used (ISO 8601; IAM updates it with a delay), or V(null).
      type: str
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.observability.cloudwatch.plugins.module_utils import status_sources
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            parameters=dict(type="dict", default={}),
            access_key_ids=dict(type="list", elements="str", default=[], no_log=False),
        ),
        supports_check_mode=True,
    )
    parameters = module.params["parameters"]
    bad = sorted(name for name, digests in parameters.items() if not isinstance(digests, list))
    if bad:
        module.fail_json(msg="parameters maps each parameter name to a list of SHA-256 digests; not a list for: %s" % ", ".join(bad))
    result = {"changed": False, "parameters": {}, "access_keys": {}}
    try:
        if parameters:
            ssm = module.client("ssm", retry_decorator=jittered_backoff())
            for name, digests in sorted(parameters.items()):
                result["parameters"][name] = status_sources.parameter_versions(ssm, name, [str(d) for d in digests])
        if module.params["access_key_ids"]:
            iam = module.client("iam", retry_decorator=jittered_backoff())
            now = datetime.datetime.now(datetime.timezone.utc)
            result["access_keys"] = status_sources.access_keys(iam, module.params["access_key_ids"], now)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
