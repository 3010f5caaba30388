# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection as a user gets it: ``ansible-galaxy collection build`` on a clean copy of the checkout
holds the product and nothing else, and once installed from the tarball alone, with the collections the
``ansible`` package of this environment ships, ``ansible-doc`` shows every module, plugin and role."""

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FQCN = "observability.cloudwatch"

# Measured 396,249 bytes (0.1.0 with the Markdown docs); the bound leaves room to grow, not to ship tests again
# (the tarball with tests, benchmarks and Molecule scenarios was 758,344 bytes).
MAX_TARBALL_BYTES = 600_000

# Everything the tarball may hold, by path inside it.
ALLOWED = re.compile(
    r"""^(?:
        (?:MANIFEST\.json|FILES\.json|README\.md|COPYING|CHANGELOG\.rst)
      | (?:requirements\.txt|bindep\.txt|execution-environment\.yml)
      | meta/(?:runtime|execution-environment)\.yml
      | changelogs/changelog\.yaml
      | plugins/[a-z_]+/[a-z0-9_]+\.(?:py|yml)
      | plugins/plugin_utils/[a-z0-9_]+\.json
      | roles/[a-z_]+/(?:defaults|handlers|meta|tasks|vars|templates|files)/[^/]+
      | playbooks/[a-z0-9_]+\.yml
      | playbooks/templates/[a-z0-9_.]+\.j2
      | examples/site\.yml
      | examples/inventory/(?:group_vars/)?[a-z0-9_]+\.yml
      | docs/(?:[a-z0-9_-]+/)*[A-Za-z0-9_-]+\.md
      | docs/docsite/(?:[a-z0-9_-]+/)*[a-z0-9_-]+\.(?:rst|yml)
      | docs/(?:[a-z0-9_-]+/)*[a-z0-9_-]+\.(?:png|svg)
    )$""",
    re.VERBOSE,
)
IMAGE = re.compile(r"\.(?:png|svg)$")
# An image a page shows: Markdown ![alt](path) or reStructuredText image/figure directives.
PAGE_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.(?:png|svg))\)|\.\. (?:image|figure):: (\S+\.(?:png|svg))")
# Files that must ship besides every tracked runtime file (plugins, roles, playbooks, meta).
REQUIRED = ["README.md", "COPYING", "requirements.txt", "bindep.txt", "execution-environment.yml", "meta/runtime.yml"]
RUNTIME_DIRS = ("plugins/", "roles/", "playbooks/", "meta/")


def _run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, **kwargs)


def _checkout_files():
    """The checkout's tracked files and new files not ignored, as a clean clone plus the work in progress has them."""
    out = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO)
    assert out.returncode == 0, out.stderr
    return sorted(f for f in out.stdout.split("\0") if f and (REPO / f).is_file())


@pytest.fixture(scope="module")
def checkout_files():
    return _checkout_files()


@pytest.fixture(scope="module")
def tarball(tmp_path_factory, checkout_files):
    source = tmp_path_factory.mktemp("source") / "cloudwatch"
    for name in checkout_files:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name).read_bytes())
    output = tmp_path_factory.mktemp("dist")
    built = _run([str(BIN / "ansible-galaxy"), "collection", "build", str(source), "--output-path", str(output)])
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = output.glob("observability-cloudwatch-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def contents(tarball):
    with tarfile.open(tarball) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tarball):
    """A fresh collections directory holding only the installed tarball; the subprocess environment that uses it
    (no PYTHONPATH to the checkout's link, so amazon.aws and community.general come from the ansible package)."""
    collections = tmp_path_factory.mktemp("collections")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cwd = tmp_path_factory.mktemp("cwd")
    done = _run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(collections),
         str(tarball)],
        env=env, cwd=cwd,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    root = collections / "ansible_collections" / "observability" / "cloudwatch"
    assert (root / "MANIFEST.json").is_file()
    return root, env, cwd


def test_tarball_ships_only_the_product(contents):
    assert sorted(n for n in contents if not ALLOWED.match(n)) == []


def test_tarball_ships_every_runtime_file(contents, checkout_files):
    wanted = [f for f in checkout_files if f.startswith(RUNTIME_DIRS)] + REQUIRED
    if (REPO / "CHANGELOG.rst").is_file():
        wanted.append("CHANGELOG.rst")
    if (REPO / "changelogs" / "changelog.yaml").is_file():
        wanted.append("changelogs/changelog.yaml")
    assert [f for f in wanted if f not in contents] == []
    # the files that name the modules, roles and playbooks a user calls
    assert any(n.startswith("plugins/modules/") for n in contents)
    assert {n.split("/")[1] for n in contents if n.startswith("roles/")} == {"agent", "config", "iam"}
    assert "playbooks/site.yml" in contents


def test_tarball_ships_an_image_only_where_a_shipped_page_shows_it(contents):
    shown = set()
    for name, data in contents.items():
        if name.endswith((".md", ".rst")):
            for match in PAGE_IMAGE.finditer(data.decode()):
                shown.add(os.path.normpath(os.path.join(os.path.dirname(name), match.group(1) or match.group(2))))
    shipped = {n for n in contents if IMAGE.search(n)}
    assert shipped == shown


def test_tarball_stays_small(tarball):
    assert tarball.stat().st_size < MAX_TARBALL_BYTES


def test_installed_files_match_the_manifest(installed, contents):
    # FILES.json is what ansible-galaxy verifies an installed collection against
    root = installed[0]
    listed = {e["name"] for e in json.loads(contents["FILES.json"])["files"] if e["ftype"] == "file"}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"MANIFEST.json", "FILES.json"}
    assert on_disk == listed


def _doc(installed, plugin_type, names):
    root, env, cwd = installed
    shown = _run([str(BIN / "ansible-doc"), "-t", plugin_type, *names], env=env, cwd=cwd)
    return root, shown


def _names(plugin_type):
    return sorted(
        f"{FQCN}.{p.stem}" for p in (REPO / "plugins" / plugin_type).glob("*.py") if p.stem != "__init__"
    )


@pytest.mark.parametrize("plugin_type", ["module", "lookup", "filter"])
def test_installed_plugins_render_without_error_or_warning(installed, plugin_type):
    names = _names(plugin_type if plugin_type != "module" else "modules")
    assert names
    root, shown = _doc(installed, plugin_type, names)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ""
    headings = re.findall(r"^> \S+ (\S+) \((.+)\)$", shown.stdout, re.MULTILINE)
    # each one rendered, from the installed tarball
    assert sorted(h[0] for h in headings) == names
    assert {Path(h[1]).parent.parent.parent for h in headings} == {root}


# ansible-core 2.21 warns about its own internal collection whenever it lists role documentation.
CORE_ROLE_DOC_WARNING = re.compile(
    r"^\[WARNING\]: Collection at '[^']*/ansible/_internal/ansible_collections/ansible/_protomatter' does not have a "
    r"MANIFEST\.json file, nor has it galaxy\.yml: cannot detect version\.$"
)


def test_installed_roles_render_without_error_or_warning(installed):
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
    assert roles
    root, shown = _doc(installed, "role", [f"{FQCN}.{r}" for r in roles])
    assert shown.returncode == 0, shown.stderr
    assert [line for line in shown.stderr.splitlines() if not CORE_ROLE_DOC_WARNING.match(line)] == []
    # without colour ansible-doc marks names with asterisks; roles come in no fixed order
    sections = re.split(r"^> ROLE: \*?(\S+?)\*? \((.+)\)$", shown.stdout, flags=re.MULTILINE)[1:]
    shown_roles = {}
    for name, path, text in zip(sections[::3], sections[1::3], sections[2::3]):
        assert path == str(root), name
        shown_roles[name] = sorted(re.findall(r"^ENTRY POINT: \*?(\S+?)\*? - ", text, re.MULTILINE))
    # every entry point of every role
    expected = {}
    for role in roles:
        spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
        expected[f"{FQCN}.{role}"] = sorted(spec["argument_specs"])
    assert shown_roles == expected
