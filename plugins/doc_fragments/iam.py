# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Options every IAM module of the collection shares (the ownership rules and the wait after create).
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - After creating a resource, wait until IAM reads it back (IAM is eventually consistent).
      - See the module's notes for how it decides.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most when O(wait=true).
    type: int
    default: 120
notes:
  - AWS's limits are checked before any call, each failure naming the option and the limit. Tags, at most 50 per
    resource counting C(managed-by) (which the collection adds), keys of 1 to 128 and values of up to 256 letters,
    digits, spaces or C(_.:/=+-@), no key starting with C(aws:). The inline policies the collection writes, at most
    10,240 characters for a role and 2,048 for a user, all together, and a role's trust policy at most 2,048 (IAM's
    default quota), white space not counted; inline policies the collection does not manage count as well, so IAM
    can still refuse one that passes.
  - Resources the collection creates carry the tag C(managed-by=observability.cloudwatch), and O(state=absent) refuses
    to delete one without it.
  - With credentials of an assumed role (another account, or least privilege) use amazon.aws profiles
    (O(profile)) or pass the output of M(amazon.aws.sts_assume_role) as O(access_key), O(secret_key) and
    O(session_token).
"""

    # The access-key store shared by agent_iam_user and exporter_access.
    KEY_STORE = r"""
options:
  access_key_store:
    description:
      - Where the module keeps the secret access key of the key it creates, written before the module returns.
      - V(ssm:NAME) stores it in an SSM Parameter Store C(SecureString) named C(NAME) in the module's region,
        encrypted with O(kms_key_id). C(NAME) follows Parameter Store's rules, checked before any call. Letters,
        digits and C(_.-/), a leading C(/) when hierarchical, at most 15 levels, no C(aws) or C(ssm) prefix, and at
        most 1011 characters together with the ARN before it (C(arn:aws:ssm:REGION:ACCOUNT:parameter/)).
        Names starting with C(AmazonCloudWatch-) are refused, because every host running the agent may read
        those parameters.
      - V(file:PATH) writes a file on the host that runs the module (run the task on the controller),
        created with mode C(0600) and replaced atomically, then its directory is synced to disk, so a crash
        cannot lose a new key. Its directory must exist.
      - An existing V(file:) store is refused, and nothing is changed, when PATH itself is a symbolic link (links in
        the directories above it are followed), is not a regular file, is owned by another user than the one
        running the module, or is readable or writable by group or others (fix it with C(chmod 600), then rotate
        the key). The file is opened without following links and checked once open, so it cannot be swapped
        between the check and the read.
      - Both hold one JSON object with C(access_key_id), C(secret_access_key), C(user_name) and C(created).
        Read it with the P(observability.cloudwatch.access_key#lookup) lookup.
      - Before it changes anything, the module checks that the store can be written (for V(file:) it creates
        and removes a probe file in the directory; for V(ssm:) it reads and decrypts the parameter, which proves
        access to it but not the right to write it). If writing still fails, the new key is deleted again and
        the module fails.
    type: str
  kms_key_id:
    description:
      - The customer managed KMS key (key id, key ARN, V(alias/NAME) or alias ARN) that encrypts an V(ssm:) O(access_key_store). Required with
        an V(ssm:) store, unless O(allow_aws_managed_kms_key=true); the module fails before any call without it.
      - Give it a key policy that lets only the controller's role (and the roles that must read the key) use it
        for C(kms:Decrypt); docs/security.md has one.
      - Before it writes a key, the module checks with C(kms:DescribeKey) that the key exists, is enabled, is a
        symmetric encryption key and is customer managed, and that an existing parameter is encrypted with that same
        key (C(ssm:DescribeParameters)). A store is never moved to another key; the module fails instead, naming the
        parameter's key.
    type: str
  allow_aws_managed_kms_key:
    description:
      - Accept the account's AWS managed key C(aws/ssm) for an V(ssm:) O(access_key_store) (no O(kms_key_id), or an
        C(alias/aws/) alias). Its key policy lets every principal of the account that may read the parameter decrypt
        it, and C(AmazonSSMManagedInstanceCore) lets every SSM-managed instance read every parameter, so the secret
        is then only as private as C(ssm:GetParameter) on its name.
    type: bool
    default: false
notes:
  - C(CreateAccessKey) is never resent after a dropped connection, a timeout or a server error, when AWS may have
    made the key (only throttling is retried). Instead, the module lists the user's keys and deactivates and deletes
    the key made during that call that is not in O(access_key_store) and was not there before, with a warning naming
    its id, then creates the key once more. A key another run made is never touched; when more than one key could be
    the lost one, the module touches none and fails. If the second answer is lost too, its key is removed the same
    way and the module fails; run it again.
"""

    # The policy option worded the same in agent_iam_role and agent_iam_user.
    AGENT_POLICIES = r"""
options:
  purge_policies:
    description:
      - Detach managed policies that neither the purpose, O(ssm_managed) nor O(managed_policies) name.
      - The purpose policy is never detached, unless O(scoped_policy) replaces it.
      - Without O(scoped_policy), the inline policy C(CloudWatchAgentScopedPolicy) of an earlier run with it is deleted
        when the purpose policy is attached again.
    type: bool
    default: true
  allow_broad_policies:
    description:
      - Accept C(AdministratorAccess), C(PowerUserAccess) and any policy whose name ends in C(FullAccess) in
        O(managed_policies). Without it the module fails before any call, since every host holding the identity could use
        those rights.
    type: bool
    default: false
  scoped_policy:
    description:
      - Instead of AWS's managed purpose policy (C(CloudWatchAgentServerPolicy), whose log rights are on every log
        group of the account), give the identity the inline policy C(CloudWatchAgentScopedPolicy), generated from the
        configurations its agents run, and detach the managed one (with O(purge_policies)). Only with O(purpose=server).
      - The policy grants C(ec2:DescribeTags) and C(ec2:DescribeVolumes); C(cloudwatch:PutMetricData) limited by
        C(cloudwatch:namespace) to the configurations' namespaces (C(CWAgent) when one has metrics and names none);
        C(logs:CreateLogGroup), C(logs:DescribeLogStreams), C(logs:CreateLogStream) and C(logs:PutLogEvents) on the
        log groups the configurations collect to (the agent creates a missing group), with each placeholder such as
        C({instance_id}) read as C(*); C(logs:PutRetentionPolicy) only on the groups with C(retention_in_days);
        C(ssm:GetParameter) on the named parameters; the X-Ray actions only when a configuration has C(traces).
      - A configuration the policy cannot describe fails the module, naming the configuration and the key, before any
        call. Such are C(logs.metrics_collected) (embedded metrics go to log groups named at run time), credentials
        with C(role_arn), and log sources other than C(files) and C(windows_events).
      - The account of the ARNs is the identity's own (the caller's when it is created).
    type: dict
    suboptions:
      configs:
        description:
          - The configurations the agents with this identity run, the same list the role
            C(observability.cloudwatch.config) publishes (C(cloudwatch_publish_configs)). Each has C(name), the
            C(AmazonCloudWatch-) parameter, and one of C(config) (a dict), C(content) (JSON text) or C(file) (a JSON
            file on the host that runs the module); other keys are ignored.
        type: list
        elements: dict
        required: true
      regions:
        description: The regions of the parameters and log groups; V(*) for any.
        type: list
        elements: str
        default: ["*"]
"""

    # What agent_iam_role, agent_iam_user and exporter_access do with an identity they did not create.
    ADOPT = r"""
options:
  adopt:
    description:
      - Manage a role, user or instance profile of that name that exists without the tag
        C(managed-by=observability.cloudwatch), for example the C(CloudWatchAgentServerRole) created by hand from
        AWS's documentation.
      - With V(false) such a resource is refused, before any change and in check mode too, with an error naming it.
      - With V(true) its policies and tags are brought to what the task says, as for a resource the collection created,
        with a warning. A role's trust policy is kept (a warning names the one the module would set) unless
        C(replace_trust_policy=true) where the module has that option. The owner tag is not added unless O(tags) holds
        it, so O(state=absent) still refuses to delete the resource.
    type: bool
    default: false
notes:
  - An existing role, user or instance profile without the tag C(managed-by=observability.cloudwatch) is never changed
    silently; see O(adopt). In the role C(observability.cloudwatch.iam) set C(cloudwatch_iam_adopt=true), or C(adopt)
    on one entry.
"""
