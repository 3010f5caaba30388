# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tested support matrix, its two ends (`make test` runs both; `nox -s oldest` runs one):

- ``newest``: the current ``ansible`` release (test-requirements.txt) in the default environment ``.venv``,
  every test layer (lint, docs, unit, integration, sanity, Molecule) through the Makefile.
- ``oldest``: the oldest maintained ansible-core with the amazon.aws and community.general its ``ansible``
  release ships, on Python 3.11, boto3 and botocore at requirements.txt's floors (tests/requirements-oldest.txt):
  unit, sanity and the module-level integration tests.
"""

from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
COLLECTIONS = ROOT / "build" / "collections"

nox.options.sessions = ["oldest", "newest"]
nox.options.error_on_missing_interpreters = True

# The integration tests that run single modules and lookups against the local AWS. They cover what differs
# between the ends (amazon.aws module utils, boto3/botocore floors, the module and lookup APIs of the core,
# module_defaults groups) within the few minutes the matrix may add. The role and playbook tests, the ones that
# need containers or a browser, and agent_iam_user's, exporter_access's and the access_key module's (IAM users, roles,
# keys and stores, through the same amazon.aws and boto3 calls as agent_iam_role and the access_key lookup here) run on
# the newest end only.
MODULE_LEVEL_INTEGRATION = [
    "tests/integration/test_access_key_lookup.py",
    "tests/integration/test_agent_config.py",
    "tests/integration/test_agent_iam_role.py",
    "tests/integration/test_caller_guard.py",
    "tests/integration/test_module_defaults.py",
    "tests/integration/test_secrets_in_results.py",
    "tests/integration/test_status_sources.py",
]

# The sanity tests whose verdict depends on the core: what it imports, how it reads module documentation,
# argument specs and meta/runtime.yml, and Python 3.11's syntax. The others (pylint, pep8, yamllint, shellcheck
# and the file checks) look at the code itself, not at how a core runs it: they run on the newest end.
CORE_SANITY_TESTS = ["action-plugin-docs", "ansible-doc", "compile", "import", "runtime-metadata", "validate-modules"]

# The dry release needs antsibull-changelog, a development tool pinned once, at the newest end.
NEWEST_ONLY_UNIT = ["tests/unit/test_changelog_release.py"]


def _collection_env():
    """Ansible finds this checkout as observability.cloudwatch under build/collections."""
    link = COLLECTIONS / "ansible_collections" / "observability" / "cloudwatch"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != ROOT:
        if link.is_symlink():
            link.unlink()
        link.symlink_to(ROOT)
    return {
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "PYTHONPATH": str(COLLECTIONS),
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
    }


@nox.session(python="3.11", venv_backend="venv")
def oldest(session):
    env = _collection_env()
    session.install("--disable-pip-version-check", "-q", "pip==24.2")
    session.install("--disable-pip-version-check", "-q", "-r", "tests/requirements-oldest.txt")
    ignores = [f"--ignore={path}" for path in NEWEST_ONLY_UNIT]
    session.run("python", "-m", "pytest", "-q", "-n", "2", "tests/unit", *ignores, env=env)
    session.run("python", "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", *MODULE_LEVEL_INTEGRATION, env=env)
    # the Makefile's sanity run, in this environment (`-o env`: its default environment is not needed)
    sanity_args = " ".join(f"--test {name}" for name in CORE_SANITY_TESTS)
    session.run("make", "--no-print-directory", "-o", "env", f"VENV={session.virtualenv.location}",
                f"SANITY_ARGS={sanity_args}", "sanity", external=True, env=env)


@nox.session(python=False)
def newest(session):
    session.run("make", "--no-print-directory", "lint", "docs", "unit", "integration", "sanity", "molecule", external=True)
