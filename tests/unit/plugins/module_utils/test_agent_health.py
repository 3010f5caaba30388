# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""agent_health: healthy means running, the pipeline line of this start, and the same process after the settle time."""

import os

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_health

T0 = agent_health.epoch("2025-01-01T00:00:00Z")
READY = '2025-01-01T00:00:03Z I! {"msg":"Everything is ready. Begin running and processing data."}'


def stamp(seconds):
    return "2025-01-01T00:00:%02dZ" % seconds


def starting(seconds):
    return "%s I! Starting AmazonCloudWatchAgent 1.300064.0b1337 with log file x with log target lumberjack" % stamp(seconds)


class Host:
    """A scripted agent: its state and log as functions of the clock."""

    def __init__(self, states, log):
        self.now = 0.0
        self.states, self.log = states, log

    def clock(self):
        return T0 + self.now

    def sleep(self, seconds):
        self.now += seconds

    def observe(self):
        return self.states(self.now)

    def lines(self):
        return self.log(self.now)

    def watch(self, timeout=60, settle=15):
        return agent_health.watch(self.observe, self.lines, timeout, settle, self.clock, self.sleep)


def running(pid="42", restarts="0", started=T0):
    return {"running": True, "pid": pid, "restarts": restarts, "started": started}


STOPPED = {"running": False, "pid": "0", "restarts": "0", "started": None}


def test_epoch_reads_the_status_time_and_the_log_stamp():
    assert agent_health.epoch("2025-01-01T00:00:00+00:00") == T0
    assert agent_health.epoch("2025-01-01T01:00:00+01:00") == T0
    assert agent_health.epoch("2025-01-01T00:00:05Z I! x") == T0 + 5
    assert agent_health.epoch("2025/01/01 00:00:05 I! x") is None
    assert agent_health.epoch(None) is None


def test_this_start_is_the_lines_since_the_first_line_of_the_current_process():
    earlier = [starting(0), READY]
    assert agent_health.this_start(earlier + [starting(10), "x"], T0 + 10) == [starting(10), "x"]
    # The current process has not written its first line yet: the earlier start's ready line does not count.
    assert agent_health.this_start(earlier, T0 + 10) is None
    assert agent_health.this_start(["2025/01/01 00:00:09 I! Config has been translated"], T0) is None


def test_healthy_after_the_ready_line_and_the_settle_time():
    host = Host(lambda now: running(), lambda now: [starting(0)] + ([READY] if now >= 3 else []))
    verdict = host.watch(settle=15)
    assert verdict["healthy"] is True
    assert verdict["reason"] is None
    assert 18 <= verdict["seconds"] <= 19
    assert verdict["main_pid"] == "42"


@pytest.mark.parametrize("version, logs_it", [
    ("1.300064.0b1337", True), ("1.300025.0", True), ("2.0.0", True),
    ("1.300024.0", False), ("1.247350.0b251780", False), ("", True), ("unknown", True),
])
def test_releases_before_the_collector_log_no_ready_line(version, logs_it):
    assert agent_health.logs_ready_line(version) is logs_it


def test_an_agent_that_logs_no_ready_line_is_healthy_once_the_same_process_lasts_the_settle_time():
    host = Host(lambda now: running(), lambda now: [starting(0)])
    verdict = agent_health.watch(host.observe, host.lines, 60, 15, host.clock, host.sleep, ready_line=False)
    assert verdict["healthy"] is True and 15 <= verdict["seconds"] <= 16
    host = Host(lambda now: running(restarts="1" if now >= 10 else "0"), lambda now: [starting(0)])
    assert agent_health.watch(host.observe, host.lines, 60, 15, host.clock, host.sleep, ready_line=False)["healthy"] is False


def test_the_logs_only_mode_line_counts_as_the_pipeline_running():
    host = Host(lambda now: running(), lambda now: [starting(0), stamp(0) + " I! running in logs-only mode"])
    assert host.watch(settle=2)["healthy"] is True


def test_an_agent_that_dies_after_the_old_five_seconds_is_not_healthy():
    fatal = stamp(8) + " E! Error running agent: test failure"
    host = Host(lambda now: running() if now < 8 else STOPPED,
                lambda now: [starting(0), READY] + ([fatal] if now >= 8 else []))
    verdict = host.watch(settle=15)
    assert verdict["healthy"] is False
    assert verdict["reason"] == "stopped 8s after its start, having reported running"
    assert agent_health.agent_errors(verdict["section"], []) == [fatal]


def test_a_restart_by_systemd_is_not_healthy_even_if_the_agent_runs_again():
    host = Host(lambda now: running() if now < 6 else running(pid="77", restarts="1"), lambda now: [starting(0), READY])
    verdict = host.watch()
    assert verdict["healthy"] is False
    assert "main PID 42, then 77; restarts 0, then 1" in verdict["reason"]


def test_running_without_the_ready_line_of_this_start_times_out():
    # The ready line is an earlier start's: the current process started at 10 s and wrote only its first line.
    host = Host(lambda now: running(started=T0 + 10), lambda now: [starting(0), READY, starting(10)])
    verdict = host.watch(timeout=20)
    assert verdict["healthy"] is False
    assert "no running pipeline for this start within 20s" in verdict["reason"]


def test_never_running_times_out():
    verdict = Host(lambda now: STOPPED, lambda now: []).watch(timeout=6)
    assert verdict["healthy"] is False
    assert verdict["reason"] == "did not report running within 6s"
    assert verdict["main_pid"] is None


def test_a_start_delay_is_waited_for():
    host = Host(lambda now: running(), lambda now: [starting(0)] + ([READY] if now >= 12 else []))
    verdict = host.watch(timeout=20, settle=0)
    assert verdict["healthy"] is True
    assert verdict["seconds"] == 12


def test_error_lines_include_the_real_port_clash_text_without_a_level():
    lines = [
        "2025-01-01T00:00:01Z I! Started the statsd service on statsd.test:28126",
        READY,
        "2025-01-01T00:00:01Z I! ERROR: ListenUDP - listen udp 127.0.0.2:28126: bind: address already in use",
        "2025-01-01T00:00:01Z I! [agent] Hang on, flushing any cached metrics before shutdown",
    ]
    assert agent_health.error_lines(lines) == [lines[2]]


def test_errors_fall_back_to_the_journal_then_to_its_last_line():
    assert agent_health.agent_errors([], ["x", "E! Cannot translate JSON", "y"]) == ["E! Cannot translate JSON"]
    assert agent_health.agent_errors([], ["starting", "Main process exited, code=exited, status=1/FAILURE"]) == [
        "Main process exited, code=exited, status=1/FAILURE"]
    assert agent_health.agent_errors([], []) == []


def test_error_lines_keep_the_last_few_distinct_ones_in_order():
    lines = ["E! a", "E! b", "E! a", "E! c", "E! d"]
    assert agent_health.error_lines(lines, limit=3) == ["E! a", "E! c", "E! d"]


def test_log_tail_reads_the_end_of_a_plain_file(tmp_path, monkeypatch):
    log = tmp_path / "agent.log"
    log.write_text("".join("line %d\n" % n for n in range(100)))
    monkeypatch.setattr(agent_health, "TAIL_BYTES", 40)
    lines = agent_health.log_tail(str(log))
    assert lines[-1] == "line 99"
    assert "line 0" not in lines
    assert all(line.startswith("line ") for line in lines)  # the cut first line is dropped


@pytest.mark.parametrize("plant", ["symlink", "hardlink"])
def test_log_tail_reads_nothing_through_a_planted_link(tmp_path, plant):
    secret = tmp_path / "shadow"
    secret.write_text("root:E! secret-hash\n")
    log = tmp_path / "logs" / "agent.log"
    log.parent.mkdir()
    if plant == "symlink":
        log.symlink_to(secret)
    else:
        os.link(str(secret), str(log))
    assert agent_health.log_tail(str(log)) == []


def test_log_tail_of_a_missing_file_is_empty(tmp_path):
    assert agent_health.log_tail(str(tmp_path / "none" / "agent.log")) == []


def test_an_agent_that_exits_before_it_is_seen_running_fails_at_once_with_its_error():
    clash = stamp(1) + " I! ERROR: ListenUDP - listen udp 127.0.0.2:28126: bind: address already in use"
    exited = {"running": False, "pid": "0", "restarts": "0", "started": T0, "exited": True, "exit_status": "1"}
    host = Host(lambda now: exited, lambda now: [starting(0), READY, clash])
    verdict = host.watch(timeout=60)
    assert verdict["healthy"] is False
    assert verdict["reason"] == "exited (status 1) before it reported running"
    assert verdict["seconds"] == 0
    assert agent_health.agent_errors(verdict["section"], []) == [clash]


def test_an_earlier_starts_errors_are_not_quoted():
    old = [starting(0), stamp(1) + " E! an earlier start's error"]
    verdict = Host(lambda now: dict(STOPPED, started=T0 + 10), lambda now: old).watch(timeout=3)
    assert verdict["reason"] == "did not report running within 3s"
    assert agent_health.agent_errors(verdict["section"], ["Started amazon-cloudwatch-agent.service"]) == [
        "Started amazon-cloudwatch-agent.service"]
