# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's systemd drop-in for the agent's unit: its mode in ec2, and the sandbox the agent runs in.

What the agent writes, as its sources show (github.com/aws/amazon-cloudwatch-agent): the start program
translates the configuration at every start into etc/ (TOML, YAML, env-config.json), chowns etc/, logs/ and
var/ before it drops privileges (internal/util/user/userutil.go), logs to logs/ (tool/paths/paths_unix.go),
keeps file offsets and OpenTelemetry file storage in logs/state/ (translator/translate/logs/util/
file_state_folder.go, translator/translate/otel/extension/filestorage/translator.go) and its PID file in var/
(cmd/start-amazon-cloudwatch-agent/path.go). Anything else stays read-only, for a root agent too.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

HEADER = "# Managed by the observability.cloudwatch agent role: changes made here are replaced."
AGENT_DIR = "/opt/aws/amazon-cloudwatch-agent"
AGENT_WRITES = tuple(AGENT_DIR + "/" + name for name in ("etc", "logs", "var"))
# Each of these only hides or freezes what the agent never writes: it reads /proc, /sys, log files and the
# journal, and its start program needs only chown, setgid and setuid to drop to run_as_user.
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
             "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectControlGroups=yes")
# What systemd would read as a separator, a quote, an escape or a specifier in ReadWritePaths.
UNSAFE = re.compile(r"[\s\"'\\%;]")


def write_paths_error(paths):
    """What is wrong with the first write path systemd would read otherwise than meant, or that opens everything."""
    for path in paths:
        if (not isinstance(path, str) or not path.startswith("/") or UNSAFE.search(path) or path.rstrip("/") == ""
                or any(part in (".", "..") for part in path.split("/"))):
            return (
                "cloudwatch_agent_sandbox_write_paths: %r is not allowed. Give absolute paths of files or directories "
                "the agent writes (such as the directory of a log file collected with auto_removal, or agent.logfile "
                "elsewhere than the agent's logs/), without whitespace, quotes, backslashes, %%, ; or . and .. parts, "
                "and not / itself; or set cloudwatch_agent_sandbox: false to run the agent unsandboxed." % (path,))
    return None


def _inside(path, allowed):
    return any(path == top.rstrip("/") or path.startswith(top.rstrip("/") + "/") for top in allowed)


def _dict(value):
    return value if isinstance(value, dict) else {}


def outside(configs, write_paths):
    """What the configurations have the agent write that the sandbox keeps read-only: [(path, why)]."""
    wanted = []
    for config in configs:
        logfile = _dict(config.get("agent")).get("logfile")
        if isinstance(logfile, str) and logfile:
            wanted.append((logfile, "agent.logfile"))
        entries = _dict(_dict(_dict(config.get("logs")).get("logs_collected")).get("files")).get("collect_list")
        for entry in entries if isinstance(entries, list) else []:
            if _dict(entry).get("auto_removal") is True and isinstance(entry.get("file_path"), str):
                # It deletes the file once read: a write to the file's directory.
                wanted.append((posixpath.dirname(entry["file_path"]), "auto_removal of %s" % entry["file_path"]))
    allowed = AGENT_WRITES + tuple(write_paths)
    return [(path, why) for path, why in wanted if not _inside(posixpath.normpath(path), allowed)]


def dropin(mode, sandbox=True, write_paths=()):
    """The drop-in's text, or None when it has nothing to set (the role then removes it)."""
    notes, lines = [], []
    if mode == "ec2":
        notes.append("# The agent's service translates its configuration again in auto mode at every start: keep ec2 mode.")
        lines.append("Environment=RUN_IN_AWS=True")
    if sandbox:
        notes.append("# The agent writes only its etc/, logs/ and var/ (and a private /tmp); the rest is read-only to it.")
        # "-": a path that does not exist does not stop the unit from starting.
        lines += list(HARDENING) + ["ReadWritePaths=" + " ".join("-" + path for path in AGENT_WRITES + tuple(write_paths))]
    if not lines:
        return None
    return "\n".join([HEADER] + notes + ["[Service]"] + lines) + "\n"
