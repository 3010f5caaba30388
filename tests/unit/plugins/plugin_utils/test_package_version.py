# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The version an agent package file holds, read on the controller before any host is touched.

Debs come from dpkg-deb (each compression it writes) and in the layout of AWS's Tools/src/create_deb.sh (GNU ar,
tar members without "./"); RPMs come from rpmbuild where it is installed, and are written here byte by byte in the
RPM file format (lead, signature header, main header) everywhere. Broken and hostile files must give a PackageVersionError naming the file.
"""

import gzip
import io
import random
import shutil
import struct
import subprocess
import tarfile
import time

import pytest

from ansible_collections.observability.cloudwatch.plugins.plugin_utils import package_version
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_version import PackageVersionError

CONTROL = "Package: amazon-cloudwatch-agent\nVersion: {0}\nArchitecture: {1}\nMaintainer: x\nDescription: test\n extended\n"


def ar(members, gnu=False):
    out = b"!<arch>\n"
    for name, data in members:
        label = (name + "/") if gnu else name
        out += "{0:<16}{1:<12}{2:<6}{3:<6}{4:<8}{5:<10}`\n".format(label, 0, 0, 0, 100644, len(data)).encode("ascii")
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


def control_tar(text, name="control", size=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode("utf-8")
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def aws_deb(version="1.300069.0b1529-1", arch="amd64"):
    """Like AWS's Tools/src/create_deb.sh: `tar czf control.tar.gz control ...` and `ar r` (GNU names)."""
    return ar([("debian-binary", b"2.0\n"), ("control.tar.gz", gzip.compress(control_tar(CONTROL.format(version, arch)))),
               ("data.tar.gz", gzip.compress(b"\0" * 1024))], gnu=True)


def rpm_header(tags):
    """An RPM header structure: magic, index entries (tag, type, offset, count), then the data store."""
    index, store = b"", b""
    for tag, kind, value in tags:
        index += struct.pack(">IIII", tag, kind, len(store), 1)
        store += value
    return b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(tags), len(store)) + index + store


def rpm(version="1.300069.0b1529", release="1", arch="x86_64", name="amazon-cloudwatch-agent"):
    lead = b"\xed\xab\xee\xdb\x03\x00" + b"\0" * 90
    signature = rpm_header([(1000, 4, b"\0\0\0\x10"), (1004, 7, b"\x01\x02\x03")])  # SIZE (INT32), MD5 (BIN)
    signature += b"\0" * (-len(signature) % 8)
    header = rpm_header([(1000, 6, name.encode() + b"\0"), (1001, 6, version.encode() + b"\0"),
                         (1002, 6, release.encode() + b"\0"), (1004, 9, b"summary\0"), (1022, 6, arch.encode() + b"\0")])
    return lead + signature + header + b"payload"


def write(tmp_path, data, name="agent.pkg"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb")
@pytest.mark.parametrize("compression, member", [("gzip", "control.tar.gz"), ("xz", "control.tar.xz"),
                                                 ("zstd", "control.tar.zst"), ("none", "control.tar")])
def test_each_compression_dpkg_deb_writes(tmp_path, compression, member):
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(CONTROL.format("1.300069.0b1529-1", "arm64"))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Z" + compression, "--build", str(root), str(tmp_path / "a.deb")],
                   check=True, capture_output=True)
    assert member.encode() in (tmp_path / "a.deb").read_bytes()[:200]
    assert package_version.read(str(tmp_path / "a.deb")) == {
        "format": "deb", "name": "amazon-cloudwatch-agent", "version": "1.300069.0b1529",
        "package_version": "1.300069.0b1529-1", "arch": "arm64"}


def test_the_layout_aws_builds_and_an_epoch(tmp_path):
    assert package_version.read(write(tmp_path, aws_deb()))["version"] == "1.300069.0b1529"
    assert package_version.read(write(tmp_path, aws_deb("1:1.300069.0b1529-1")))["version"] == "1.300069.0b1529"


def test_the_fixture_package_gives_the_version_it_was_built_with(tmp_path):
    if not shutil.which("dpkg-deb"):
        pytest.skip("needs dpkg-deb")
    script = __import__("pathlib").Path(__file__).resolve().parents[3] / "fixtures" / "build-agent-package.sh"
    subprocess.run(["bash", str(script), str(tmp_path), "1.300064.0b1337"], check=True, capture_output=True, env={
        "PATH": "/usr/bin:/bin", "ARCH": "amd64"})
    found = package_version.read(str(tmp_path / "amazon-cloudwatch-agent.deb"))
    assert (found["version"], found["package_version"], found["arch"]) == ("1.300064.0b1337", "1.300064.0b1337-1", "amd64")


@pytest.mark.skipif(not shutil.which("rpmbuild") or not shutil.which("dpkg-deb"), reason="needs rpmbuild and dpkg-deb")
def test_the_fixture_rpm_gives_its_version_and_holds_the_debs_files(tmp_path):
    script = __import__("pathlib").Path(__file__).resolve().parents[3] / "fixtures" / "build-agent-package.sh"
    for package_format in ("deb", "rpm"):
        subprocess.run(["bash", str(script), str(tmp_path / package_format), "1.300064.0b1337"], check=True,
                       capture_output=True, env={"PATH": "/usr/bin:/bin", "ARCH": "amd64", "FORMAT": package_format})
    rpm_file = str(tmp_path / "rpm" / "amazon-cloudwatch-agent.rpm")
    found = package_version.read(rpm_file)
    # Version CWAGENT_VERSION, Release 1, the architecture as RPM names it.
    assert (found["format"], found["version"], found["package_version"], found["arch"]) == (
        "rpm", "1.300064.0b1337", "1.300064.0b1337-1", "x86_64")
    deb_files = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(tmp_path / "deb" / "amazon-cloudwatch-agent.deb")],
                               check=True, capture_output=True).stdout
    listed = subprocess.run(["tar", "-tf", "-"], input=deb_files, check=True, capture_output=True).stdout.decode()
    deb_paths = {"/" + line.strip("./").rstrip("/") for line in listed.splitlines() if line.strip("./")}
    rpm_paths = set(subprocess.run(["rpm", "-qpl", rpm_file], check=True, capture_output=True).stdout.decode().split())
    # The same files and links; the RPM, like AWS's, does not own the directories other packages share.
    assert deb_paths - rpm_paths == {"/etc", "/etc/amazon", "/etc/init", "/etc/systemd", "/etc/systemd/system", "/opt",
                                     "/opt/aws", "/usr", "/usr/bin", "/var", "/var/log", "/var/log/amazon", "/var/run",
                                     "/var/run/amazon"}
    assert rpm_paths <= deb_paths


def test_rpm_header_tags(tmp_path):
    assert package_version.read(write(tmp_path, rpm())) == {
        "format": "rpm", "name": "amazon-cloudwatch-agent", "version": "1.300069.0b1529",
        "package_version": "1.300069.0b1529-1", "arch": "x86_64"}
    # AWS's Tools/src/create_rpm.sh writes a "-" of CWAGENT_VERSION as "+".
    assert package_version.read(write(tmp_path, rpm("1.2+rc1")))["version"] == "1.2-rc1"


SPEC = """Name: amazon-cloudwatch-agent
Version: %{AGENT_VERSION}
Release: 1
Summary: test
License: MIT
AutoReqProv: no
%description
test
%install
mkdir -p %{buildroot}/opt/aws/amazon-cloudwatch-agent/bin
echo %{AGENT_VERSION} > %{buildroot}/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION
%files
/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION
"""


@pytest.mark.skipif(not shutil.which("rpmbuild"), reason="needs rpmbuild")
def test_an_rpm_rpmbuild_wrote(tmp_path):
    (tmp_path / "a.spec").write_text(SPEC)
    subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", "_topdir " + str(tmp_path), "--define", "AGENT_VERSION 1.300069.0b1529",
                    "--target", "aarch64", str(tmp_path / "a.spec")], check=True, capture_output=True)
    whole = (tmp_path / "RPMS" / "aarch64" / "amazon-cloudwatch-agent-1.300069.0b1529-1.aarch64.rpm").read_bytes()
    assert package_version.read(write(tmp_path, whole)) == {
        "format": "rpm", "name": "amazon-cloudwatch-agent", "version": "1.300069.0b1529",
        "package_version": "1.300069.0b1529-1", "arch": "aarch64"}
    assert_truncations_give_the_version_or_a_clear_error(tmp_path, whole, step=97)


def test_a_mismatch_names_both_versions_and_the_option(tmp_path):
    path = write(tmp_path, aws_deb("1.300064.0b1337-1"))
    with pytest.raises(PackageVersionError) as e:
        package_version.check(path, "1.300069.0b1529", "amd64", "deb")
    assert "holds agent version 1.300064.0b1337 (package version 1.300064.0b1337-1)" in str(e.value)
    assert "cloudwatch_agent_version is 1.300069.0b1529" in str(e.value) and path in str(e.value)
    assert package_version.check(path, "1.300064.0b1337", "amd64", "deb")["version"] == "1.300064.0b1337"


@pytest.mark.parametrize("data, arch, package_format, message", [
    (aws_deb(arch="arm64"), "amd64", "deb", "is built for arm64, but this host is amd64"),
    (rpm(arch="x86_64"), "arm64", "rpm", "is built for x86_64, but this host is arm64"),
    (rpm(), "amd64", "deb", "is an rpm package, but this host installs deb packages"),
])
def test_a_package_for_another_host_is_refused(tmp_path, data, arch, package_format, message):
    with pytest.raises(PackageVersionError, match=message):
        package_version.check(write(tmp_path, data), "1.300069.0b1529", arch, package_format)
    assert package_version.check(write(tmp_path, data), "1.300069.0b1529", "", "")["version"] == "1.300069.0b1529"


def huge_gzip(size):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as f:
        for _count in range(size // (1 << 20)):
            f.write(b"\0" * (1 << 20))
    return out.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"", "neither a deb"),
    (b"#!/bin/sh\necho not a package\n", "neither a deb"),
    (b"!<arch>\n", "no control.tar member"),
    (b"!<arch>\ncontrol.tar.gz  ", "damaged or truncated ar member header"),
    (ar([("control.tar.gz", b"x" * 10)])[:-4], "truncated"),
    (ar([("control.tar.gz", b"not gzip at all")]), "cannot be decompressed"),
    (ar([("control.tar", b"not a tar" * 100)]), "damaged|no control file"),
    (ar([("control.tar", control_tar("Package: x\n"))]), "no Version field"),
    (ar([("control.tar", control_tar(CONTROL, name="./postinst"))]), "no control file"),
    (ar([("debian-binary", b"2.0\n")] * 9), "no control.tar member among its first 8"),
    # A member claiming 9 GB, and one that is a decompression bomb: refused without reading or unpacking them.
    (b"!<arch>\n" + b"control.tar.gz  0           0     0     100644  9999999999`\n", "more than 4194304"),
    (ar([("control.tar.gz", huge_gzip(32 << 20))]), "unpacks to more than 16777216 bytes"),
    (ar([("control.tar.gz", b"x")]).replace(b"1         `", b"-1        `"), "has no size"),
    (rpm()[:100], "truncated"),
    (rpm()[:96] + b"garbage" * 4, "no header magic"),
    (rpm()[:96] + b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF), "more than an RPM package holds"),
    (rpm().replace(struct.pack(">IIII", 1001, 6, 24, 1), struct.pack(">IIII", 1001, 6, 1 << 30, 1)), "points outside"),
    (rpm().replace(b"\x8e\xad\xe8\x01\0\0\0\0\0\0\0\x05", b"\x8e\xad\xe8\x01\0\0\0\0\0\x10\0\x05"), "truncated|more than"),
    (rpm(version="1" * 3000), "truncated or too long"),
    (rpm(version=""), "no VERSION tag"),
])
def test_broken_and_hostile_files_get_a_clear_error(tmp_path, data, message):
    path = write(tmp_path, data)
    started = time.monotonic()
    with pytest.raises(PackageVersionError, match=message) as e:
        package_version.read(path)
    assert path in str(e.value) and time.monotonic() - started < 5


def assert_truncations_give_the_version_or_a_clear_error(tmp_path, whole, step):
    """Every prefix of the package, `step` bytes apart: the full version or an error naming the file."""
    for end in range(0, len(whole), step):
        path = write(tmp_path, whole[:end])
        try:
            assert package_version.read(path)["version"] == "1.300069.0b1529"
        except PackageVersionError as e:
            assert path in str(e)


def test_every_truncation_gives_a_clear_error_or_the_version(tmp_path):
    for whole in (aws_deb(), rpm()):
        assert_truncations_give_the_version_or_a_clear_error(tmp_path, whole, step=7)


def test_unreadable_paths(tmp_path):
    with pytest.raises(PackageVersionError, match="cannot be read"):
        package_version.read(str(tmp_path / "missing.deb"))
    with pytest.raises(PackageVersionError, match="cannot be read"):
        package_version.read(str(tmp_path))


def test_random_damage_gives_a_clear_error_or_a_version(tmp_path):
    chance = random.Random(20)
    for whole in (aws_deb(), rpm()):
        for _round in range(300):
            damaged = bytearray(whole)
            for _byte in range(chance.randint(1, 8)):
                damaged[chance.randrange(len(damaged))] = chance.randrange(256)
            path = write(tmp_path, bytes(damaged))
            try:
                package_version.read(path)
            except PackageVersionError as e:
                assert path in str(e)


@pytest.mark.skipif(not shutil.which("zstd"), reason="needs zstd")
def test_a_zstd_bomb_and_damaged_zstd_are_refused(tmp_path):
    bomb = subprocess.run(["zstd", "-19", "-c"], input=b"\0" * (32 << 20), capture_output=True, check=True).stdout
    with pytest.raises(PackageVersionError, match="unpacks to more than 16777216 bytes"):
        package_version.read(write(tmp_path, ar([("control.tar.zst", bomb)])))
    with pytest.raises(PackageVersionError, match="control.tar.zst cannot be decompressed"):
        package_version.read(write(tmp_path, ar([("control.tar.zst", b"\x28\xb5\x2f\xfd garbage")])))


def test_zstd_without_the_program_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(package_version.shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "compression", None)
    with pytest.raises(PackageVersionError, match="needs the zstd program on the controller"):
        package_version.read(write(tmp_path, ar([("control.tar.zst", b"\x28\xb5\x2f\xfd")])))
