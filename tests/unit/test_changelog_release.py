# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A dry release of 0.1.0: antsibull-changelog, run on a copy, writes the CHANGELOG.rst a release would ship."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(sys.executable).parent / "antsibull-changelog"
# What antsibull-changelog reads: the fragments and config, the collection's identity, and what it documents.
NEEDED = ("changelogs", "galaxy.yml", "meta", "plugins", "roles", "playbooks")


def documentation(path):
    """The DOCUMENTATION of a plugin file, parsed."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(node.value.value)
    return None


def plugins(kind):
    """{name: short_description} of the collection's plugins of one kind."""
    found = {}
    for path in sorted((ROOT / "plugins" / kind).glob("*.py")):
        doc = documentation(path)
        if doc:
            found[doc.get("name", path.stem)] = doc["short_description"]
    return found


def roles():
    found = {}
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        found[spec.parents[1].name] = yaml.safe_load(spec.read_text())["argument_specs"]["main"]["short_description"]
    return found


def fragments():
    return [yaml.safe_load(path.read_text()) for path in sorted((ROOT / "changelogs" / "fragments").glob("*.yml"))]


def flat(text):
    """The text with its line breaks folded and RST's escapes (``on\\-premises``) undone."""
    return " ".join(text.replace("\\", "").split())


def snapshot():
    return {p: p.read_bytes() for p in sorted((ROOT / "changelogs").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """CHANGELOG.rst of a dry release of 0.1.0, made in a copy of the collection; the checkout is left as it was."""
    before = snapshot()
    top = tmp_path_factory.mktemp("release")
    copy = top / "ansible_collections" / "observability" / "cloudwatch"
    for name in NEEDED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", ".plugin-cache.yaml"))
        else:
            copy.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(top), PYTHONPATH=str(top))
    completed = subprocess.run(
        [str(TOOL), "release", "--version", "0.1.0", "--date", "2026-12-01", "--reload-plugins"],
        cwd=copy, env=env, capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert snapshot() == before, "the dry release changed the checkout's changelogs/"
    return (copy / "CHANGELOG.rst").read_text()


def test_the_release_lists_every_module_plugin_and_role_with_its_short_description(released):
    text = flat(released)
    expected = {
        "New Modules": plugins("modules"),
        "Lookup": plugins("lookup"),
        "Filter": plugins("filter"),
        "New Roles": roles(),
    }
    assert all(expected.values()), expected
    for heading, entries in expected.items():
        assert heading in released, heading
        for name, description in entries.items():
            assert f"observability.cloudwatch.{name} - {flat(description)}" in text, (heading, name)


def test_the_release_announces_every_playbook(released):
    announced = {entry["name"]: entry["description"]
                 for fragment in fragments() for entry in fragment.get("add object.playbook", [])}
    shipped = {path.stem for path in (ROOT / "playbooks").glob("*.yml")}
    assert set(announced) == shipped
    assert "New Playbooks" in released
    for name, description in announced.items():
        assert f"observability.cloudwatch.{name} - {flat(description)}" in flat(released), name


def test_the_release_has_each_section_the_fragments_fill(released):
    config = yaml.safe_load((ROOT / "changelogs" / "config.yaml").read_text())
    titles = dict(config["sections"])
    used = {section for fragment in fragments() for section in fragment if section in titles}
    assert used >= {"major_changes", "minor_changes", "security_fixes", "bugfixes"}
    for section in used:
        assert titles[section] in released, section
    assert "v0.1.0" in released


def test_no_fragment_announces_a_module_plugin_or_role():
    """antsibull-changelog derives those from version_added; a fragment saying so would list them twice."""
    for fragment in fragments():
        for section, entries in fragment.items():
            if section.startswith("add "):
                assert section == "add object.playbook", section
                continue
            for entry in entries if isinstance(entries, list) else []:
                assert " - new module" not in entry and " - new role" not in entry and " - new filter" not in entry, entry
                assert " - new lookup" not in entry and not entry.startswith("New module"), entry
