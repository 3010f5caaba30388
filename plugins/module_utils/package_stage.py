# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent package on the host: a fresh directory only root can enter, and the package's digest checked there
right before installation, so no other user can place or change the file the package manager installs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import stat
import tempfile

PREFIX = "observability.cloudwatch-agent-package."


class PackageStageError(Exception):
    pass


def create(parent):
    """A new directory with a random name in parent, mode 0700, owned by the caller."""
    return tempfile.mkdtemp(prefix=PREFIX, dir=parent)


def _is_stage(path):
    return os.path.basename(os.path.normpath(path)).startswith(PREFIX)


def verify(path, sha256):
    """Refuse the staged package unless it is a regular file of ours, in a directory of ours that no one else can
    enter, and holds exactly the bytes the controller verified."""
    directory = os.path.dirname(path)
    uid = os.geteuid()
    st = os.lstat(directory)
    if not _is_stage(directory) or not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise PackageStageError(
            "{0} is not a staging directory made for the package (a directory of uid {1}, mode 0700, named {2}*): "
            "the package was not installed.".format(directory, uid, PREFIX)
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        raise PackageStageError("Cannot read the staged package {0}: {1}; it was not installed.".format(path, e.strerror)) from e
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            raise PackageStageError("The staged package {0} is not a regular file of uid {1}: it was not installed.".format(path, uid))
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256.lower():
        raise PackageStageError(
            "The staged package {0} has SHA-256 {1}, not the {2} the controller verified (the file changed after "
            "verification or in transit): it was not installed.".format(path, digest.hexdigest(), sha256.lower())
        )


def remove(path, check_mode=False):
    """Remove a staging directory and what it holds; whether there was one. A link or any other path is left alone."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not _is_stage(path) or not stat.S_ISDIR(st.st_mode):
        raise PackageStageError("{0} is not a staging directory made for the package: it was left alone.".format(path))
    if not check_mode:
        shutil.rmtree(path)
    return True
