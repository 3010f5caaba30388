#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: agent_facts
short_description: Read the state of the Amazon CloudWatch agent on a host in one round trip
version_added: 0.1.0
description:
  - Returns, in one call, what the role P(observability.cloudwatch.agent#role) needs to decide what to change on a host,
    and what the status report shows.
  - The installed agent version, as the package records it in C(bin/CWAGENT_VERSION).
  - SHA-256 digests of the JSON configuration files the agent holds in C(etc/amazon-cloudwatch-agent.d/) and of
    C(etc/amazon-cloudwatch-agent.json).
  - "The state of C(etc/common-config.toml) (mode, owner, group, modification time, size and digest) and of the
    shared-credentials file (the same without a digest, and the access key id of the agent's profile: neither the
    secret nor anything derived from it is returned)."
  - Files are read and described without following a symbolic link at any component of their path, as the agent's
    user may own the agent's directories; a link is reported as one (RV(ansible_facts.cloudwatch_agent.common_config.link)),
    never its target's metadata or digest.
  - The agent's own status, the JSON printed by C(amazon-cloudwatch-agent-ctl -a status), and the state of its
    systemd unit.
  - The same metadata and digests for the files the role delivers and for any other files asked for, and the
    members of the groups asked for, so that the role can skip every task whose result is already in place.
  - Whether the host's own hardware says it is an EC2 instance, from its DMI data in C(/sys/devices/virtual/dmi/id)
    and the Xen hypervisor's C(/sys/hypervisor/uuid) (no network call).
  - This module does not talk to AWS and needs nothing but Python's standard library on the target.
author:
  - observability.cloudwatch maintainers (@observability-collections)
options:
  prefix:
    description:
      - Where the agent is installed.
    type: path
    default: /opt/aws/amazon-cloudwatch-agent
  credentials_file:
    description:
      - The shared-credentials file to describe. Only its metadata and the access key id of the agent's profile
        are returned, no digest.
    type: path
    default: /etc/observability.cloudwatch/credentials
  credentials_sha256:
    description:
      - The SHA-256 digest the shared-credentials file should have. Only whether it has it is returned, as
        RV(ansible_facts.cloudwatch_agent.credentials_file.matches); the file's own digest is not.
    type: str
  state_file:
    description:
      - A JSON file in which the role keeps what it last applied (digests only, never secrets).
      - Returned parsed as RV(ansible_facts.cloudwatch_agent.managed_state).
    type: path
    default: /var/lib/observability.cloudwatch/state.json
  status:
    description:
      - Whether to run C(amazon-cloudwatch-agent-ctl -a status) and C(systemctl show) for the agent's unit.
    type: bool
    default: true
  delivered_dir:
    description:
      - The directory into which the role delivers the configuration documents before the agent applies them.
      - Its files are returned as RV(ansible_facts.cloudwatch_agent.delivered_files).
    type: path
    default: /var/lib/observability.cloudwatch/delivered
  paths:
    description:
      - More files to describe (metadata and digest, never contents), returned by path in
        RV(ansible_facts.cloudwatch_agent.files).
    type: list
    elements: path
    default: []
  presence:
    description:
      - Paths whose presence only is returned (a file, directory or link at the path, none followed), by path in
        RV(ansible_facts.cloudwatch_agent.present). Nothing of their content is read.
    type: list
    elements: path
    default: []
  aws_errors_minutes:
    description:
      - Read the end of the agent's log, C(logs/amazon-cloudwatch-agent.log), for the AWS errors of the last this many
        minutes (requests refused for credentials or permissions, and throttling), returned as
        RV(ansible_facts.cloudwatch_agent.aws_errors).
      - V(0) does not read the log.
    type: int
    default: 0
  groups:
    description:
      - Groups whose members to return in RV(ansible_facts.cloudwatch_agent.groups). Groups that do not exist on
        the host are left out.
    type: list
    elements: str
    default: []
  health:
    description:
      - Wait, after a start of the agent, until it is healthy or not, and return the verdict as
        RV(ansible_facts.cloudwatch_agent.health). The other facts are read after the wait.
      - "Healthy: C(amazon-cloudwatch-agent-ctl -a status) says running and the unit is active; the agent's log,
        since the first line of the start of its current process (C(Starting AmazonCloudWatchAgent)), holds the
        line that its pipeline runs (C(Everything is ready. Begin running and processing data.), which the
        OpenTelemetry collector the agent runs prints once its pipelines have started, or C(running in logs-only
        mode) when it runs none); and the same process (main PID, restart count) still runs O(health_settle)
        seconds after that line."
      - The agent has no readiness signal of its own (its unit is C(Type=simple)), and some of its failures, such
        as a statsd port already in use, end it from a goroutine after it printed that line.
    type: bool
    default: false
  health_timeout:
    description:
      - With O(health), the seconds the agent has to report running and log that its pipeline runs.
    type: int
    default: 60
  health_settle:
    description:
      - With O(health), the seconds the same agent process must keep running after its pipeline runs.
    type: int
    default: 15
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  facts:
    support: full
    description: The state is returned as the fact C(cloudwatch_agent).
notes:
  - The status action of C(amazon-cloudwatch-agent-ctl) prints JSON with the keys C(status), C(starttime),
    C(configstatus) and C(version).
seealso:
  - name: CloudWatch agent command line
    description: The actions of amazon-cloudwatch-agent-ctl.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Agent-commandline-fleet.html
"""

EXAMPLES = r"""
- name: Read the agent's state
  observability.cloudwatch.agent_facts:
  register: agent

- name: Show the installed version
  ansible.builtin.debug:
    msg: "{{ ansible_facts.cloudwatch_agent.version | default('not installed', true) }}"

- name: Describe a credentials file kept elsewhere, without asking the agent for its status
  observability.cloudwatch.agent_facts:
    credentials_file: /etc/cloudwatch/credentials
    status: false
"""

RETURN = r"""
ansible_facts:
  description: Facts about the agent.
  returned: always
  type: dict
  contains:
    cloudwatch_agent:
      description: The agent's state on the host.
      returned: always
      type: dict
      contains:
        installed:
          description: Whether the agent's control script is present.
          type: bool
          sample: true
        version:
          description: The installed version as written in C(bin/CWAGENT_VERSION), or V(null).
          type: str
          sample: 1.300069.0b1529
        prefix:
          description: Where the agent is installed.
          type: str
          sample: /opt/aws/amazon-cloudwatch-agent
        config_files:
          description: The files in C(etc/amazon-cloudwatch-agent.d/), by name, each with C(sha256), C(size), C(mtime), C(mode).
          type: dict
          sample: {"ssm_AmazonCloudWatch-linux": {"sha256": "5d41...", "size": 512, "mtime": 1700000000.0, "mode": "0644"}}
        delivered_dir_exists:
          description: Whether O(delivered_dir) exists.
          type: bool
        delivered_files:
          description: The files in O(delivered_dir), with the same keys as RV(ansible_facts.cloudwatch_agent.config_files).
          type: dict
        files:
          description: The state of each file of O(paths), by path, with the same keys as RV(ansible_facts.cloudwatch_agent.common_config).
          type: dict
        present:
          description: Whether anything is at each path of O(presence), by path.
          type: dict
        groups:
          description: The members of each group of O(groups) that exists on the host, by group name.
          type: dict
          sample: {"adm": ["syslog", "cwagent"]}
        json_config:
          description: The state of C(etc/amazon-cloudwatch-agent.json) (see RV(ansible_facts.cloudwatch_agent.common_config)).
          type: dict
        toml_exists:
          description: Whether the translated C(etc/amazon-cloudwatch-agent.toml) exists as a regular file (the agent is configured).
          type: bool
        common_config:
          description: The state of C(etc/common-config.toml).
          type: dict
          contains:
            path:
              description: The file's path.
              type: str
            exists:
              description: Whether the file exists.
              type: bool
            mode:
              description: Its permission bits, in octal.
              type: str
              sample: "0600"
            owner:
              description: Its owner's name (or uid when the user is unknown).
              type: str
            group:
              description: Its group's name (or gid).
              type: str
            mtime:
              description: Its modification time, in seconds since the epoch.
              type: float
            size:
              description: Its size in bytes.
              type: int
            sha256:
              description: The SHA-256 digest of its contents.
              type: str
            link:
              description:
                - Present and V(true) when the path, or a directory on it, is a symbolic link.
                - Then RV(ansible_facts.cloudwatch_agent.common_config.exists) is V(false).
              type: bool
            hardlinks:
              description:
                - Present when the file has other names (hard links), with their number. Such a file is not described
                  (it may be a file root keeps elsewhere) and RV(ansible_facts.cloudwatch_agent.common_config.exists) is V(false).
              type: int
        credentials_file:
          description:
            - The state of the shared-credentials file, with the same keys as RV(ansible_facts.cloudwatch_agent.common_config) except C(sha256).
            - Never its secret or anything derived from it; with O(credentials_sha256), C(matches) says whether
              the file has that digest.
          type: dict
          contains:
            matches:
              description: With O(credentials_sha256), whether the file has that digest.
              type: bool
            access_key_id:
              description:
                - The C(aws_access_key_id) of the profile C(AmazonCloudWatchAgent), the one the agent reads, when it
                  has the form of an access key id.
                - Absent when the file is not described (C(exists) is V(false), for example for a symbolic link or a
                  file with other names) or holds no such key id.
              type: str
              sample: AKIAIOSFODNN7EXAMPLE
        managed_state:
          description: What the role last applied, read from O(state_file), or V(null).
          type: dict
        agent_users:
          description:
            - The users the agent runs or ran as, whose ownership is accepted inside the agent's tree; the package's
              user C(cwagent) and the C(run_as_user) the role last applied.
          type: list
          elements: str
          sample: ["cwagent"]
        status:
          description: The JSON printed by C(amazon-cloudwatch-agent-ctl -a status), or V(null) when it could not be read.
          type: dict
          sample: {"status": "running", "starttime": "2024-01-01T00:00:00+00:00", "configstatus": "configured", "version": "1.300069.0b1529"}
        status_error:
          description: Why RV(ansible_facts.cloudwatch_agent.status) is V(null), when it is.
          type: str
        service:
          description: Properties of the C(amazon-cloudwatch-agent.service) unit from C(systemctl show), or V(null).
          type: dict
          sample: {"ActiveState": "active", "SubState": "running", "MainPID": "1234", "NRestarts": "0", "UnitFileState": "enabled",
                   "NeedDaemonReload": "no"}
        aws_errors:
          description:
            - "With O(aws_errors_minutes), the lines of the agent's log in that many minutes up to now that quote an AWS
              error: C(refused) (C(AccessDenied), C(InvalidClientTokenId), C(ExpiredToken) and the like), C(throttled)
              (C(Throttling), C(ThrottlingException) and the like), the count of each code in C(codes), and the newest
              such line in C(last)."
            - V(null) without O(aws_errors_minutes) or when the log cannot be read (it is not followed through a link).
          type: dict
          sample: {"minutes": 15, "refused": 12, "throttled": 0, "codes": {"AccessDeniedException": 12},
                   "last": "2024-01-01T00:00:00Z E! cloudwatch: WriteToCloudWatch failure, err: AccessDeniedException: not authorized"}
        ec2:
          description:
            - Whether the host's hardware says it is an EC2 instance. C(sys_vendor) is C(Amazon EC2) (Nitro),
              C(board_asset_tag) is an instance id, the Xen C(/sys/hypervisor/uuid) starts with C(ec2), or
              C(bios_version) contains C(amazon).
          type: bool
        ec2_evidence:
          description: Which value showed it, or V(null).
          type: str
          sample: "sys_vendor=Amazon EC2"
        python:
          description: The Python this module ran with, which the unit that keeps log files readable runs with.
          type: str
          sample: /usr/bin/python3
        health:
          description: With O(health), the verdict on the agent's start.
          returned: when O(health) is true
          type: dict
          contains:
            healthy:
              description: Whether the agent is healthy (see O(health)).
              type: bool
            reason:
              description: Why it is not, or V(null).
              type: str
              sample: stopped 8s after its start, having reported running
            seconds:
              description: How long the wait took.
              type: int
            main_pid:
              description: The main PID of the agent's unit when it first reported running, or V(null).
              type: str
            restarts:
              description: The unit's restart count (C(NRestarts)) then, or V(null).
              type: str
            errors:
              description:
                - When it is not healthy, the agent's own last error lines (C(E!), C(ERROR), fatal errors and panics)
                  from its log for this start, else from the unit's journal, else the journal's last line.
              type: list
              elements: str
              sample: ["2025-01-01T00:00:08Z I! ERROR: ListenUDP - listen udp 127.0.0.2:8125: bind: address already in use"]
"""

import grp
import json
import os
import re
import stat
import sys
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_health
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_log
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files

SERVICE = "amazon-cloudwatch-agent.service"
SERVICE_PROPERTIES = ("LoadState", "ActiveState", "SubState", "MainPID", "NRestarts", "UnitFileState", "Result", "NeedDaemonReload")
HEALTH_PROPERTIES = ("ExecMainStartTimestampMonotonic", "ExecMainStatus")
# The unit's sub-states once its main process has ended (auto-restart: systemd waits RestartSec to start it again).
EXITED = ("auto-restart", "failed", "dead", "exited")
# /sys/class/dmi is a link to this directory on real kernels; reading it here follows no link.
DMI_DIR = "/sys/devices/virtual/dmi/id"
HYPERVISOR_UUID = "/sys/hypervisor/uuid"
# The profile the role writes and the agent reads (shared_credential_profile in common-config.toml).
PROFILE = "AmazonCloudWatchAgent"
# What AWS issues as key ids; a value of another form (a secret written on the wrong line) is never returned.
KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")

# Every file of the agent's tree is read without following a link (the agent's user may own its directories);
# a link is reported as one, never its target's metadata or digest.
file_state = host_files.describe


def config_files(directory):
    files = {}
    for name in host_files.list_dir(directory) or []:
        state = file_state(os.path.join(directory, name))
        if state["exists"]:
            files[name] = {"sha256": state["sha256"], "size": state["size"], "mtime": state["mtime"], "mode": state["mode"]}
    return files


def present(path):
    state = file_state(path, digest=False)
    return bool(state["exists"] or state.get("link") or state.get("hardlinks")) or is_dir(path)


def access_key_id(data):
    """The aws_access_key_id of PROFILE in a shared-credentials file's bytes, or None; nothing else is kept."""
    section = None
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == PROFILE and line.partition("=")[0].strip() == "aws_access_key_id":
            value = line.partition("=")[2].strip()
            return value if KEY_ID.match(value) else None
    return None


def credentials_state(path, expected=None):
    """The credentials file's metadata and key id, read without following a link; never its secret.

    Given the digest the file should have, also whether it has it (and nothing else derived from the secret).
    """
    state = file_state(path, digest=expected is not None)
    digest = state.pop("sha256", None)
    if expected is not None:
        state["matches"] = digest is not None and digest == expected
    if state["exists"]:
        try:
            key_id = access_key_id(host_files.read(path) or b"")
        except (host_files.AnsibleHostFileError, OSError):
            key_id = None  # replaced since it was described: no key id rather than another file's
        if key_id:
            state["access_key_id"] = key_id
    return state


def is_dir(path):
    return host_files.list_dir(path) is not None


def agent_text(path):
    """A small file of the agent's tree, read without following a link, or None."""
    try:
        data = host_files.read(path)
    except (host_files.AnsibleHostFileError, OSError):
        return None
    try:
        return data.decode("utf-8").strip() if data is not None else None
    except UnicodeDecodeError:
        return None


def aws_errors(path, minutes):
    """The AWS errors of the last minutes in the agent's log, read without following a link, or None."""
    if not minutes:
        return None
    try:
        data = host_files.read(path, last=agent_log.TAIL_BYTES)
    except (host_files.AnsibleHostFileError, OSError):
        return None
    if data is None:
        return None
    return agent_log.aws_errors(data.decode("utf-8", "replace"), time.time(), minutes)


def group_members(names):
    members = {}
    for name in names:
        try:
            members[name] = list(grp.getgrnam(name).gr_mem)
        except KeyError:
            continue
    return members


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def read_json(path):
    text = agent_text(path)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def ec2_sign(sys_vendor="", bios_version="", board_asset_tag="", hypervisor_uuid=""):
    """The value that shows an EC2 instance (Nitro: DMI; Xen: DMI or the hypervisor's uuid), or None."""
    if sys_vendor == "Amazon EC2":
        return "sys_vendor=Amazon EC2"
    if board_asset_tag.startswith("i-"):
        return "board_asset_tag=" + board_asset_tag
    if hypervisor_uuid.lower().startswith("ec2"):
        return "hypervisor_uuid=" + hypervisor_uuid
    if "amazon" in bios_version.lower():
        return "bios_version=" + bios_version
    return None


def ec2_evidence():
    values = dict((name, read_text(os.path.join(DMI_DIR, name)) or "") for name in ("sys_vendor", "bios_version", "board_asset_tag"))
    return ec2_sign(hypervisor_uuid=read_text(HYPERVISOR_UUID) or "", **values)


def installed(ctl):
    state = file_state(ctl, digest=False)
    return state["exists"] and int(state["mode"], 8) & stat.S_IXUSR != 0


def agent_status(module, ctl):
    rc, out, err = module.run_command([ctl, "-a", "status"])
    if rc != 0:
        return None, (err or out).strip() or "amazon-cloudwatch-agent-ctl -a status exited with %d" % rc
    try:
        start = out.index("{")
        return json.loads(out[start:out.rindex("}") + 1]), None
    except ValueError:
        return None, "amazon-cloudwatch-agent-ctl -a status printed no JSON: %s" % out.strip()[:200]


def service_state(module, properties=SERVICE_PROPERTIES):
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return None
    command = [systemctl, "show", SERVICE] + ["--property=%s" % prop for prop in properties]
    rc, out, dummy = module.run_command(command)
    if rc != 0:
        return None
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return values or None


def journal(module):
    journalctl = module.get_bin_path("journalctl")
    if not journalctl:
        return []
    dummy, out, dummy = module.run_command([journalctl, "--unit", SERVICE, "--lines", "50", "--no-pager", "--output", "cat"])
    return out.splitlines()


def health(module):
    """Wait until the agent started in this run is healthy or not (module_utils/agent_health.py)."""
    prefix = module.params["prefix"]
    ctl = os.path.join(prefix, "bin", "amazon-cloudwatch-agent-ctl")

    def observe():
        service = service_state(module, SERVICE_PROPERTIES + HEALTH_PROPERTIES) or {}
        status = agent_status(module, ctl)[0] if installed(ctl) else None
        running = (status or {}).get("status") == "running" and service.get("ActiveState") == "active"
        # When systemd last started the main process, kept after it exited; on the monotonic clock systemd uses.
        since_start = time.monotonic() - int(service.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
        started = time.time() - since_start if service.get("ExecMainStartTimestampMonotonic", "0") != "0" else None
        return {"running": running, "pid": service.get("MainPID"), "restarts": service.get("NRestarts"),
                "started": started or agent_health.epoch((status or {}).get("starttime")),
                "exited": not running and service.get("SubState") in EXITED, "exit_status": service.get("ExecMainStatus")}

    version = agent_text(os.path.join(prefix, "bin", "CWAGENT_VERSION"))
    verdict = agent_health.watch(observe, lambda: agent_health.log_tail(os.path.join(prefix, "logs", "amazon-cloudwatch-agent.log")),
                                 module.params["health_timeout"], module.params["health_settle"], time.time, time.sleep,
                                 ready_line=agent_health.logs_ready_line(version))
    section = verdict.pop("section")
    verdict["errors"] = [] if verdict["healthy"] else agent_health.agent_errors(section, journal(module))
    return verdict


def gather(module):
    prefix = module.params["prefix"]
    etc = os.path.join(prefix, "etc")
    ctl = os.path.join(prefix, "bin", "amazon-cloudwatch-agent-ctl")
    credentials_file = module.params["credentials_file"]
    state_file = module.params["state_file"]
    delivered_dir = module.params["delivered_dir"]
    evidence = ec2_evidence()

    managed_state = read_json(state_file)
    facts = {
        "prefix": prefix,
        "installed": installed(ctl),
        "version": agent_text(os.path.join(prefix, "bin", "CWAGENT_VERSION")) or None,
        "config_files": config_files(os.path.join(etc, "amazon-cloudwatch-agent.d")),
        "json_config": file_state(os.path.join(etc, "amazon-cloudwatch-agent.json")),
        "toml_exists": file_state(os.path.join(etc, "amazon-cloudwatch-agent.toml"), digest=False)["exists"],
        "common_config": file_state(os.path.join(etc, "common-config.toml")),
        # No digest: nothing derived from the secret leaves the host.
        "credentials_file": credentials_state(credentials_file, module.params["credentials_sha256"]),
        "managed_state": managed_state,
        "agent_users": agent_plan.agent_users(managed_state),
        "delivered_dir_exists": is_dir(delivered_dir),
        "delivered_files": config_files(delivered_dir),
        "files": dict((path, file_state(path)) for path in module.params["paths"]),
        "present": dict((path, present(path)) for path in module.params["presence"]),
        "groups": group_members(module.params["groups"]),
        "status": None,
        "status_error": None,
        "service": None,
        "ec2": evidence is not None,
        "ec2_evidence": evidence,
        "python": sys.executable,
        "aws_errors": aws_errors(os.path.join(prefix, "logs", "amazon-cloudwatch-agent.log"), module.params["aws_errors_minutes"]),
    }
    if module.params["status"]:
        facts["service"] = service_state(module)
        if facts["installed"]:
            facts["status"], facts["status_error"] = agent_status(module, ctl)
        else:
            facts["status_error"] = "the agent is not installed"
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            prefix=dict(type="path", default="/opt/aws/amazon-cloudwatch-agent"),
            credentials_file=dict(type="path", default="/etc/observability.cloudwatch/credentials"),
            state_file=dict(type="path", default="/var/lib/observability.cloudwatch/state.json"),
            status=dict(type="bool", default=True),
            delivered_dir=dict(type="path", default="/var/lib/observability.cloudwatch/delivered"),
            paths=dict(type="list", elements="path", default=[]),
            presence=dict(type="list", elements="path", default=[]),
            groups=dict(type="list", elements="str", default=[]),
            aws_errors_minutes=dict(type="int", default=0),
            credentials_sha256=dict(type="str", no_log=True),
            health=dict(type="bool", default=False),
            health_timeout=dict(type="int", default=60),
            health_settle=dict(type="int", default=15),
        ),
        supports_check_mode=True,
    )
    if module.params["aws_errors_minutes"] < 0:
        module.fail_json(msg="aws_errors_minutes must be 0 (do not read the agent's log) or a number of minutes, not %d."
                         % module.params["aws_errors_minutes"])
    for name in ("health_timeout", "health_settle"):
        if module.params[name] < 0:
            module.fail_json(msg="%s must be a number of seconds, 0 or more; got %d" % (name, module.params[name]))
    verdict = health(module) if module.params["health"] else None
    facts = gather(module)
    if verdict is not None:
        facts["health"] = verdict
    module.exit_json(changed=False, ansible_facts={"cloudwatch_agent": facts})


if __name__ == "__main__":
    main()
