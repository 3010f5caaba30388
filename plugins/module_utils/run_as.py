# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands run as the agent's user, for the steps that work inside the agent's tree, which that user owns.

Run as root there, a step would follow whatever that user put in the tree. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import subprocess

from ansible_collections.observability.cloudwatch.plugins.module_utils.host_files import AnsibleHostFileError, open_dir, split, user_ids, user_name


def run_as(argv, user, env=None, cwd=None):
    """(rc, stdout, stderr) of argv run as user (a name or uid), with env added to the inherited environment.

    A user other than root gets its uid, primary gid and supplementary groups, its HOME and umask 077.
    """
    entry = pwd.getpwuid(user_ids(user)[0])
    child_env = dict(os.environ)
    child_env.update(env or {})
    become = None
    if entry.pw_uid != 0:
        child_env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)

        def become():
            # Groups first: once the uid is dropped, the groups can no longer be changed.
            os.initgroups(entry.pw_name, entry.pw_gid)
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.umask(0o077)

    # run_command cannot drop privileges between fork and exec (no preexec_fn), which is what this is for
    proc = subprocess.run(  # pylint: disable=ansible-bad-function
        argv, cwd=cwd or "/", env=child_env, preexec_fn=become, stdin=subprocess.DEVNULL, check=False,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8", errors="replace")
    return proc.returncode, proc.stdout, proc.stderr


def owner_of_dir(path):
    """The name (or uid) of the user owning the directory at path; a link at any component is an error."""
    dirs, name = split(path)
    fd = open_dir(dirs + [name])
    if fd is None:
        raise AnsibleHostFileError(path, "directory does not exist")
    try:
        return user_name(os.fstat(fd).st_uid)
    finally:
        os.close(fd)
