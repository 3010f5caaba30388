# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS errors the agent logged lately: refused requests (credentials, permissions) and throttling.

The agent writes its own lines as ``2006-01-02T15:04:05Z E! ...`` in UTC (its telegraf logger, see the
``logfile`` setting in translator/tocwconfig/sampleConfig/*.conf of the agent's sources); a failed send reads
``E! cloudwatch: WriteToCloudWatch failure, err: <Code>: <message>`` (plugins/outputs/cloudwatch/cloudwatch.go) or
``Aws error received when sending logs to <group>/<stream>: <Code>: ...``
(plugins/outputs/cloudwatchlogs/internal/pusher/sender.go). The start program's lines (``2006/01/02 15:04:05``,
local time) carry no AWS call and are skipped. Standard library only: this runs on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

# AWS refused the request: the agent's data is lost until its credentials or policy change.
REFUSED = ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId",
           "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch", "InvalidSignatureException",
           "MissingAuthenticationToken", "IncompleteSignature")
# AWS slowed the agent down: it retries, data arrives late.
THROTTLED = ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException")

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ([EW])! (.*)$")
CODE = re.compile(r"\b(%s)\b" % "|".join(REFUSED + THROTTLED))
# The part of the log read: the newest lines are at its end, and a large log is not read whole.
TAIL_BYTES = 1024 * 1024
QUOTE_CHARS = 300


def stamp(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def aws_errors(text, now, minutes):
    """What the log's lines of the last ``minutes`` say about AWS refusing or throttling the agent.

    Returns ``refused`` and ``throttled`` (counts of lines), ``codes`` (count by error code) and ``last`` (the
    newest such line, shortened).
    """
    since = now - minutes * 60
    found = {"minutes": minutes, "refused": 0, "throttled": 0, "codes": {}, "last": None}
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        try:
            when = stamp(match.group(1))
        except ValueError:
            continue
        code = CODE.search(match.group(3))
        if when < since or not code:
            continue
        kind = "refused" if code.group(1) in REFUSED else "throttled"
        found[kind] += 1
        found["codes"][code.group(1)] = found["codes"].get(code.group(1), 0) + 1
        found["last"] = printable(line[:QUOTE_CHARS])
    return found


def printable(line):
    """The line without control characters: the agent's user writes this log, and the report prints it on terminals."""
    return "".join(c if c.isprintable() else "?" for c in line)
