# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent package on the controller: a cache no other user can change, re-download of a bad cached copy, and a
digest computed from the bytes that were verified."""

import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.observability.cloudwatch.plugins.plugin_utils import package_cache
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import PackageCacheError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import PackageVerifyError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import cache_dir
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import resolve

GOOD = b"the package AWS published\n" * 1000
BAD = b"a package someone planted\n"
URL = "https://packages.example/debian/amd64/1.2.3"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Server:
    """fetch(url) for resolve(): serves files from a dict and records each download."""

    def __init__(self, files):
        self.files = files
        self.calls = []

    def __call__(self, url):
        self.calls.append(url)
        if url not in self.files:
            raise PackageCacheError("Cannot download {0}: HTTP Error 404".format(url))
        data = self.files[url]
        yield data[: len(data) // 2]
        yield data[len(data) // 2 :]


def options(tmp_path, **overrides):
    values = {
        "package_file": "",
        "signature_file": "",
        "url": URL,
        "name": "amazon-cloudwatch-agent.deb",
        "cache_path": str(tmp_path / "cache"),
        "cache_subdir": "1.2.3/debian/amd64",
        "verify": "sha256",
        "sha256": sha(GOOD).upper(),
        "gpg_key": "",
        "gpg_key_url": "",
        "fingerprint": "",
    }
    values.update(overrides)
    return values


def cached(tmp_path):
    return tmp_path / "cache" / "1.2.3" / "debian" / "amd64" / "amazon-cloudwatch-agent.deb"


# --- the cache ---------------------------------------------------------------------------------------------


def test_missing_cache_is_created_private(tmp_path):
    directory = cache_dir(str(tmp_path / "cache"), "1.2.3/debian/amd64")
    assert directory == str(tmp_path / "cache" / "1.2.3" / "debian" / "amd64")
    for path in (tmp_path / "cache", tmp_path / "cache" / "1.2.3", tmp_path / "cache" / "1.2.3" / "debian" / "amd64"):
        assert os.stat(path).st_mode & 0o777 == 0o700


def another_user(path):
    """Make path another user's (as root), or pretend to be another user (otherwise): (owner of path, uid to pass)."""
    if os.geteuid() == 0:
        os.lchown(path, 12345, 12345)
        return 12345, None
    return os.lstat(path).st_uid, os.geteuid() + 1


def test_cache_owned_by_another_user_is_refused(tmp_path):
    (tmp_path / "cache").mkdir(mode=0o755)
    owner, uid = another_user(tmp_path / "cache")
    with pytest.raises(PackageCacheError) as e:
        cache_dir(str(tmp_path / "cache"), "1.2.3", uid=uid)
    message = str(e.value)
    assert message.startswith("cloudwatch_agent_local_cache_path {0}:".format(tmp_path / "cache"))
    assert "is owned by {0}".format(owner) in message
    assert "not by you ({0}".format(os.geteuid() if uid is None else uid) in message
    assert "Remove it" in message
    assert not (tmp_path / "cache" / "1.2.3").exists()


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o1777])
def test_cache_writable_by_group_or_others_is_refused(tmp_path, mode):
    (tmp_path / "cache").mkdir()
    os.chmod(tmp_path / "cache", mode)
    with pytest.raises(PackageCacheError) as e:
        cache_dir(str(tmp_path / "cache"), "1.2.3")
    assert "has mode {0:04o}, writable by group or others".format(mode) in str(e.value)
    assert "chmod go-w {0}".format(tmp_path / "cache") in str(e.value)


def test_subdirectory_writable_by_others_is_refused(tmp_path):
    (tmp_path / "cache" / "1.2.3").mkdir(parents=True, mode=0o700)
    os.chmod(tmp_path / "cache" / "1.2.3", 0o777)
    with pytest.raises(PackageCacheError, match="1.2.3 has mode 0777"):
        cache_dir(str(tmp_path / "cache"), "1.2.3/debian")
    assert not (tmp_path / "cache" / "1.2.3" / "debian").exists()


def test_symlinked_component_owned_by_another_user_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    owner, uid = another_user(tmp_path / "link")
    with pytest.raises(PackageCacheError) as e:
        cache_dir(str(tmp_path / "link" / "cache"), "1.2.3", uid=uid)
    assert "{0} is a symbolic link owned by {1}".format(tmp_path / "link", owner) in str(e.value)
    assert not (tmp_path / "elsewhere" / "cache").exists()


def test_symlinked_component_of_the_user_is_accepted(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    cache_dir(str(tmp_path / "link" / "cache"), "1.2.3")
    assert (tmp_path / "elsewhere" / "cache" / "1.2.3").is_dir()


def test_dot_dot_in_the_subdirectory_is_refused(tmp_path):
    with pytest.raises(PackageCacheError, match="may not contain"):
        cache_dir(str(tmp_path / "cache"), "1.2.3/../../escape")


# --- download and verification -----------------------------------------------------------------------------


def test_download_verified_and_digest_returned(tmp_path):
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD})
    result = resolve(options(tmp_path), server)
    assert result == {"path": str(cached(tmp_path)), "sha256": sha(GOOD), "downloaded": True}
    assert cached(tmp_path).read_bytes() == GOOD
    assert os.stat(cached(tmp_path)).st_mode & 0o777 == 0o600
    assert [p for p in os.listdir(cached(tmp_path).parent) if p.startswith(".partial")] == []


def test_good_cached_package_is_not_downloaded_again(tmp_path):
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD})
    resolve(options(tmp_path), server)
    result = resolve(options(tmp_path), server)
    assert result["downloaded"] is False
    assert len(server.calls) == 1


def test_cached_package_failing_verification_is_downloaded_again(tmp_path):
    cache_dir(str(tmp_path / "cache"), "1.2.3/debian/amd64")
    cached(tmp_path).write_bytes(BAD)
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD})
    result = resolve(options(tmp_path), server)
    assert result["sha256"] == sha(GOOD)
    assert result["downloaded"] is True
    assert cached(tmp_path).read_bytes() == GOOD
    assert server.calls == [URL + "/amazon-cloudwatch-agent.deb"]


def test_bad_download_fails_once_and_leaves_nothing_cached(tmp_path):
    cache_dir(str(tmp_path / "cache"), "1.2.3/debian/amd64")
    cached(tmp_path).write_bytes(BAD)
    server = Server({URL + "/amazon-cloudwatch-agent.deb": BAD + b"still bad"})
    with pytest.raises(PackageVerifyError) as e:
        resolve(options(tmp_path), server)
    assert "not cloudwatch_agent_package_sha256 {0}: nothing was installed".format(sha(GOOD)) in str(e.value)
    assert len(server.calls) == 1
    assert not cached(tmp_path).exists()


def test_cached_symlink_is_replaced_not_followed(tmp_path):
    cache_dir(str(tmp_path / "cache"), "1.2.3/debian/amd64")
    (tmp_path / "target").write_bytes(GOOD)
    os.symlink(tmp_path / "target", cached(tmp_path))
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD})
    result = resolve(options(tmp_path), server)
    assert result["downloaded"] is True
    assert not os.path.islink(cached(tmp_path))
    assert (tmp_path / "target").read_bytes() == GOOD


def test_download_error_is_reported(tmp_path):
    with pytest.raises(PackageCacheError, match="HTTP Error 404"):
        resolve(options(tmp_path), Server({}))
    assert os.listdir(cached(tmp_path).parent) == []


def test_planted_cache_is_refused_before_any_download(tmp_path, monkeypatch):
    (tmp_path / "cache").mkdir()
    os.chmod(tmp_path / "cache", 0o777)
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD})
    with pytest.raises(PackageCacheError, match="writable by group or others"):
        resolve(options(tmp_path), server)
    assert server.calls == []


def test_package_file_is_verified_in_place(tmp_path):
    (tmp_path / "air-gapped.deb").write_bytes(GOOD)
    server = Server({})
    result = resolve(options(tmp_path, package_file=str(tmp_path / "air-gapped.deb")), server)
    assert result == {"path": os.path.realpath(tmp_path / "air-gapped.deb"), "sha256": sha(GOOD), "downloaded": False}
    assert server.calls == []
    assert not (tmp_path / "cache").exists()


def test_package_file_behind_a_link_is_used_where_it_leads(tmp_path):
    (tmp_path / "agent-1.2.3.deb").write_bytes(GOOD)
    os.symlink(tmp_path / "agent-1.2.3.deb", tmp_path / "current.deb")
    result = resolve(options(tmp_path, package_file=str(tmp_path / "current.deb")), Server({}))
    assert result["path"] == os.path.realpath(tmp_path / "agent-1.2.3.deb")
    assert result["sha256"] == sha(GOOD)


def test_package_file_failing_verification_is_refused(tmp_path):
    (tmp_path / "air-gapped.deb").write_bytes(BAD)
    with pytest.raises(PackageVerifyError, match="nothing was installed"):
        resolve(options(tmp_path, package_file=str(tmp_path / "air-gapped.deb")), Server({}))


def test_verify_none_still_returns_the_digest(tmp_path):
    server = Server({URL + "/amazon-cloudwatch-agent.deb": BAD})
    assert resolve(options(tmp_path, verify="none"), server)["sha256"] == sha(BAD)


# --- gpg ---------------------------------------------------------------------------------------------------

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    """A throw-away signing key: (armored public key, fingerprint, sign(data) -> detached signature)."""
    home = str(tmp_path_factory.mktemp("gnupg"))
    os.chmod(home, 0o700)
    gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--passphrase", "", "--pinentry-mode", "loopback"]
    subprocess.run(gpg + ["--quick-gen-key", "test signing key", "ed25519", "sign", "never"], check=True)
    key = subprocess.run(gpg + ["--armor", "--export"], check=True, capture_output=True).stdout
    listing = subprocess.run(gpg + ["--with-colons", "--fingerprint"], check=True, capture_output=True).stdout.decode()
    fingerprint = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")][0]

    def sign(data):
        return subprocess.run(gpg + ["--detach-sign", "--output", "-"], input=data, check=True, capture_output=True).stdout

    return key.decode(), fingerprint, sign


def gpg_options(tmp_path, signer, **overrides):
    values = {"verify": "gpg", "sha256": "", "gpg_key": signer[0], "fingerprint": signer[1]}
    values.update(overrides)
    return options(tmp_path, **values)


@needs_gpg
def test_gpg_good_signature_gives_the_digest(tmp_path, signer):
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD, URL + "/amazon-cloudwatch-agent.deb.sig": signer[2](GOOD)})
    result = resolve(gpg_options(tmp_path, signer), server)
    assert result["sha256"] == sha(GOOD)
    assert (cached(tmp_path).parent / "amazon-cloudwatch-agent.deb.sig").exists()


@needs_gpg
def test_gpg_cached_package_with_bad_signature_is_downloaded_again(tmp_path, signer):
    cache_dir(str(tmp_path / "cache"), "1.2.3/debian/amd64")
    cached(tmp_path).write_bytes(BAD)
    (cached(tmp_path).parent / "amazon-cloudwatch-agent.deb.sig").write_bytes(signer[2](GOOD))
    server = Server({URL + "/amazon-cloudwatch-agent.deb": GOOD, URL + "/amazon-cloudwatch-agent.deb.sig": signer[2](GOOD)})
    result = resolve(gpg_options(tmp_path, signer), server)
    assert result["sha256"] == sha(GOOD)
    assert len(server.calls) == 2
    assert cached(tmp_path).read_bytes() == GOOD


@needs_gpg
def test_gpg_signature_of_other_bytes_is_refused(tmp_path, signer):
    (tmp_path / "air-gapped.deb").write_bytes(BAD)
    (tmp_path / "air-gapped.deb.sig").write_bytes(signer[2](GOOD))
    opts = gpg_options(tmp_path, signer, package_file=str(tmp_path / "air-gapped.deb"), signature_file=str(tmp_path / "air-gapped.deb.sig"))
    with pytest.raises(PackageVerifyError, match="the package is not the one AWS signed"):
        resolve(opts, Server({}))


@needs_gpg
def test_gpg_key_with_another_fingerprint_is_refused(tmp_path, signer):
    (tmp_path / "air-gapped.deb").write_bytes(GOOD)
    (tmp_path / "air-gapped.deb.sig").write_bytes(signer[2](GOOD))
    opts = gpg_options(tmp_path, signer, package_file=str(tmp_path / "air-gapped.deb"), signature_file=str(tmp_path / "air-gapped.deb.sig"))
    opts["fingerprint"] = "937616F3450B7D806CBD9725D58167303B789C72"
    with pytest.raises(PackageCacheError, match="not the pinned 937616F3450B7D806CBD9725D58167303B789C72"):
        resolve(opts, Server({}))


@needs_gpg
def test_gpg_key_is_downloaded_when_not_given(tmp_path, signer):
    server = Server(
        {
            URL + "/amazon-cloudwatch-agent.deb": GOOD,
            URL + "/amazon-cloudwatch-agent.deb.sig": signer[2](GOOD),
            "https://keys.example/agent.gpg": signer[0].encode(),
        }
    )
    result = resolve(gpg_options(tmp_path, signer, gpg_key="", gpg_key_url="https://keys.example/agent.gpg"), server)
    assert result["sha256"] == sha(GOOD)
    assert "https://keys.example/agent.gpg" in server.calls


@needs_gpg
def test_digest_is_that_of_the_bytes_gpg_verified(tmp_path, signer, monkeypatch):
    """A package swapped right after verification does not change the digest the host checks."""
    (tmp_path / "air-gapped.deb").write_bytes(GOOD)
    (tmp_path / "air-gapped.deb.sig").write_bytes(signer[2](GOOD))
    real_read = package_cache._read

    def read_then_swap(path):
        yield from real_read(path)
        (tmp_path / "air-gapped.deb").write_bytes(BAD)

    monkeypatch.setattr(package_cache, "_read", read_then_swap)
    opts = gpg_options(tmp_path, signer, package_file=str(tmp_path / "air-gapped.deb"), signature_file=str(tmp_path / "air-gapped.deb.sig"))
    assert resolve(opts, Server({}))["sha256"] == sha(GOOD)
    assert (tmp_path / "air-gapped.deb").read_bytes() == BAD
