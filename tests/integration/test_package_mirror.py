# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's download path against a local mirror laid out like AWS's bucket (tests/tools/package_mirror.py).

The role runs in check mode on this machine: the controller's steps run for real (resolving `latest`, the download
into the controller's cache, the signature check against the pinned throw-away key) and nothing is installed here.
The mirror records every path asked for, so each test says what was downloaded; the host's agent paths must be
unchanged after every run, failed or not.
"""

import shutil
from pathlib import Path

import pytest
import yaml

from package_mirror import VERSIONS, Mirror, build, export_key, make_key, set_latest, stop_agent  # tests/tools

pytestmark = pytest.mark.skipif(not (shutil.which("dpkg-deb") and shutil.which("gpg")), reason="needs dpkg-deb and gpg")

OLD, NEW = VERSIONS
HOST_PATHS = ("/opt/aws", "/etc/amazon", "/etc/observability.cloudwatch", "/var/lib/observability.cloudwatch",
              "/etc/systemd/system/amazon-cloudwatch-agent.service")
PACKAGE = "/debian/amd64/{0}/amazon-cloudwatch-agent.deb"
TASK = "observability.cloudwatch.agent : "


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("bucket")
    return root, build(root)


@pytest.fixture
def mirror(layout, tmp_path):
    """A fresh copy of the bucket for each test, which may change it."""
    root = tmp_path / "bucket"
    shutil.copytree(layout[0], root)
    with Mirror(root) as served:
        served.fingerprint = layout[1]
        yield served


def host_state():
    return {path: Path(path).exists() for path in HOST_PATHS}


def role(ansible, tmp_path, mirror, expect_failure=False, **variables):
    base = {
        "cloudwatch_agent_mode": "ec2",
        "cloudwatch_agent_config_source": "inline",
        "cloudwatch_agent_config": {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}},
        "cloudwatch_agent_package_base_url": mirror.url,
        "cloudwatch_agent_allow_http_download": True,
        "cloudwatch_agent_gpg_key_url": mirror.url + "/assets/amazon-cloudwatch-agent.gpg",
        "cloudwatch_agent_gpg_fingerprint": mirror.fingerprint,
        "cloudwatch_agent_local_cache_path": str(tmp_path / "cache"),
    }
    base.update(variables)
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "Apply the agent role", "ansible.builtin.include_role": {"name": "observability.cloudwatch.agent"},
                        "vars": base}]}]
    playbook = tmp_path / "mirror.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    before = host_state()
    run = ansible.playbook(playbook, check=True, expect_failure=expect_failure)
    assert host_state() == before, "the run changed this host's agent paths"
    return run


def fetched(run):
    return run.result(TASK + "Fetch and verify the package on the controller")


def failure(run):
    for play in run.report.get("plays", []):
        for task in play.get("tasks", []):
            outcome = task["hosts"].get("localhost", {})
            if outcome.get("failed"):
                return outcome.get("msg", "")
    raise AssertionError("nothing failed:\n" + run.output)


def test_latest_is_resolved_downloaded_once_and_verified(ansible, tmp_path, mirror):
    run = role(ansible, tmp_path, mirror, cloudwatch_agent_version="latest")
    package = fetched(run)
    assert package["path"] == str(tmp_path / "cache" / NEW / "debian" / "amd64" / "amazon-cloudwatch-agent.deb")
    assert package["downloaded"] is True
    assert mirror.requests[0] == "/info/latest/CWAGENT_VERSION"
    assert mirror.downloads() == [PACKAGE.format(NEW), PACKAGE.format(NEW) + ".sig"]
    assert "/assets/amazon-cloudwatch-agent.gpg" in mirror.requests

    # The controller's cache: a second run asks the mirror for the latest version and the key only.
    mirror.requests.clear()
    again = fetched(role(ansible, tmp_path, mirror, cloudwatch_agent_version="latest"))
    assert again["downloaded"] is False and again["sha256"] == package["sha256"]
    assert mirror.downloads() == []


def test_a_pinned_version_is_downloaded_without_asking_for_latest(ansible, tmp_path, mirror):
    package = fetched(role(ansible, tmp_path, mirror, cloudwatch_agent_version=OLD))
    assert package["path"].endswith("/{0}/debian/amd64/amazon-cloudwatch-agent.deb".format(OLD))
    assert "/info/latest/CWAGENT_VERSION" not in mirror.requests
    assert mirror.downloads() == [PACKAGE.format(OLD), PACKAGE.format(OLD) + ".sig"]

    # A cached copy changed since is refused, deleted and downloaded once more.
    Path(package["path"]).write_bytes(b"changed in the cache")
    mirror.requests.clear()
    again = fetched(role(ansible, tmp_path, mirror, cloudwatch_agent_version=OLD))
    assert again["downloaded"] is True and again["sha256"] == package["sha256"]
    assert mirror.downloads() == [PACKAGE.format(OLD), PACKAGE.format(OLD) + ".sig"]


@pytest.mark.parametrize("answer", ["<Error><Code>NoSuchKey</Code></Error>", "../../../etc/passwd", "1.300069.0b1529/x"])
def test_a_malformed_latest_version_is_refused_before_any_download(ansible, tmp_path, mirror, answer):
    set_latest(mirror.root, answer)
    message = failure(role(ansible, tmp_path, mirror, expect_failure=True, cloudwatch_agent_version="latest"))
    assert "The latest agent version read from {0}/info/latest/CWAGENT_VERSION is".format(mirror.url) in message
    assert "not a version such as 1.300069.0b1529" in message
    assert mirror.downloads() == [] and not (tmp_path / "cache").exists()


def test_a_tampered_package_is_refused_and_not_kept(ansible, tmp_path, mirror):
    # The new package with the old package's signature.
    root = Path(mirror.root)
    shutil.copy(root / (PACKAGE.format(OLD)[1:] + ".sig"), root / (PACKAGE.format(NEW)[1:] + ".sig"))
    message = failure(role(ansible, tmp_path, mirror, expect_failure=True, cloudwatch_agent_version=NEW))
    assert "the package is not the one AWS signed with key {0}".format(mirror.fingerprint) in message
    assert "The cached copy was deleted" in message
    # Downloaded once and refused: nothing kept.
    assert mirror.downloads() == [PACKAGE.format(NEW), PACKAGE.format(NEW) + ".sig"]
    assert not list((tmp_path / "cache").rglob("*.deb"))


def test_a_key_other_than_the_pinned_one_is_refused(ansible, tmp_path, mirror):
    home = tmp_path / "other-gnupg"
    other = make_key(home, "someone else")
    (Path(mirror.root) / "assets" / "amazon-cloudwatch-agent.gpg").write_bytes(export_key(home))
    stop_agent(home)
    message = failure(role(ansible, tmp_path, mirror, expect_failure=True, cloudwatch_agent_version=NEW))
    assert "has fingerprint {0}, not the pinned {1} (cloudwatch_agent_gpg_fingerprint)".format(other, mirror.fingerprint) in message


def test_http_is_refused_unless_allowed_and_nothing_is_requested(ansible, tmp_path, mirror):
    message = failure(role(ansible, tmp_path, mirror, expect_failure=True, cloudwatch_agent_version="latest",
                           cloudwatch_agent_allow_http_download=False))
    assert "cloudwatch_agent_package_base_url is {0}: over plain http".format(mirror.url) in message
    assert "cloudwatch_agent_allow_http_download: true" in message
    assert mirror.requests == []


def test_http_when_allowed_and_no_verification_are_warned_about(ansible, tmp_path, mirror):
    run = role(ansible, tmp_path, mirror, cloudwatch_agent_version=NEW, cloudwatch_agent_package_verify="none")
    warnings = " ".join(run.result(TASK + "Read the agent's state on the host and check the settings").get("warnings", []))
    assert "The agent package is downloaded over plain http from {0}".format(mirror.url) in warnings
    assert "cloudwatch_agent_package_verify is none" in warnings
    # Nothing is verified: no signature is asked for.
    assert mirror.downloads() == [PACKAGE.format(NEW)]


def test_a_package_file_is_checked_for_its_version_before_the_host_is_touched(ansible, tmp_path, mirror):
    package = Path(mirror.root) / PACKAGE.format(OLD)[1:]
    message = failure(role(ansible, tmp_path, mirror, expect_failure=True, cloudwatch_agent_version=NEW,
                           cloudwatch_agent_package_file=str(package)))
    assert ("cloudwatch_agent_package_file {0} holds agent version {1} (package version {1}-1), but "
            "cloudwatch_agent_version is {2}").format(package, OLD, NEW) in message
    # The file of the version asked for is verified with its signature and used; the mirror is not asked.
    used = fetched(role(ansible, tmp_path, mirror, cloudwatch_agent_version=OLD, cloudwatch_agent_package_file=str(package)))
    assert used["path"] == str(package.resolve()) and used["downloaded"] is False
    assert mirror.requests == ["/assets/amazon-cloudwatch-agent.gpg"]
