# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Molecule scenarios run with plain ``molecule test``: nothing they read may come from an environment
that only a wrapper script would set, and every image they name can be built by their create."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MOLECULE = ROOT / "extensions" / "molecule"
FILES = sorted(MOLECULE.rglob("*.yml"))
SCENARIOS = sorted(p.parent for p in MOLECULE.glob("*/molecule.yml"))
# The files Molecule itself reads and interpolates (playbooks are Ansible's).
CONFIGS = [MOLECULE / "config.yml"] + [scenario / "molecule.yml" for scenario in SCENARIOS]


def provisioner_env():
    return yaml.safe_load((MOLECULE / "config.yml").read_text())["provisioner"]["env"]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(MOLECULE)))
def test_interpolated_variables_are_set_by_molecule_or_have_a_default(path):
    for name, default in re.findall(r"\$\{(\w+)(:-[^}]*)?\}", path.read_text()):
        assert name.startswith("MOLECULE_") or default, f"{path}: ${{{name}}} is set by no one under plain molecule"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(MOLECULE)))
def test_environment_lookups_read_what_molecule_or_the_shared_config_sets(path):
    known = set(provisioner_env())
    for name in re.findall(r"lookup\('(?:ansible\.builtin\.)?env', '(\w+)'\)", path.read_text()):
        assert name.startswith("MOLECULE_") or name in known, f"{path}: {name} is set by no one under plain molecule"


def test_the_shared_config_is_found_from_the_root_and_from_extensions():
    # Molecule looks for .config/molecule/config.yml at the repository's root whatever the working directory.
    assert (ROOT / ".config" / "molecule" / "config.yml").resolve() == MOLECULE / "config.yml"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_every_image_a_scenario_names_has_a_recipe(scenario):
    recipes = (ROOT / "tests" / "tools" / "podman-setup.sh").read_text()
    recipe_names = re.search(r"image_recipe\(\) \{\n    case .*?\n    esac", recipes, re.S).group(0)
    for platform in yaml.safe_load((scenario / "molecule.yml").read_text())["platforms"]:
        assert f"\n    {platform['image']})" in recipe_names, f"{scenario.name}: no recipe builds {platform['image']}"


def test_make_molecule_runs_every_scenario():
    # make molecule and make test run tests/tools/molecule.sh with no argument: its default list.
    script = (ROOT / "tests" / "tools" / "molecule.sh").read_text()
    default = re.search(r"\|\| SCENARIOS=\(([^)]*)\)", script).group(1).split()
    assert sorted(default) == sorted(scenario.name for scenario in SCENARIOS)
    assert len(default) == len(set(default)), "a scenario runs twice"
