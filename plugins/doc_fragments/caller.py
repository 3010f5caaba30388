# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The caller check of every module of the collection that writes to AWS.
    DOCUMENTATION = r"""
options:
  allow_root:
    description:
      - Allow changes made with the AWS account root user's credentials.
      - When the module is about to change something (also in check mode, never on a run that changes nothing) it
        reads the caller identity once (C(sts:GetCallerIdentity)). With the root user's credentials it fails and
        asks you to create an administrator instead, unless O(allow_root=true).
    type: bool
    default: false
  allow_federated_user:
    description:
      - Allow changes made with the credentials of a federated user (a caller ARN
        C(arn:aws:sts::ACCOUNT:federated-user/NAME)).
      - Those credentials come from C(sts:GetFederationToken). The account root user may call it, and the ARN of
        the session does not say whether it did, so such credentials may be the root user's in disguise. The module
        refuses them, with the same check as O(allow_root), unless O(allow_federated_user=true).
      - Prefer an IAM role (C(sts:AssumeRole), IAM Identity Center) or an IAM user.
    type: bool
    default: false
"""
