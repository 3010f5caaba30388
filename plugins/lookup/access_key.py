# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: access_key
short_description: Read an access key from a key store of the collection
version_added: 0.1.0
description:
  - Reads the access key that M(observability.cloudwatch.agent_iam_user) (or C(exporter_access)) wrote to a store,
    on the controller.
  - Returns, for each store, a dictionary with C(access_key_id), C(secret_access_key), C(user_name) and C(created).
  - Fails when a store holds no key, or holds something that is not a key record.
  - Fails, naming the store and what to fix, when a V(file:) store is a symbolic link (the last component of the path;
    links in the directories above it are followed), is not a regular file, is owned by another user than the one
    running Ansible on the controller, or is readable or writable by group or others. The file is opened without
    following links and checked once open.
  - The result is a secret. Use it in tasks with C(no_log) set to C(true).
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  _terms:
    description:
      - The stores to read, V(ssm:NAME) (an SSM Parameter Store C(SecureString), read with decryption in the lookup's
        region) or V(file:PATH) (an absolute path on the controller).
    required: true
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Give an on-premises host the agent's credentials
  ansible.builtin.copy:
    dest: /root/.aws/credentials
    mode: "0600"
    content: |
      [AmazonCloudWatchAgent]
      aws_access_key_id = {{ agent_key.access_key_id }}
      aws_secret_access_key = {{ agent_key.secret_access_key }}
  vars:
    agent_key: "{{ lookup('observability.cloudwatch.access_key', 'ssm:/cloudwatch-agent/keys/onprem', region='eu-west-1') }}"
  no_log: true
  diff: false

- name: Read a key kept in a file on the controller
  ansible.builtin.set_fact:
    agent_key: "{{ lookup('observability.cloudwatch.access_key', 'file:/etc/ansible/secrets/cloudwatch-agent.json') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One dictionary per store.
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The access key id.
      type: str
    secret_access_key:
      description: The secret access key.
      type: str
    user_name:
      description: The IAM user the key belongs to.
      type: str
    created:
      description: When the key was created, ISO 8601.
      type: str
"""

from ansible.errors import AnsibleLookupError  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.observability.cloudwatch.plugins.module_utils.retries import jittered_backoff  # noqa: E402
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase  # noqa: E402

from ansible_collections.observability.cloudwatch.plugins.module_utils.key_stores import open_store  # noqa: E402


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super().run(terms, variables, **kwargs)
        records = []
        for term in terms:
            try:
                store = open_store(term, lambda: self.client("ssm", jittered_backoff()), option="access_key lookup", region=self.region)
                record = store.read()
            except AnsibleAWSError as e:
                raise AnsibleLookupError(str(e)) from None
            if record is None:
                raise AnsibleLookupError(f"{term} holds no access key")
            records.append(record)
        return records
