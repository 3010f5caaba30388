# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the benchmarks' report: from a small results file it writes the page with its verdicts.

The benchmarks themselves (make bench) take minutes and containers; this only keeps the report code working.
"""

import importlib
import importlib.util
import sys
from types import SimpleNamespace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def report(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("common", "report"):
        sys.modules.pop(name, None)
    common = importlib.import_module("common")
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results.json")
    module = importlib.import_module("report")
    monkeypatch.setattr(module, "load_results", common.load_results)
    monkeypatch.setattr(module, "DOC", tmp_path / "performance.md")
    monkeypatch.setattr(module, "PNG", tmp_path / "performance.png")
    yield common, module
    for name in ("common", "report"):
        sys.modules.pop(name, None)


def _variant(first, noop):
    def phase(calls):
        return {"calls": calls, "total": sum(calls.values()),
                "writes": sum(n for op, n in calls.items() if not op.startswith(("Get", "List"))),
                "calls_stable": True, "seconds_median": 1.0, "samples": [{"load": 0.5, "seconds": 1.0}]}
    return {"first": phase(first), "noop": phase(noop)}


def test_report_states_the_verdicts(report):
    common, module = report
    common.save_results("iam", {"repetitions": 1, "same_end_state": True, "variants": {
        "collection": _variant({"CreateRole": 1, "GetRole": 1}, {"GetRole": 1, "GetInstanceProfile": 1}),
        "amazon.aws": _variant({"CreateRole": 1, "GetRole": 3}, {"GetRole": 4, "GetInstanceProfile": 2})}})
    common.save_results("ssm", [{"hosts": n, "case": "agents.yml, first play", "serial": "-", "plays_or_batches": 2,
                                 "get_parameter": 2, "parameters": 2, "calls": {}, "seconds": 1.0, "load": 0.5}
                                for n in (1, 10)])
    module.write()
    page = module.DOC.read_text()
    assert "only reads: **met**" in page
    assert "at most half of (b)'s calls: **met**" in page
    assert "exactly one read per parameter per run in controller mode whatever N and batch size:\n**met**" in page
    assert "![IAM calls, Parameter Store reads and fleet run time](performance.png)" in page
    if importlib.util.find_spec("matplotlib") is not None:
        assert module.PNG.stat().st_size > 1000


def test_report_says_when_a_target_is_missed(report):
    common, module = report
    common.save_results("ssm", [{"hosts": 10, "case": "fetch_parameters per batch", "serial": "1", "plays_or_batches": 10,
                                 "get_parameter": 20, "parameters": 2, "calls": {}, "seconds": 1.0, "load": 0.5}])
    module.write()
    assert "whatever N and batch size:\n**missed**" in module.DOC.read_text()


def _run(seconds, load=0.5, changed=0, host_tasks=2, attempt_loads=None):
    return {"seconds": seconds, "load": load, "changed": changed, "host_tasks": host_tasks,
            "attempt_loads": attempt_loads or [load], "tasks": [["observability.cloudwatch.agent : Check", 1.0]]}


def _size(n, noop, floor, host_tasks=2, loads=(0.5, 0.5)):
    return {"forks": n, "floor_before": _run(floor), "first": _run(noop * 4, changed=3 * n, host_tasks=9),
            "noop": [_run(noop, load=load, host_tasks=host_tasks, attempt_loads=[3.1, load] if load > 2 else None)
                     for load in loads],
            "floor": [_run(floor), _run(floor)], "noop_median": noop, "floor_median": floor,
            "ratio_noop_to_floor": round(noop / floor, 2), "ratio_first_to_floor": round(noop * 4 / floor, 2)}


def _key_store(reads):
    return dict(_run(10.0), hosts=5, store="ssm:/cloudwatch-agent/keys/cw-bench-fleet", serial="100%",
                get_parameter_key=reads, get_parameter=reads + 1, first_get_parameter_key=reads, first_changed=0)


def _fleet_row(page, n):
    return next(line for line in page.splitlines() if line.startswith(f"| {n} | {n} |"))


def test_report_states_the_fleet_targets(report):
    common, module = report
    common.save_results("fleet", {"sizes": {"5": _size(5, 12.0, 10.0), "10": _size(10, 16.0, 12.0),
                                            "20": _size(20, 26.0, 20.0)},
                                  "experiments": {}, "ssm": [], "key_store": _key_store(1)})
    module.write()
    page = module.DOC.read_text()
    for n in (5, 10, 20):
        assert _fleet_row(page, n).count("**met**") == 2
    assert "at most 1.5× the floor at each N, at every N: **met**" in page
    # growth 26/12 = 2.17 against the floor's 2.0 × 1.1 = 2.2
    assert "Growth from 5 to 20 hosts: no-change run ×2.17, floor ×2.00" in page
    assert "(×2.20): **met**" in page
    assert "at most\n2 tasks reaching each host: **met**" in page
    assert "| 5 | **1** | 2 | 2 | 10.0 |" in page
    assert "1 read of the key for the whole run: **met**" in page
    assert "Every measurement was taken at a load of at most 2." in page
    assert "it reads the host once" in page and "skipped on the controller" not in page


def test_report_says_which_fleet_targets_are_missed(report):
    common, module = report
    common.save_results("fleet", {"sizes": {"5": _size(5, 12.0, 10.0), "10": _size(10, 16.0, 12.0),
                                            "20": _size(20, 32.0, 20.0, host_tasks=3, loads=(0.5, 2.5))},
                                  "experiments": {}, "ssm": [], "key_store": _key_store(5)})
    module.write()
    page = module.DOC.read_text()
    assert _fleet_row(page, 5).count("**met**") == 2
    assert "| **1.6** | **missed** | 3 | **missed** |" in _fleet_row(page, 20)
    assert "at every N: **missed**" in page
    assert "(×2.20): **missed**" in page
    assert "at most\n2 tasks reaching each host: **missed**" in page
    assert "1 read of the key for the whole run: **missed** (5 for 5 hosts" in page
    # the median kept one run at 2.5 after an attempt at 3.1: the page says so
    assert "* N = 20: measured only above load 2: no change 2 (3.1, 2.5)." in page


def test_report_does_not_judge_sizes_it_did_not_measure(report):
    common, module = report
    common.save_results("fleet", {"sizes": {"2": _size(2, 12.0, 10.0)}, "experiments": {}, "ssm": [],
                                  "key_store": None})
    module.write()
    page = module.DOC.read_text()
    assert "not measured at N = 5, 10, 20 in this run, so not judged for the whole target" in page
    assert "were not measured in this run" in page


def test_a_measurement_above_the_load_limit_is_repeated_and_the_quietest_kept(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("common", "fleet"):
        sys.modules.pop(name, None)
    fleet = importlib.import_module("fleet")
    loads = iter([4.0, 2.5, 3.0])
    monkeypatch.setattr(fleet, "wait_for_load", lambda: None)
    monkeypatch.setattr(fleet, "_measure_once", lambda *args: {"load": next(loads), "seconds": 1.0})
    row = fleet._measure(None, {}, 5, "noop", [])
    assert row["load"] == 2.5 and row["attempt_loads"] == [4.0, 2.5, 3.0]

    loads = iter([3.0, 1.5, 9.9])
    assert fleet._measure(None, {}, 5, "noop", [])["attempt_loads"] == [3.0, 1.5]

    loads = iter([3.0, 1.5])
    assert fleet._measure(None, {}, 5, "first", [], repeatable=False)["attempt_loads"] == [3.0]
    for name in ("common", "fleet"):
        sys.modules.pop(name, None)


def test_host_tasks_counts_only_what_reached_the_host():
    spec = importlib.util.spec_from_file_location("host_tasks", BENCH / "callback_plugins" / "host_tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    callback = module.CallbackModule()

    def result(action, outcome, step=None, delegate_to=None):
        task = SimpleNamespace(action=action, delegate_to=delegate_to, args={"step": step} if step else {})
        return SimpleNamespace(_task=task, _host=SimpleNamespace(get_name=lambda: "web1"), _result=outcome)

    configure = "observability.cloudwatch.agent_configure"
    callback.v2_runner_on_ok(result("ansible.builtin.setup", {}))
    callback.v2_runner_on_ok(result(configure, {"changed": False}, step="read", delegate_to="localhost"))
    callback.v2_runner_on_ok(result(configure, {"changed": False, "ansible_facts": {}}, step="check"))
    callback.v2_runner_on_ok(result(configure, {"changed": False, "applied": False}, step="apply"))
    callback.v2_runner_on_ok(result("ansible.builtin.set_fact", {}))
    assert callback.counts == {"web1": 2}
    callback.v2_runner_on_ok(result(configure, {"changed": True, "applied": False}, step="apply"))
    callback.v2_runner_on_ok(result(configure, {"changed": False, "ansible_facts": {"cloudwatch_agent": {}}}, step="apply"))
    assert callback.counts == {"web1": 4}
