# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the benchmarks' report: from a small results file it writes the page with its verdicts.

The benchmarks themselves (make bench) take minutes and containers; this only keeps the report code working.
"""

import importlib
import importlib.util
import sys
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
    if importlib.util.find_spec("matplotlib") is None:
        # make bench installs matplotlib (benchmarks/requirements.txt); make test need not: check the page only.
        monkeypatch.setattr(module, "plot", lambda results: None)
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
