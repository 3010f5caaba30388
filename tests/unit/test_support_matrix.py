# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection declares it supports contains what this environment runs.

Both ends of the tested matrix (noxfile.py) run these tests, each with the amazon.aws and community.general its
``ansible`` release ships: a release outside galaxy.yml's ranges, or a core outside ``requires_ansible``, fails
here before its users meet a dependency conflict.
"""

import importlib.util
import json
import re
from pathlib import Path

import ansible.release
import boto3
import botocore
import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
RUNTIME = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())


def pins(path):
    """``name==version`` lines of a requirements or constraints file, by lower-case name."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def floors(path):
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)>=(\S+)$", path.read_text(), re.M))


def installed_collection_version(name):
    """The version in the MANIFEST.json of the collection this environment imports as ``name``."""
    namespace, collection = name.split(".")
    spec = importlib.util.find_spec(f"ansible_collections.{namespace}.{collection}")
    assert spec is not None, f"{name} is not installed in this environment"
    manifest = Path(list(spec.submodule_search_locations)[0]) / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


OLDEST = pins(REPO / "tests" / "requirements-oldest.txt")
NEWEST = pins(REPO / "test-requirements.txt")
RUNNING_OLDEST_END = ansible.release.__version__ == OLDEST["ansible-core"]


@pytest.mark.parametrize("name", sorted(GALAXY["dependencies"]))
def test_galaxy_range_contains_the_installed_collection(name):
    version = installed_collection_version(name)
    assert meets_requirements(version, GALAXY["dependencies"][name]), (
        f"galaxy.yml allows {name} {GALAXY['dependencies'][name]}, this environment has {version}"
    )


@pytest.mark.skipif(not RUNNING_OLDEST_END, reason="the oldest end of the matrix says where the ranges start")
@pytest.mark.parametrize("name", sorted(GALAXY["dependencies"]))
def test_galaxy_range_starts_at_the_oldest_tested_release(name):
    assert GALAXY["dependencies"][name].startswith(f">={installed_collection_version(name)},")


def test_requires_ansible_contains_the_running_core():
    assert SpecifierSet(RUNTIME["requires_ansible"]).contains(ansible.release.__version__)


def test_requires_ansible_starts_at_the_oldest_tested_core():
    oldest = Version(OLDEST["ansible-core"])
    assert RUNTIME["requires_ansible"] == f">={oldest.major}.{oldest.minor}.0"


def test_the_ends_of_the_matrix_are_different_releases():
    assert Version(NEWEST["ansible-core"]) > Version(OLDEST["ansible-core"])


def test_floors_are_what_the_oldest_end_installs():
    stated = floors(REPO / "requirements.txt")
    assert set(stated) == {"boto3", "botocore", "jsonschema"}
    assert pins(REPO / "tests" / "constraints-floors.txt") == stated


def test_running_boto3_is_at_or_above_the_floors():
    stated = floors(REPO / "requirements.txt")
    assert Version(boto3.__version__) >= Version(stated["boto3"])
    assert Version(botocore.__version__) >= Version(stated["botocore"])
    if RUNNING_OLDEST_END:
        assert (boto3.__version__, botocore.__version__) == (stated["boto3"], stated["botocore"])


def test_execution_environment_runs_the_newest_end():
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert ee["dependencies"]["ansible_core"]["package_pip"] == f"ansible-core=={NEWEST['ansible-core']}"
    collections = {c["name"]: c["version"] for c in ee["dependencies"]["galaxy"]["collections"]}
    for name, requirement in GALAXY["dependencies"].items():
        assert collections[name] == requirement


def test_floors_meet_the_installed_amazon_aws():
    from ansible_collections.amazon.aws.plugins.module_utils import botocore as aws_botocore

    stated = floors(REPO / "requirements.txt")
    assert Version(stated["boto3"]) >= Version(aws_botocore.MINIMUM_BOTO3_VERSION)
    assert Version(stated["botocore"]) >= Version(aws_botocore.MINIMUM_BOTOCORE_VERSION)
