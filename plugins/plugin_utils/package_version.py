# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an agent package file on the controller holds (name, version, architecture), read from the file itself.

A deb is an ar archive whose control.tar[.gz|.xz|.zst] member holds the control file (dpkg-deb writes ./control,
AWS's Tools/src/create_deb.sh writes control); an RPM is a 96-byte lead, a signature header and the main header
whose NAME, VERSION, RELEASE and ARCH tags are read. Every read is bounded: a hostile or broken file gets an error
naming it, never a large allocation. Standard library only (zstd through the zstd program where Python lacks it).
"""

import io
import lzma
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zlib

AR_MAGIC = b"!<arch>\n"
RPM_LEAD = b"\xed\xab\xee\xdb"
RPM_HEADER = b"\x8e\xad\xe8\x01"
# Far above what a real agent package holds, far below what could hurt the controller.
MAX_MEMBERS = 8
MAX_CONTROL_MEMBER = 4 * 1024 * 1024
MAX_CONTROL_TAR = 16 * 1024 * 1024
MAX_CONTROL_FILE = 64 * 1024
MAX_HEADER_ENTRIES = 65536
MAX_HEADER_DATA = 64 * 1024 * 1024
MAX_TAG_TEXT = 1024
RPM_TAGS = {1000: "name", 1001: "version", 1002: "release", 1022: "arch"}
RPM_STRING = 6
# The architecture names of each format, as the role's platform names them.
ARCHES = {"amd64": ("amd64", "x86_64"), "arm64": ("arm64", "aarch64")}
NAMES = {"deb": "a deb", "rpm": "an rpm"}


class PackageVersionError(Exception):
    pass


def _exact(f, size, path, what):
    data = f.read(size)
    if len(data) != size:
        raise PackageVersionError("cloudwatch_agent_package_file {0} is truncated (in its {1}).".format(path, what))
    return data


def _decompress(name, data, path):
    """The control tar from its member's bytes, refused past MAX_CONTROL_TAR bytes."""
    limit = MAX_CONTROL_TAR + 1
    try:
        if name == "control.tar":
            out = data
        elif name == "control.tar.gz":
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit)
        elif name == "control.tar.xz":
            out = lzma.LZMADecompressor().decompress(data, limit)
        else:
            out = _unzstd(data, limit, path)
    except (zlib.error, lzma.LZMAError, EOFError) as e:
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its {1} cannot be decompressed ({2}).".format(path, name, e)) from None
    if len(out) >= limit:
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its {1} unpacks to more than {2} bytes.".format(path, name, MAX_CONTROL_TAR))
    return out


def _unzstd(data, limit, path):
    try:
        from compression import zstd  # Python 3.14
    except ImportError:
        zstd = None
    if zstd is not None:
        try:
            return zstd.ZstdDecompressor().decompress(data, limit)
        except zstd.ZstdError as e:
            raise PackageVersionError("cloudwatch_agent_package_file {0}: its control.tar.zst cannot be decompressed ({1}).".format(path, e)) from None
    program = shutil.which("zstd")
    if not program:
        raise PackageVersionError(
            "cloudwatch_agent_package_file {0} has a zstd-compressed control member: reading it needs the zstd "
            "program on the controller (or Python 3.14).".format(path))
    with tempfile.TemporaryFile() as member:
        member.write(data)
        member.seek(0)
        proc = subprocess.Popen([program, "-dcq"], stdin=member, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            out = proc.stdout.read(limit)
            # Stopped once limit bytes were read: the caller refuses the size.
            if len(out) >= limit:
                proc.kill()
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = -1
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if rc != 0 and len(out) < limit:
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its control.tar.zst cannot be decompressed.".format(path))
    return out


def _control_text(tar_bytes, path):
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for member in tar:
                if member.name in ("control", "./control") and member.isfile():
                    if member.size > MAX_CONTROL_FILE:
                        break
                    return tar.extractfile(member).read(MAX_CONTROL_FILE).decode("utf-8", "replace")
    except (tarfile.TarError, EOFError, ValueError) as e:
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its control archive is damaged ({1}).".format(path, e)) from None
    raise PackageVersionError("cloudwatch_agent_package_file {0}: its control archive holds no control file of at most {1} "
                              "bytes.".format(path, MAX_CONTROL_FILE))


def parse_control(text):
    fields = {}
    for line in text.splitlines():
        if line[:1] not in ("", " ", "\t") and ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
    return fields


def deb_fields(f, path):
    f.seek(len(AR_MAGIC))
    for _count in range(MAX_MEMBERS):
        header = f.read(60)
        if not header:
            break
        if len(header) != 60 or header[58:60] != b"`\n":
            raise PackageVersionError("cloudwatch_agent_package_file {0} is not a deb package: a damaged or truncated ar member header.".format(path))
        # GNU ar ends names with "/", dpkg-deb pads them with spaces.
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            size = -1
        if size < 0:
            raise PackageVersionError("cloudwatch_agent_package_file {0} is not a deb package: an ar member has no size.".format(path))
        if name in ("control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst"):
            if size > MAX_CONTROL_MEMBER:
                raise PackageVersionError("cloudwatch_agent_package_file {0}: its {1} member is {2} bytes, more than "
                                          "{3}.".format(path, name, size, MAX_CONTROL_MEMBER))
            control = parse_control(_control_text(_decompress(name, _exact(f, size, path, name), path), path))
            if not control.get("version"):
                raise PackageVersionError("cloudwatch_agent_package_file {0}: its control file has no Version field.".format(path))
            version = control["version"].split(":", 1)[-1]
            return {"format": "deb", "name": control.get("package", ""), "version": version.rsplit("-", 1)[0],
                    "package_version": control["version"], "arch": control.get("architecture", "")}
        f.seek(size + size % 2, os.SEEK_CUR)
    raise PackageVersionError("cloudwatch_agent_package_file {0} is not a deb package: no control.tar member among its first {1}.".format(path, MAX_MEMBERS))


def _header(f, path, what):
    """(index count, data size) of an RPM header structure, bounded."""
    raw = _exact(f, 16, path, what)
    if raw[:4] != RPM_HEADER:
        raise PackageVersionError("cloudwatch_agent_package_file {0} is not an RPM package: its {1} has no header magic.".format(path, what))
    entries, size = struct.unpack(">II", raw[8:16])
    if entries > MAX_HEADER_ENTRIES or size > MAX_HEADER_DATA:
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its {1} claims {2} entries and {3} bytes, more than an "
                                  "RPM package holds.".format(path, what, entries, size))
    return entries, size


def rpm_fields(f, path):
    f.seek(96)
    entries, size = _header(f, path, "signature header")
    f.seek(16 * entries + size + (-(16 * entries + size) % 8), os.SEEK_CUR)
    entries, size = _header(f, path, "header")
    index = _exact(f, 16 * entries, path, "header index")
    store = f.tell()
    fields = {}
    for n in range(entries):
        tag, kind, offset, count = struct.unpack(">IIII", index[16 * n:16 * n + 16])
        if tag in RPM_TAGS and kind == RPM_STRING:
            if offset >= size:
                raise PackageVersionError("cloudwatch_agent_package_file {0}: its header points outside itself.".format(path))
            f.seek(store + offset)
            text = f.read(min(MAX_TAG_TEXT, size - offset)).split(b"\0", 1)
            if len(text) != 2:
                raise PackageVersionError("cloudwatch_agent_package_file {0}: its {1} tag is truncated or too long.".format(path, RPM_TAGS[tag]))
            fields[RPM_TAGS[tag]] = text[0].decode("utf-8", "replace")
    if not fields.get("version"):
        raise PackageVersionError("cloudwatch_agent_package_file {0}: its RPM header has no VERSION tag.".format(path))
    # AWS's Tools/src/create_rpm.sh writes CWAGENT_VERSION with "-" as "+" (RPM versions have no "-").
    return {"format": "rpm", "name": fields.get("name", ""), "version": fields["version"].replace("+", "-"),
            "package_version": "{0}-{1}".format(fields["version"], fields.get("release", "")), "arch": fields.get("arch", "")}


def read(path):
    """{"format": "deb"|"rpm", "name", "version" (as CWAGENT_VERSION writes it), "package_version", "arch"}."""
    try:
        with open(os.path.expanduser(path), "rb") as f:
            magic = f.read(8)
            if magic == AR_MAGIC:
                return deb_fields(f, path)
            if magic[:4] == RPM_LEAD:
                return rpm_fields(f, path)
    except OSError as e:
        raise PackageVersionError("cloudwatch_agent_package_file {0} cannot be read: {1}.".format(path, e.strerror)) from None
    raise PackageVersionError("cloudwatch_agent_package_file {0} is neither a deb (ar archive) nor an RPM package.".format(path))


def check(path, version, arch, package_format):
    """Refuse a package file that holds another version (or architecture, or format) than the host is to get."""
    found = read(path)
    if found["version"] != version:
        raise PackageVersionError(
            "cloudwatch_agent_package_file {0} holds agent version {1} (package version {2}), but cloudwatch_agent_version "
            "is {3}: set cloudwatch_agent_version to {1}, or give the file of version {3}. Nothing was installed.".format(
                path, found["version"], found["package_version"], version))
    if package_format and found["format"] != package_format:
        raise PackageVersionError(
            "cloudwatch_agent_package_file {0} is {1} package, but this host installs {2} packages. Nothing was "
            "installed.".format(path, NAMES[found["format"]], package_format))
    if arch in ARCHES and found["arch"] not in ARCHES[arch]:
        raise PackageVersionError(
            "cloudwatch_agent_package_file {0} is built for {1}, but this host is {2}. Nothing was installed.".format(
                path, found["arch"] or "(no architecture)", arch))
    return found
