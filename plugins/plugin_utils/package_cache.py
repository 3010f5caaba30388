# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent package on the controller: a cache only its owner can change, and verification that reads the
package once, computing the SHA-256 digest the host checks after the copy from the very bytes it verified."""

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile

CHUNK = 1024 * 1024


class PackageCacheError(Exception):
    pass


class PackageVerifyError(PackageCacheError):
    """The package or its signature is not the one expected (a cached copy of it is downloaded again)."""


def _owner(uid):
    try:
        import pwd

        return "{0} ({1})".format(uid, pwd.getpwuid(uid).pw_name)
    except (ImportError, KeyError):
        return str(uid)


def _check_links(path, uid):
    """Refuse a symbolic link, at any component of path, that another user could point elsewhere."""
    current = os.sep
    for part in path.strip(os.sep).split(os.sep):
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in (0, uid):
            raise PackageCacheError(
                "cloudwatch_agent_local_cache_path {0}: {1} is a symbolic link owned by {2}, not by you or root, so that "
                "user decides where packages are kept. Point cloudwatch_agent_local_cache_path at a directory of "
                "yours, outside that link.".format(path, current, _owner(st.st_uid))
            )


def _check_private(directory, uid, path):
    st = os.stat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise PackageCacheError("cloudwatch_agent_local_cache_path {0}: {1} is not a directory.".format(path, directory))
    if st.st_uid != uid:
        raise PackageCacheError(
            "cloudwatch_agent_local_cache_path {0}: {1} is owned by {2}, not by you ({3}): another user could replace "
            "the packages in it. Remove it, or set cloudwatch_agent_local_cache_path to a directory of yours.".format(
                path, directory, _owner(st.st_uid), _owner(uid)
            )
        )
    if st.st_mode & 0o022:
        raise PackageCacheError(
            "cloudwatch_agent_local_cache_path {0}: {1} has mode {2:04o}, writable by group or others, who could "
            "replace the packages in it. Run chmod go-w {1} after checking its contents, or remove it.".format(
                path, directory, stat.S_IMODE(st.st_mode)
            )
        )


def cache_dir(path, subdir, uid=None):
    """The directory for one package under the cache root path, created 0700 when missing, after checking that
    no one but the controller's user (and root) can change it or any component leading to it."""
    uid = os.geteuid() if uid is None else uid
    path = os.path.abspath(os.path.expanduser(path))
    _check_links(path, uid)
    os.makedirs(path, mode=0o700, exist_ok=True)
    _check_private(path, uid, path)
    directory = path
    for part in [p for p in subdir.split("/") if p]:
        if part in (".", ".."):
            raise PackageCacheError("The package's cache subdirectory {0!r} may not contain '.' or '..'.".format(subdir))
        directory = os.path.join(directory, part)
        _check_links(directory, uid)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        _check_private(directory, uid, path)
    return directory


def download(fetch, url, dest):
    """Write what fetch(url) yields to dest, atomically: a reader sees the whole file or none."""
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in fetch(url):
                out.write(chunk)
        os.chmod(partial, 0o600)
        os.replace(partial, dest)
    except Exception:
        os.unlink(partial)
        raise


def _read(path):
    """The package's bytes, chunk by chunk, from one open of the file (a symbolic link is refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        raise PackageVerifyError("Cannot read the package {0}: {1}.".format(path, e.strerror)) from e
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise PackageVerifyError("The package {0} is not a regular file.".format(path))
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return
            yield chunk


def sha256_of(path, expected):
    """The package's digest, which must be expected (cloudwatch_agent_package_sha256)."""
    digest = hashlib.sha256()
    for chunk in _read(path):
        digest.update(chunk)
    found = digest.hexdigest()
    if found != expected.lower():
        raise PackageVerifyError(
            "{0} has SHA-256 {1}, not cloudwatch_agent_package_sha256 {2}: nothing was installed.".format(path, found, expected.lower())
        )
    return found


def _gpg(home, *args, **kwargs):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--quiet"] + list(args), capture_output=True, check=False, **kwargs)


def gpg_verified(path, signature, key, fingerprint):
    """The package's digest, computed from the bytes fed to gpg, which must find a good signature (VALIDSIG) by the
    key with the pinned fingerprint, in a throw-away keyring holding only that key."""
    home = tempfile.mkdtemp(suffix=".cloudwatch-agent-gnupg")
    try:
        with open(os.path.join(home, "agent.gpg"), "wb") as f:
            f.write(key)
        with open(os.path.join(home, "package.sig"), "wb") as f:
            f.write(signature)
        _gpg(home, "--import", os.path.join(home, "agent.gpg"))
        listing = _gpg(home, "--with-colons", "--fingerprint").stdout.decode("utf-8", "replace")
        found = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        if fingerprint not in found:
            raise PackageCacheError(
                "The agent signing key has fingerprint {0}, not the pinned {1} (cloudwatch_agent_gpg_fingerprint): "
                "nothing was installed.".format(", ".join(found) or "(none: not a public key)", fingerprint)
            )
        status = os.path.join(home, "status")
        digest = hashlib.sha256()
        with open(os.path.join(home, "stderr"), "wb") as errors:
            proc = subprocess.Popen(
                ["gpg", "--homedir", home, "--batch", "--status-file", status, "--verify", os.path.join(home, "package.sig"), "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                for chunk in _read(path):
                    digest.update(chunk)
                    proc.stdin.write(chunk)
            except BrokenPipeError:
                pass  # gpg stopped reading: its status says why
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                rc = proc.wait()
        with open(status, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        # VALIDSIG's last field is the primary key's fingerprint.
        valid = [line for line in lines if re.match(r"^\[GNUPG:\] VALIDSIG .* " + re.escape(fingerprint) + "$", line)]
        if rc != 0 or not valid:
            with open(os.path.join(home, "stderr"), "rb") as f:
                detail = f.read().decode("utf-8", "replace").strip()[:300]
            raise PackageVerifyError(
                "The signature check of {0} failed ({1}): the package is not the one AWS signed with key {2}. "
                "Nothing was installed.".format(path, detail or "rc={0}".format(rc), fingerprint)
            )
        return digest.hexdigest()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def verified(options, package, signature, key):
    """The digest of package after the check options["verify"] asks for; key() reads the signing key."""
    if options["verify"] == "gpg":
        try:
            with open(signature, "rb") as f:
                sig = f.read()
        except OSError as e:
            raise PackageVerifyError("Cannot read the signature {0}: {1}.".format(signature, e.strerror)) from e
        return gpg_verified(package, sig, key(), options["fingerprint"])
    if options["verify"] == "sha256":
        return sha256_of(package, options["sha256"])
    digest = hashlib.sha256()
    for chunk in _read(package):
        digest.update(chunk)
    return digest.hexdigest()


def resolve(options, fetch, uid=None):
    """The package to copy to the host, as {"path", "sha256", "downloaded"}.

    options: package_file, signature_file (air-gapped), or url (the directory holding name and name.sig),
    cache_path, cache_subdir; verify, sha256, gpg_key, gpg_key_url, fingerprint. fetch(url) yields bytes.
    A cached package that fails verification is deleted and downloaded once more.
    """
    key_cache = []

    def key():
        if not key_cache:
            key_cache.append(options["gpg_key"].encode("utf-8") if options["gpg_key"] else b"".join(fetch(options["gpg_key_url"])))
        return key_cache[0]

    if options["package_file"]:
        # The user's own path: a link there is followed once, and the copy reads the file it led to.
        package = os.path.realpath(os.path.expanduser(options["package_file"]))
        return {"path": package, "sha256": verified(options, package, options["signature_file"], key), "downloaded": False}

    directory = cache_dir(options["cache_path"], options["cache_subdir"], uid)
    package = os.path.join(directory, options["name"])
    signature = package + ".sig"
    wanted = [options["name"]] + ([options["name"] + ".sig"] if options["verify"] == "gpg" else [])
    downloaded = False
    for attempt in (1, 2):
        if attempt == 2 or not all(os.path.lexists(os.path.join(directory, name)) for name in wanted):
            for name in wanted:
                download(fetch, options["url"].rstrip("/") + "/" + name, os.path.join(directory, name))
            downloaded = True
        try:
            return {"path": package, "sha256": verified(options, package, signature, key), "downloaded": downloaded}
        except PackageVerifyError as e:
            for name in wanted:
                if os.path.lexists(os.path.join(directory, name)):
                    os.unlink(os.path.join(directory, name))
            if downloaded:
                raise PackageVerifyError("{0} (The cached copy was deleted.)".format(e)) from e
