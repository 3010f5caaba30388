#!/usr/bin/python

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: exporter_access
short_description: Give an external telemetry exporter write access to CloudWatch
version_added: 0.1.0
description:
  - Sets up what a managed service needs to ship logs, traces and metrics into your CloudWatch, in one idempotent
    task, with less privilege than the policies usually copied from documentation.
  - O(auth_method=iam_role) creates an IAM role the exporter assumes, through an IAM OIDC provider (IAM roles for
    service accounts, IRSA), through roles of its own account (O(trusted_role_arns)), or both. Give the exporter
    RV(role.arn).
  - O(auth_method=iam_user) creates an IAM user restricted to CloudWatch, and an access key written to
    O(access_key_store), exactly as M(observability.cloudwatch.agent_iam_user) does it. Give the exporter the key id
    and secret from the store.
  - "The permission policy is an inline policy named C(cloudwatch-exporter). With O(data_types=[logs, traces]) (the
    default) it grants C(logs:DescribeLogGroups) on the log groups of the account and region
    (C(arn:PARTITION:logs:REGION:ACCOUNT:log-group:*)); C(logs:CreateLogGroup), C(logs:DescribeLogStreams),
    C(logs:PutRetentionPolicy) on the groups of O(log_group_names) and C(logs:CreateLogStream), C(logs:PutLogEvents) on
    their streams; C(logs:DescribeLogStreams), C(logs:CreateLogStream), C(logs:PutLogEvents) on the groups whose name
    starts with O(log_group_prefix) and their streams; and C(xray:PutTraceSegments), C(xray:PutTelemetryRecords),
    C(xray:GetSamplingRules), C(xray:GetSamplingTargets), C(xray:GetSamplingStatisticSummaries) on C(*)."
  - "No log action is ever granted on C(*). V(logs) needs O(log_group_names) or O(log_group_prefix), or the explicit
    O(allow_all_log_groups=true), which grants C(logs:DescribeLogStreams), C(logs:CreateLogStream) and
    C(logs:PutLogEvents) on every log group of the account and region, never C(logs:CreateLogGroup) or
    C(logs:PutRetentionPolicy)."
  - "V(metrics) adds C(cloudwatch:PutMetricData) (on C(*), the only resource it has), limited to O(metric_namespaces)
    when given. O(parameter_access=true) adds C(ssm:GetParameters) on the C(AmazonCloudWatch-*) parameters of the
    account and region."
  - "The trust policy of the role has at most two statements: the OIDC provider as C(Federated) principal with
    C(sts:AssumeRoleWithWebIdentity), on condition (C(StringEquals)) that the token's C(ISSUER:aud) is O(audience)
    and that its C(ISSUER:sub) is O(service_account) or O(subject) (C(StringLike) for a subject with a wildcard;
    C(ISSUER) is the provider URL without C(https://), path included); and O(trusted_role_arns) as C(AWS) principals
    with C(sts:AssumeRole), on condition of C(sts:ExternalId) when O(external_id) is given and of
    C(aws:PrincipalOrgID) when O(principal_org_id) is."
  - Every input is checked before the first change, so a run that fails on bad input has changed nothing.
  - A role or user of that name that the collection did not create (without the tag C(managed-by=observability.cloudwatch))
    is refused unless O(adopt=true); even then a role's trust policy is kept unless O(replace_trust_policy=true). Policies
    the collection did not put there are reported (RV(foreign_policies)) and removed with O(purge_policies=true).
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  name:
    description: The name of the role (O(auth_method=iam_role)) or user (O(auth_method=iam_user)).
    type: str
    required: true
  auth_method:
    description:
      - How the exporter authenticates. V(iam_role) for a role it assumes, V(iam_user) for an access key.
    type: str
    choices: [iam_role, iam_user]
    default: iam_role
  oidc_provider_url:
    description:
      - The issuer URL of the exporter's OIDC identity provider (C(https://HOST[/PATH])), for example the OIDC issuer of
        an EKS cluster.
      - The module uses the IAM OIDC provider of that URL, or creates it (client ID O(audience), O(thumbprints)). On a
        provider it created, it adds O(audience) to the client IDs when missing.
      - A provider it did not create (without the tag C(managed-by=observability.cloudwatch)) is never changed. When
        O(audience) is not one of its client IDs, the module fails before any write, naming the provider and its
        client IDs; add the client ID yourself (C(aws iam add-client-id-to-open-id-connect-provider)) or set
        O(audience) to one of them.
      - Mutually exclusive with O(oidc_provider_arn).
    type: str
  oidc_provider_arn:
    description:
      - The ARN of an existing IAM OIDC provider to trust. The module adds O(audience) to its client IDs when missing
        only if the collection created the provider; a provider it did not create is never changed, and the module
        fails before any write when O(audience) is not one of its client IDs.
    type: str
  audience:
    description:
      - The audience (C(aud)) of the exporter's tokens, a client ID of the OIDC provider and the value of the trust
        policy's C(ISSUER:aud) condition.
    type: str
    default: sts.amazonaws.com
  thumbprints:
    description:
      - SHA-1 fingerprints (40 hexadecimal digits, at most 5) of the issuer's certificates, for a provider the module
        creates or created. IAM no longer needs them for most issuers.
      - A provider the collection did not create keeps its thumbprints (a warning says so when they differ).
    type: list
    elements: str
  service_account:
    description:
      - The Kubernetes service account whose tokens may assume the role, C(system:serviceaccount:NAMESPACE:NAME)
        (each a DNS-1123 label); the trust's C(ISSUER:sub) condition. The EKS form of O(subject).
      - With an OIDC provider, O(service_account) or O(subject) is required (or O(allow_any_subject=true)); without
        it any workload holding a token of the issuer for O(audience) could assume the role.
    type: str
  subject:
    description:
      - The subject (C(sub)) of the tokens allowed to assume the role, for issuers other than EKS, such as
        C(repo:ORG/REPO:ref:refs/heads/main). Matched with C(StringLike) when it holds a wildcard (C(*) or C(?)),
        else with C(StringEquals). Not empty, not a bare C(*).
    type: str
  allow_any_subject:
    description:
      - Trust every token of the issuer for O(audience), whatever its subject, for an issuer that mints an audience
        per customer. The result reports it (RV(subject_unrestricted)) and warns. Refused for issuers whose tokens any
        of their users can get (C(token.actions.githubusercontent.com), C(gitlab.com), C(app.terraform.io)).
    type: bool
    default: false
  trusted_role_arns:
    description:
      - ARNs of roles (usually of the exporter's own AWS account) allowed to assume the role with C(sts:AssumeRole).
      - A role of another account than the exporter role's needs O(external_id) or O(principal_org_id) (or
        O(allow_cross_account_without_external_id=true)); otherwise the module fails before any write.
    type: list
    elements: str
  external_id:
    description:
      - The external ID the exporter must pass when it assumes the role as one of O(trusted_role_arns)
        (condition C(sts:ExternalId)). 2 to 1,224 letters, digits or C(_+=,.@:/-).
      - A service acting for many customers from its own account tells them apart by it, so that no other customer
        of that service can use this role (the confused deputy).
    type: str
  principal_org_id:
    description:
      - Allow O(trusted_role_arns) only while they belong to this AWS Organization (condition C(aws:PrincipalOrgID),
        C(o-) and 10 to 32 lowercase letters or digits). Enough for roles of another account of your own organization.
    type: str
  allow_cross_account_without_external_id:
    description:
      - Trust roles of another account without O(external_id) or O(principal_org_id). The result warns that the other
        account can let anyone it serves act as the role.
    type: bool
    default: false
  data_types:
    description:
      - What the exporter writes. V(logs) and V(traces) are the usual policy; V(metrics) adds C(cloudwatch:PutMetricData).
    type: list
    elements: str
    choices: [logs, traces, metrics]
    default: [logs, traces]
  parameter_access:
    description:
      - Grant C(ssm:GetParameters) on the C(AmazonCloudWatch-*) parameters of the account and the module's region (never
        on C(*)), where exporters may read a CloudWatch agent configuration. Off unless asked for.
    type: bool
    default: false
  log_group_names:
    description:
      - Log group names, or ARNs, the exporter writes to (C(log-group:NAME) and C(log-group:NAME:*)). Only these groups
        get C(logs:CreateLogGroup) and C(logs:PutRetentionPolicy).
      - With V(logs) in O(data_types), O(log_group_names), O(log_group_prefix) (or both) or O(allow_all_log_groups=true)
        is required; without one the module fails before any AWS call.
      - An ARN must name a log group of the module's region and of the account; the module fails otherwise.
    type: list
    elements: str
  log_group_prefix:
    description:
      - Let the exporter write to the log groups whose name starts with this prefix (C(log-group:PREFIX*)), with
        C(logs:DescribeLogStreams), C(logs:CreateLogStream) and C(logs:PutLogEvents); never C(logs:CreateLogGroup) or
        C(logs:PutRetentionPolicy). The groups must exist, or be named in O(log_group_names) too.
      - 1 to 511 characters of a log group name (C(a-z), C(A-Z), C(0-9), C(.-_/#)), no wildcard. A prefix that covers
        the AWS services' groups (one starting with C(/aws/), or a beginning of it such as C(/)) is refused. End it
        with C(/) (C(/exporters/db/)) so that it does not also cover C(/exporters/db-other).
      - Only with V(logs) in O(data_types).
    type: str
  allow_all_log_groups:
    description:
      - Let the exporter create streams in, and write entries to, every log group of the account and region (C(log-group:*)),
        CloudTrail's included. Never C(logs:CreateLogGroup) or C(logs:PutRetentionPolicy) on them.
      - The result reports it (RV(log_groups_unrestricted)) and warns. Prefer O(log_group_names) or O(log_group_prefix).
      - Only with V(logs) in O(data_types).
    type: bool
    default: false
  metric_namespaces:
    description:
      - Limit C(cloudwatch:PutMetricData) to these namespaces (condition C(cloudwatch:namespace), C(StringEquals), or
        C(StringLike) when a namespace holds a wildcard C(*) or C(?)). Without it the exporter may write metrics in any
        namespace (CloudWatch itself refuses those starting with C(AWS/)).
      - Each 1 to 255 printable characters, not starting with C(AWS/) or C(:), not only wildcards.
      - Only with V(metrics) in O(data_types).
    type: list
    elements: str
  create_log_groups:
    description:
      - Ensure the log groups of O(log_group_names) exist in the module's region. An existing group is never deleted or
        recreated. New groups are tagged with O(tags) and C(managed-by=observability.cloudwatch).
      - O(state=absent) keeps the log groups, because they hold the exported data.
    type: bool
    default: false
  log_group_retention_days:
    description:
      - The retention of the log groups, with O(create_log_groups=true). When not set, the retention is left alone
        (new groups never expire).
    type: int
    choices: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
  replace_trust_policy:
    description:
      - With O(adopt=true), also replace the trust policy of a role without the tag C(managed-by=observability.cloudwatch)
        with the module's. Only with O(auth_method=iam_role).
    type: bool
    default: false
  purge_policies:
    description:
      - Make the role or user CloudWatch-only, holding nothing but C(cloudwatch-exporter). The module detaches its other
        managed policies and deletes its other inline policies (those of a running admin grant excepted).
      - With V(false) they stay, and the module warns and lists them in RV(foreign_policies).
    type: bool
    default: false
  permissions_boundary:
    description:
      - The ARN of a managed policy to use as the permissions boundary of the role or user. V("") removes the boundary.
      - When not set, the boundary is left alone.
    type: str
  state:
    description:
      - V(present) creates or updates the access.
      - V(absent) removes what the module created, known by the tag C(managed-by=observability.cloudwatch). For a role,
        the role and then the OIDC provider it trusted when the collection created that provider and no other role's
        trust policy still names it (IAM itself does not prevent that deletion, so the module checks). For a user, its
        keys, the user, and the record in O(access_key_store). Log groups are kept.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Check mode is supported and reports what would change; it never creates a key. With C(--diff), RV(diff) holds the
    role and OIDC provider (or the user and its access keys, never a secret) and the log groups before and after.
  - The module never returns a secret, in any state or in check mode. A new key's secret goes to O(access_key_store)
    and nowhere else; read it from there with the P(observability.cloudwatch.access_key#lookup) lookup.
  - The module's region is the exporter's region. The log groups it creates, the log group ARNs and the parameters of the
    policy are in that region.
  - A run that changes nothing does not read the caller identity. A role run reads C(GetRole), C(GetRolePolicy),
    C(ListAttachedRolePolicies), C(ListRolePolicies) (to find the inline policies that are not the module's), the OIDC
    provider (C(ListOpenIDConnectProviders) and C(GetOpenIDConnectProvider), or
    only the latter with O(oidc_provider_arn)) and, with O(create_log_groups=true), one C(DescribeLogGroups) per group.
    A user run reads C(GetUser) twice, C(ListAttachedUserPolicies), C(GetUserPolicy), C(ListUserPolicies) and C(ListAccessKeys).
seealso:
  - module: observability.cloudwatch.agent_iam_user
  - module: amazon.aws.sts_assume_role
extends_documentation_fragment:
  - observability.cloudwatch.iam
  - observability.cloudwatch.iam.adopt
  - observability.cloudwatch.caller
  - observability.cloudwatch.iam.key_store
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A role the exporter assumes from its EKS cluster (IRSA)
  observability.cloudwatch.exporter_access:
    name: db-telemetry-exporter
    region: eu-west-1
    oidc_provider_url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    service_account: system:serviceaccount:exporter:otel-collector
    log_group_names:
      - /managed-db/prod/postgresql
    create_log_groups: true
    log_group_retention_days: 30
  register: exporter

- name: Show the value to paste into the exporter's form
  ansible.builtin.debug:
    msg: "Role ARN: {{ exporter.role.arn }}"

- name: A role the exporter's own AWS account assumes, with an external ID
  observability.cloudwatch.exporter_access:
    name: vendor-telemetry
    trusted_role_arns:
      - arn:aws:iam::210987654321:role/telemetry-shipper
    external_id: "{{ vendor_external_id }}"
    data_types: [logs, traces, metrics]
    log_group_prefix: /vendor-telemetry/
    metric_namespaces: [VendorTelemetry]

- name: A CloudWatch-only user whose key is kept in Parameter Store
  observability.cloudwatch.exporter_access:
    name: db-telemetry-exporter
    auth_method: iam_user
    access_key_store: ssm:/exporters/db-telemetry/key
    kms_key_id: alias/exporter-keys
    log_group_names: [/managed-db/prod/postgresql]
  register: exporter_user

- name: Remove the exporter's role (and its OIDC provider, unless another role trusts it)
  observability.cloudwatch.exporter_access:
    name: db-telemetry-exporter
    oidc_provider_url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    state: absent
"""

RETURN = r"""
role:
  description: The role after the run (predicted in check mode), V(null) when absent.
  returned: with O(auth_method=iam_role)
  type: dict
  contains:
    arn:
      description: The role's ARN, the value the exporter's form asks for.
      type: str
      sample: arn:aws:iam::123456789012:role/db-telemetry-exporter
    name:
      description: The role's name.
      type: str
    role_id:
      description: The role's unique ID.
      type: str
    assume_role_policy_document:
      description: The trust policy.
      type: dict
    inline_policies:
      description: The permission policy, under its name C(cloudwatch-exporter).
      type: dict
    tags:
      description: The role's tags.
      type: dict
log_groups_unrestricted:
  description: Whether the exporter may write to every log group of the account and region (O(allow_all_log_groups=true)).
  returned: with O(state=present)
  type: bool
subject_unrestricted:
  description: With an OIDC provider, whether the role trusts every subject of the issuer (O(allow_any_subject=true)).
  returned: with an OIDC provider and O(state=present)
  type: bool
foreign_policies:
  description:
    - The policies of the role or user that this collection did not put there, after the run (predicted in check mode).
      With any, the identity is not CloudWatch-only. O(purge_policies=true) removes them; C(diff.before) lists those found.
    - The inline policies of a running admin grant (M(observability.cloudwatch.admin_grant)) are not counted.
  returned: with O(state=present)
  type: dict
  contains:
    attached:
      description: ARNs of attached managed policies.
      type: list
      elements: str
    inline:
      description: Names of inline policies other than C(cloudwatch-exporter).
      type: list
      elements: str
oidc_provider:
  description: The IAM OIDC provider the role trusts, V(null) without one.
  returned: with O(auth_method=iam_role)
  type: dict
  contains:
    arn:
      description: The provider's ARN.
      type: str
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    url:
      description: The issuer, without C(https://).
      type: str
    client_ids:
      description: The provider's client IDs (audiences).
      type: list
      elements: str
    thumbprints:
      description: The provider's thumbprints.
      type: list
      elements: str
    tags:
      description: The provider's tags.
      type: dict
user:
  description: The user after the run (predicted in check mode), V(null) when absent.
  returned: with O(auth_method=iam_user)
  type: dict
  contains:
    arn:
      description: The user's ARN.
      type: str
    name:
      description: The user's name.
      type: str
    inline_policies:
      description: The permission policy, under its name C(cloudwatch-exporter).
      type: dict
    tags:
      description: The user's tags.
      type: dict
access_keys:
  description: The user's access keys after the run, oldest first, without secrets.
  returned: with O(auth_method=iam_user)
  type: list
  elements: dict
access_key_id:
  description:
    - The id of the key this run created and stored (never its secret). Not returned in check mode.
    - The secret is in O(access_key_store) only; read it with the P(observability.cloudwatch.access_key#lookup) lookup.
  returned: when a key was created
  type: str
  sample: AKIAIOSFODNN7EXAMPLE
log_groups:
  description: The log groups of O(log_group_names) that exist (or would, in check mode), with O(create_log_groups=true).
  returned: with O(state=present)
  type: list
  elements: dict
  contains:
    name:
      description: The log group's name.
      type: str
    arn:
      description: The log group's ARN.
      type: str
    retention_in_days:
      description: The retention, V(null) for never expire.
      type: int
changes:
  description: One line per change made (or, in check mode, that would be made); never a secret.
  returned: always
  type: list
  elements: str
diff:
  description: The resources before and after, with C(--diff); never a secret.
  returned: when run with C(--diff)
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.observability.cloudwatch.plugins.module_utils.exporter import ExporterSpec
from ansible_collections.observability.cloudwatch.plugins.module_utils.exporter import ensure_exporter_absent
from ansible_collections.observability.cloudwatch.plugins.module_utils.exporter import ensure_exporter_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import ADOPT_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import KEY_STORE_OPTIONS
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_module import IAMModule
from ansible_collections.observability.cloudwatch.plugins.module_utils.logs import LOG_RETENTION_DAYS


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        auth_method=dict(type="str", choices=["iam_role", "iam_user"], default="iam_role"),
        oidc_provider_url=dict(type="str"),
        oidc_provider_arn=dict(type="str"),
        audience=dict(type="str", default="sts.amazonaws.com"),
        thumbprints=dict(type="list", elements="str"),
        service_account=dict(type="str"),
        subject=dict(type="str"),
        allow_any_subject=dict(type="bool", default=False),
        trusted_role_arns=dict(type="list", elements="str"),
        external_id=dict(type="str"),
        principal_org_id=dict(type="str"),
        allow_cross_account_without_external_id=dict(type="bool", default=False),
        data_types=dict(type="list", elements="str", choices=["logs", "traces", "metrics"], default=["logs", "traces"]),
        parameter_access=dict(type="bool", default=False),
        log_group_names=dict(type="list", elements="str"),
        log_group_prefix=dict(type="str"),
        allow_all_log_groups=dict(type="bool", default=False),
        metric_namespaces=dict(type="list", elements="str"),
        create_log_groups=dict(type="bool", default=False),
        log_group_retention_days=dict(type="int", choices=list(LOG_RETENTION_DAYS)),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        # An existing identity the collection did not create, and policies it did not put there.
        replace_trust_policy=dict(type="bool", default=False),
        purge_policies=dict(type="bool", default=False),
        permissions_boundary=dict(type="str"),
        **ADOPT_OPTIONS,
        **KEY_STORE_OPTIONS,
    )
    module = IAMModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("oidc_provider_url", "oidc_provider_arn")],
        required_if=[("auth_method", "iam_user", ["access_key_store"])],
    )
    params = module.params
    if params["access_key_store"] and params["auth_method"] != "iam_user":
        module.fail_json(msg="access_key_store: only with auth_method=iam_user (a role has no access key)")

    iam_client = module.aws_client("iam")
    caller = module.caller()
    spec = ExporterSpec(
        name=params["name"],
        region=module.region,
        auth_method=params["auth_method"],
        oidc_provider_url=params["oidc_provider_url"],
        oidc_provider_arn=params["oidc_provider_arn"],
        audience=params["audience"],
        thumbprints=params["thumbprints"],
        service_account=params["service_account"],
        subject=params["subject"],
        allow_any_subject=params["allow_any_subject"],
        trusted_role_arns=params["trusted_role_arns"],
        external_id=params["external_id"],
        principal_org_id=params["principal_org_id"],
        allow_cross_account_without_external_id=params["allow_cross_account_without_external_id"],
        data_types=params["data_types"],
        parameter_access=params["parameter_access"],
        log_group_names=params["log_group_names"],
        log_group_prefix=params["log_group_prefix"],
        allow_all_log_groups=params["allow_all_log_groups"],
        metric_namespaces=params["metric_namespaces"],
        create_log_groups=params["create_log_groups"],
        log_group_retention_days=params["log_group_retention_days"],
        tags=params["tags"],
        purge_tags=params["purge_tags"],
        adopt=params["adopt"],
        replace_trust_policy=params["replace_trust_policy"],
        purge_policies=params["purge_policies"],
        permissions_boundary=params["permissions_boundary"],
    )
    try:
        store = module.key_store()
        if params["state"] == "present":
            result = ensure_exporter_present(
                iam_client,
                module.aws_client("logs"),
                caller,
                spec,
                store=store,
                check_mode=module.check_mode,
                wait=params["wait"],
                wait_timeout=params["wait_timeout"],
                key_client=module.key_client,
            )
        else:
            result = ensure_exporter_absent(iam_client, caller, spec, store=store, check_mode=module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_result(result)


if __name__ == "__main__":
    main()
