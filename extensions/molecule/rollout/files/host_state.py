# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, what each host's agent runs: digests of its configuration files, its service and status.

    host_state.py HOST[,HOST...]

{host: {"reachable": bool, "agent_files": {path: sha256}, "config_d": {name: sha256}, "inputs": [name],
        "delivered_files": {path: sha256}, "service": {"ActiveState": ..., "MainPID": ..., "NRestarts": ...},
        "status": {...} or null, "version": ...}}. agent_files are the files the agent reads its configuration
from (amazon-cloudwatch-agent.d/, the TOML and JSON beside it, common-config.toml), config_d those of
amazon-cloudwatch-agent.d/ by name; delivered_files are the role's copy of what it delivered
(/var/lib/observability.cloudwatch/delivered/), inputs the input plugins of the TOML the agent runs (what the
translator made of the merged documents). Digests and plugin names only: never file contents.
"""

import json
import subprocess
import sys

SCRIPT = r"""
cd /opt/aws/amazon-cloudwatch-agent/etc
for f in amazon-cloudwatch-agent.d/* amazon-cloudwatch-agent.toml amazon-cloudwatch-agent.json common-config.toml; do
    [ -f "$f" ] && echo "agent $(sha256sum "$f")"
done
for f in /var/lib/observability.cloudwatch/delivered/*; do
    [ -f "$f" ] && echo "delivered $(sha256sum "$f")"
done
sed -n 's/^ *\[\[inputs\.\([a-z_]*\)\]\]$/input \1/p' amazon-cloudwatch-agent.toml
systemctl show amazon-cloudwatch-agent -p ActiveState -p MainPID -p NRestarts | sed 's/^/service /'
echo "version $(cat ../bin/CWAGENT_VERSION)"
echo "status $(../bin/amazon-cloudwatch-agent-ctl -a status | tr -d '\n')"
"""


def host_state(host):
    run = subprocess.run(["podman", "exec", host, "sh", "-c", SCRIPT], capture_output=True, text=True, check=False)
    state = {"reachable": run.returncode == 0, "agent_files": {}, "config_d": {}, "delivered_files": {}, "inputs": [],
             "service": {}, "status": None, "version": None}
    if not state["reachable"]:
        state["error"] = run.stderr.strip()[-300:]
        return state
    for line in run.stdout.splitlines():
        kind, _sep, rest = line.partition(" ")
        if kind in ("agent", "delivered"):
            digest, _sep, path = rest.partition("  ")
            state[kind + "_files"][path] = digest
            if path.startswith("amazon-cloudwatch-agent.d/"):
                state["config_d"][path.split("/", 1)[1]] = digest
        elif kind == "service":
            key, _sep, value = rest.partition("=")
            state["service"][key] = value
        elif kind == "input":
            state["inputs"].append(rest.strip())
        elif kind == "version":
            state["version"] = rest.strip()
        elif kind == "status":
            try:
                state["status"] = json.loads(rest[rest.index("{"):])
            except ValueError:
                state["status"] = {"unparsed": rest}
    return state


if __name__ == "__main__":
    print(json.dumps({host: host_state(host) for host in sys.argv[1].split(",")}, indent=1, sort_keys=True))
