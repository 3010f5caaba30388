# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generated reference pages (docs/roles, docs/modules) match the code they are generated from."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tests" / "tools" / "gen-docs.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("gen_docs", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_up_to_date():
    completed = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_role_variable_and_module_option_has_a_row():
    tool = load_tool()
    iam = tool.role_page(ROOT / "roles" / "iam")
    for variable in ("cloudwatch_iam_roles", "cloudwatch_iam_users[].access_key_store", "cloudwatch_iam_key_max_age_days"):
        assert f"| `{variable}` |" in iam
    assert "## Entry point `rotate`" in iam


def test_markup_becomes_markdown():
    tool = load_tool()
    text = "O(name=x) with V(true), M(observability.cloudwatch.agent_facts), M(amazon.aws.s3_object), L(docs, https://a.b/c) I(it)"
    assert tool.markup(text, modules="") == (
        "`name=x` with `true`, [`observability.cloudwatch.agent_facts`](agent_facts.md), `amazon.aws.s3_object`, [docs](https://a.b/c) *it*"
    )


def test_a_stale_page_is_reported(tmp_path, monkeypatch):
    tool = load_tool()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    (tmp_path / "docs" / "roles").mkdir(parents=True)
    (tmp_path / "docs" / "modules").mkdir(parents=True)
    (tmp_path / "docs" / "roles" / "iam.md").write_text("old\n")
    (tmp_path / "docs" / "modules" / "gone.md").write_text("a module that no longer exists\n")
    assert tool.stale({"docs/roles/iam.md": "new\n"}) == ["docs/modules/gone.md", "docs/roles/iam.md"]
