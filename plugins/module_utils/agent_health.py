# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the agent came up after a start, and if not, what it said.

Healthy: the agent reports running, its log for this start (the lines since its process started) shows that its
pipeline runs, and the same process (main PID, restart count) is still running after the settle time. The agent
has no readiness signal (its unit is Type=simple) and some failures, such as a statsd port already in use, end
it in a goroutine after its start, hence the log line and the settle time.
Standard library only: agent_facts runs this on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import os
import re
import stat

from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files

# The agent's first line of a start (cmd/amazon-cloudwatch-agent/amazon-cloudwatch-agent.go, runAgent).
STARTING = "Starting AmazonCloudWatchAgent"
# The pipeline runs: the line of the OpenTelemetry collector the agent runs (go.opentelemetry.io/collector/service,
# service.go; the agent's own sources have none), or, with no collector, the agent's logs-only mode
# (cmd/amazon-cloudwatch-agent/amazon-cloudwatch-agent.go), after which nothing is logged once inputs run.
READY = ("Everything is ready. Begin running and processing data.", "running in logs-only mode")
# The first release that runs the collector (cmd/amazon-cloudwatch-agent/amazon-cloudwatch-agent.go, tag
# v1.300025.0); earlier releases log no line when their inputs run, so only the process is watched for them.
FIRST_WITH_READY_LINE = (1, 300025)
# The agent's own error lines: its levels (E!), log.Fatalf texts of its plugins ("ERROR: ListenUDP - ..." has
# no level of its own), Go's fatal errors and panics.
ERROR = re.compile(r"E!|\bERROR\b|\b[Ff]atal\b|\bpanic:")
STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?")
# Read at most this much of the log's end: the lines of one start, not the whole (up to 100 MB) file.
TAIL_BYTES = 256 * 1024
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def epoch(text):
    """Seconds since the epoch of an ISO 8601 time (UTC when it has no offset), or None."""
    match = STAMP.match(text or "")
    if not match:
        return None
    parts = [int(part) for part in match.groups()[:6]]
    seconds = calendar.timegm(tuple(parts) + (0, 0, 0))
    offset = match.group(7)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "+" else 1
        digits = offset[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def this_start(lines, started):
    """The agent's lines since its first line of the start at `started` (epoch seconds), or None.

    The agent stamps its lines in UTC to the second; a first line older than the process is an earlier start's.
    """
    for index in range(len(lines) - 1, -1, -1):
        if STARTING in lines[index]:
            when = epoch(lines[index])
            if started is None or (when is not None and when >= int(started)):
                return lines[index:]
            return None
    return None


def is_ready(lines):
    return any(marker in line for line in lines or [] for marker in READY)


def logs_ready_line(version):
    """Whether this agent version logs a line once its pipeline runs (an unreadable version is taken to)."""
    match = re.match(r"^(\d+)\.(\d+)", version or "")
    return not match or (int(match.group(1)), int(match.group(2))) >= FIRST_WITH_READY_LINE


def error_lines(lines, limit=3):
    """The last few distinct error lines, oldest first."""
    found = []
    for line in reversed(lines or []):
        line = line.strip()
        if ERROR.search(line) and line not in found:
            found.append(line)
            if len(found) == limit:
                break
    return list(reversed(found))


def log_tail(path):
    """The last lines of the agent's log, read without following a link; [] when absent or not a plain file.

    The agent's user owns logs/: a link or a second name planted there could point at any file of root's.
    """
    try:
        dirs, name = host_files.split(path)
        dir_fd = host_files.open_dir(dirs)
    except (host_files.AnsibleHostFileError, OSError):
        return []
    if dir_fd is None:
        return []
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ELOOP):
            raise
        return []
    finally:
        os.close(dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            return []
        start = max(0, info.st_size - TAIL_BYTES)
        os.lseek(fd, start, os.SEEK_SET)
        chunks = []
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            chunks.append(chunk)
    finally:
        os.close(fd)
    lines = b"".join(chunks).decode("utf-8", "replace").splitlines()
    return lines[1:] if start else lines  # the first line read may be cut


def watch(observe, log_lines, timeout, settle, clock, sleep, interval=1.0, ready_line=True):
    """Poll until the agent is healthy or not; returns {healthy, reason, seconds, main_pid, restarts, section}.

    observe() gives {running, pid, restarts, started, exited, exit_status} (started: epoch seconds of the agent's
    process, or None; exited: its process ended and systemd has not started another); log_lines() the end of its
    log. `timeout` bounds the wait for running and the pipeline line (not waited for without `ready_line`),
    `settle` is the time the same process must then keep running.
    """
    begin = clock()
    first = None
    first_at = ready_at = None
    section = []
    while True:
        state = observe()
        now = clock()
        if state["running"]:
            if first is None:
                first, first_at = state, now
            elif (state["pid"], state["restarts"]) != (first["pid"], first["restarts"]):
                return _verdict(False, "was restarted %ds after its start (main PID %s, then %s; restarts %s, then %s)"
                                % (now - (first["started"] or first_at), first["pid"], state["pid"], first["restarts"],
                                   state["restarts"]), begin, now, first, section)
            if ready_at is None:
                section = this_start(log_lines(), first["started"]) or []
                if is_ready(section) or not ready_line:
                    ready_at = now
            if ready_at is not None and now - ready_at >= settle:
                return _verdict(True, None, begin, now, first, section)
        elif first is not None:
            section = this_start(log_lines(), first["started"]) or section
            # Counted from the process's start when systemd gives it: the time a late failure takes.
            return _verdict(False, "stopped %ds after its start, having reported running" % (now - (first["started"] or first_at)),
                            begin, now, first, section)
        elif state.get("exited"):
            section = this_start(log_lines(), state["started"]) or []
            return _verdict(False, "exited (status %s) before it reported running" % state.get("exit_status"),
                            begin, now, first, section)
        if ready_at is None and now - begin >= timeout:
            if first is None:
                section = this_start(log_lines(), state["started"]) or []
                reason = "did not report running within %ds" % timeout
            else:
                reason = ("reported running, but its log shows no running pipeline for this start within %ds (no line "
                          "'%s' since its line '%s')" % (timeout, READY[0], STARTING))
            return _verdict(False, reason, begin, now, first, section)
        sleep(interval)


def _verdict(healthy, reason, begin, now, first, section):
    first = first or {}
    return {"healthy": healthy, "reason": reason, "seconds": int(round(now - begin)), "main_pid": first.get("pid"),
            "restarts": first.get("restarts"), "section": section}


def agent_errors(section, journal):
    """What the agent said: error lines of this start's log, else of its journal, else the journal's last line."""
    return error_lines(section) or error_lines(journal) or [line.strip() for line in (journal or [])[-1:] if line.strip()]
