# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: cloudwatch_policy
short_description: Least-privilege IAM identity policies for common CloudWatch duties
version_added: 0.1.0
description:
  - Returns an IAM identity-based policy document (a dictionary) that grants one or more CloudWatch duties and
    nothing else, for use with the C(policy) option of M(amazon.aws.iam_policy) or M(amazon.aws.iam_managed_policy).
  - Each statement has a C(Sid) named after its duty. Actions that IAM cannot scope to a resource are granted on
    C(*); the others are scoped to the ARNs that O(region), O(account_id) and O(log_groups) describe.
  - The duties and the actions each one grants (C(*) means the statement's resource is C(*)).
  - V(read_metrics) - C(cloudwatch:GetMetricData), C(cloudwatch:GetMetricStatistics),
    C(cloudwatch:GetMetricWidgetImage), C(cloudwatch:ListMetrics) (C(*)).
  - V(write_metrics) - C(cloudwatch:PutMetricData) (C(*)), limited to O(namespaces) by the condition key
    C(cloudwatch:namespace) when given.
  - V(read_logs) - C(logs:DescribeLogGroups), C(logs:DescribeQueries), C(logs:StopQuery) (C(*));
    C(logs:DescribeLogStreams), C(logs:FilterLogEvents), C(logs:GetLogRecord), C(logs:GetQueryResults),
    C(logs:StartQuery) on the log groups; C(logs:GetLogEvents) on their streams.
  - V(write_logs) - C(logs:DescribeLogGroups) (C(*)); C(logs:CreateLogGroup), C(logs:DescribeLogStreams),
    C(logs:PutRetentionPolicy) on the log groups; C(logs:CreateLogStream), C(logs:PutLogEvents) on their
    streams. Requires O(log_groups).
  - V(manage_alarms) - C(cloudwatch:DescribeAlarmsForMetric) (C(*)); C(cloudwatch:DeleteAlarms),
    C(cloudwatch:DescribeAlarmHistory), C(cloudwatch:DescribeAlarms), C(cloudwatch:DisableAlarmActions),
    C(cloudwatch:EnableAlarmActions), C(cloudwatch:ListTagsForResource), C(cloudwatch:PutCompositeAlarm),
    C(cloudwatch:PutMetricAlarm), C(cloudwatch:SetAlarmState), C(cloudwatch:TagResource),
    C(cloudwatch:UntagResource) on C(arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:*).
  - V(manage_dashboards) - C(cloudwatch:ListDashboards) (C(*)); C(cloudwatch:DeleteDashboards),
    C(cloudwatch:GetDashboard), C(cloudwatch:PutDashboard) on C(arn:PARTITION:cloudwatch::ACCOUNT:dashboard/*).
  - V(agent_server) - what the CloudWatch agent needs on a server, a narrower C(CloudWatchAgentServerPolicy);
    C(cloudwatch:PutMetricData) (C(*), limited to O(namespaces) when given), C(ec2:DescribeTags),
    C(ec2:DescribeVolumes), C(logs:DescribeLogGroups) and the X-Ray actions C(xray:GetSamplingRules),
    C(xray:GetSamplingStatisticSummaries), C(xray:GetSamplingTargets), C(xray:PutTelemetryRecords),
    C(xray:PutTraceSegments) (C(*)); C(logs:CreateLogGroup), C(logs:DescribeLogStreams),
    C(logs:PutRetentionPolicy) on the log groups (C(*) without O(log_groups)); C(logs:CreateLogStream),
    C(logs:PutLogEvents) on their streams; C(ssm:GetParameter) on C(AmazonCloudWatch-*) parameters.
  - V(agent_admin) - V(agent_server) and C(ssm:PutParameter) on C(AmazonCloudWatch-*) parameters, to publish
    agent configurations (a narrower C(CloudWatchAgentAdminPolicy)).
author:
  - observability.cloudwatch maintainers (@observability-collections)
positional: _input
options:
  _input:
    description: A duty, or a list of duties; the policy grants all of them.
    type: list
    elements: str
    choices: [read_metrics, write_metrics, read_logs, write_logs, manage_alarms, manage_dashboards, agent_server, agent_admin]
    required: true
  log_groups:
    description:
      - Log group names or ARNs. Log actions that IAM can scope to a log group are granted on these groups (and on
        their streams) only.
      - A name is placed in O(region) and O(account_id); an ARN keeps its own region and account, which must match
        O(region) and O(account_id) when they are given.
      - Without it, log actions of V(read_logs), V(agent_server) and V(agent_admin) are granted on C(*).
    type: list
    elements: str
  region:
    description: The region of the alarms, log groups and parameters the policy grants access to.
    type: str
    default: "*"
  account_id:
    description: The 12-digit account ID of the resources the policy grants access to.
    type: str
    default: "*"
  partition:
    description: The AWS partition of the ARNs (V(aws), V(aws-cn), V(aws-us-gov)).
    type: str
    default: aws
  namespaces:
    description: Metric namespaces C(cloudwatch:PutMetricData) is limited to (condition key C(cloudwatch:namespace)).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: A managed policy for a team that reads metrics and logs of two log groups
  amazon.aws.iam_managed_policy:
    name: cloudwatch-readers
    policy: "{{ ['read_metrics', 'read_logs'] | observability.cloudwatch.cloudwatch_policy(log_groups=app_log_groups, region='eu-west-1',
                                                                                         account_id='123456789012') }}"
  vars:
    app_log_groups: [/app/api, /app/web]

- name: An inline policy for a job that publishes custom metrics in one namespace
  amazon.aws.iam_policy:
    iam_type: role
    iam_name: metrics-publisher
    policy_name: write-metrics
    policy_json: "{{ 'write_metrics' | observability.cloudwatch.cloudwatch_policy(namespaces=['MyApp']) | to_json }}"

- name: The CloudWatch agent on servers that send to named log groups
  ansible.builtin.set_fact:
    agent_policy: >-
      {{ 'agent_server' | observability.cloudwatch.cloudwatch_policy(log_groups=['/var/log/messages'],
                                                                     region='us-east-1', account_id='123456789012') }}
"""

RETURN = r"""
_value:
  description: An IAM policy document with C(Version) V(2012-10-17) and one or more statements per duty.
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: WriteMetrics
        Effect: Allow
        Action: ["cloudwatch:PutMetricData"]
        Resource: "*"
        Condition:
          StringEquals:
            "cloudwatch:namespace": MyApp
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.observability.cloudwatch.plugins.module_utils.cloudwatch_policies import PolicyInputError
from ansible_collections.observability.cloudwatch.plugins.module_utils.duty_policies import duty_policy


def cloudwatch_policy(duties, log_groups=None, region="*", account_id="*", partition="aws", namespaces=None):
    try:
        return duty_policy(
            duties,
            log_groups=log_groups,
            region=region,
            account_id=account_id,
            partition=partition,
            namespaces=namespaces,
        )
    except PolicyInputError as e:
        raise AnsibleFilterError(f"cloudwatch_policy: {e}") from e


class FilterModule:
    def filters(self):
        return {"cloudwatch_policy": cloudwatch_policy}
