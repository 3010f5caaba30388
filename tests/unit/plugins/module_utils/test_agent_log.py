# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS errors of the agent's recent log lines, as the status report marks a host."""

import calendar
import time

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_log

NOW = calendar.timegm(time.strptime("2024-05-01T12:00:00Z", "%Y-%m-%dT%H:%M:%SZ"))
LOG = """\
2024/05/01 11:40:00 I! Config has been translated into TOML /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.toml
2024-05-01T11:40:00Z E! cloudwatch: WriteToCloudWatch failure, err:  AccessDenied: User is not authorized
2024-05-01T11:50:00Z I! AmazonCloudWatchAgent Version 1.300069.0b1529.
2024-05-01T11:51:00Z E! cloudwatch: WriteToCloudWatch failure, err:  AccessDenied: User: arn:aws:iam::123456789012:user/agent is not authorized
\tstatus code: 403, request id: 1
2024-05-01T11:52:00Z W! [outputs.cloudwatchlogs] Aws error received when sending logs to g/s: ThrottlingException: Rate exceeded
2024-05-01T11:53:00Z E! [outputs.cloudwatchlogs] Aws error received when sending logs to g/s: InvalidClientTokenId: bad token
2024-05-01T11:54:00Z E! [inputs.logfile] Failed to tail file /var/log/x: permission denied
2024-05-01T11:55:00Z E! cloudwatch: AccessDeniedExceptionally odd but not a code
"""


def test_counts_refused_and_throttled_lines_of_the_window_only():
    found = agent_log.aws_errors(LOG, NOW, 15)
    # 11:40 is outside the 15 minutes; the start program's line and other errors are not AWS refusals.
    assert found == {"minutes": 15, "refused": 2, "throttled": 1,
                     "codes": {"AccessDenied": 1, "ThrottlingException": 1, "InvalidClientTokenId": 1},
                     "last": "2024-05-01T11:53:00Z E! [outputs.cloudwatchlogs] Aws error received when sending logs to g/s: InvalidClientTokenId: bad token"}


def test_a_wider_window_sees_the_older_refusal():
    assert agent_log.aws_errors(LOG, NOW, 30)["refused"] == 3


def test_a_quiet_log_says_none_and_a_long_line_is_shortened():
    assert agent_log.aws_errors("2024-05-01T11:59:00Z I! ok\n", NOW, 15) == {
        "minutes": 15, "refused": 0, "throttled": 0, "codes": {}, "last": None}
    long = "2024-05-01T11:59:00Z E! AccessDenied: " + "x" * 1000
    assert len(agent_log.aws_errors(long, NOW, 15)["last"]) == agent_log.QUOTE_CHARS


def test_control_characters_of_the_quoted_line_are_replaced():
    line = "2024-05-01T11:59:00Z E! AccessDenied: \x1b]2;owned\x07\x1b[2J"
    assert agent_log.aws_errors(line, NOW, 15)["last"] == "2024-05-01T11:59:00Z E! AccessDenied: ?]2;owned??[2J"
