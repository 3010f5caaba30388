# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: paths, the local AWS, running ansible-playbook niced, the load average."""

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The virtualenv that runs the benchmarks (make bench: $(VENV)/bin/python), also when it is not ROOT/.venv.
BIN = Path(sys.executable).parent
STATE = ROOT / "build" / "bench"
RESULTS = STATE / "results.json"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"

_spec = importlib.util.spec_from_file_location("local_aws", ROOT / "tests" / "tools" / "local_aws.py")
local_aws = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local_aws)

# Every process the benchmarks start runs at the lowest CPU and I/O priority: the machine is shared.
NICE = ["nice", "-n", "19"] + (["ionice", "-c3"] if subprocess.run(
    ["sh", "-c", "command -v ionice"], capture_output=True, check=False).returncode == 0 else [])


# A measurement taken above this 1-minute load average is repeated (fleet.py), after waiting for the load to fall.
LOAD_LIMIT = 2
LOAD_WAIT = 60


def load_average():
    """The 1-minute load average, recorded next to every measurement."""
    return round(os.getloadavg()[0], 2)


def wait_for_load(limit=LOAD_LIMIT, timeout=LOAD_WAIT, poll=5):
    """Wait up to ``timeout`` seconds for the 1-minute load average to fall to ``limit``; return the last value."""
    deadline = time.monotonic() + timeout
    load = load_average()
    while load > limit and time.monotonic() < deadline:
        time.sleep(poll)
        load = load_average()
    return load


def ansible_env(url=None, **extra):
    env = dict(os.environ)
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
        PYTHONPATH=str(ROOT / "build" / "collections"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_DEPRECATION_WARNINGS="false",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_INTERPRETER_PYTHON="auto_silent",
    )
    if url:
        env.update(local_aws.environment(url))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def playbook(args, env, log=None, check=True):
    """Run ansible-playbook niced; return (seconds, output)."""
    started = time.monotonic()
    proc = subprocess.run(NICE + [str(BIN / "ansible-playbook"), *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    output = proc.stdout + proc.stderr
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(output)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook {' '.join(map(str, args))} failed ({proc.returncode}); "
                           f"log: {log}\n{output[-3000:]}")
    return took, output


def recap_changed(output):
    """The sum of changed= over the PLAY RECAP lines."""
    recap = output.split("PLAY RECAP", 1)[-1]
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def host_tasks(output):
    """What the host_tasks callback printed: {host: tasks that ran on that host}."""
    found = re.search(r"^HOST_TASKS (\{.*\})$", output, re.MULTILINE)
    return json.loads(found.group(1)) if found else {}


def profile_tasks(output):
    """The task times profile_tasks prints at the end: [(task, seconds)], costliest first."""
    rows = []
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        found = re.match(r"^(.+?) -{3,} (\d+\.\d+)s$", line.strip())
        if found:
            rows.append((found.group(1).strip(), float(found.group(2))))
    return rows


class LocalAWS:
    """A moto server of the benchmarks' own (not the test suite's), stopped on exit."""

    def __init__(self, name):
        self.dir = STATE / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = None
        self.url = None

    def __enter__(self):
        self.process, self.url = local_aws.start(self.dir, log_path=self.dir / "moto.log")
        os.setpriority(os.PRIO_PROCESS, self.process.pid, 19)
        subprocess.run(["ionice", "-c3", "-p", str(self.process.pid)], capture_output=True, check=False)
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)

    def reset(self):
        local_aws.reset(self.url)

    def record(self):
        local_aws.start_recording(self.url)

    def calls(self):
        """The recorded calls (see local_aws.stop_recording), each with the parameter names an SSM call asked for."""
        local_aws._post(self.url, "/moto-api/recorder/stop-recording")
        with urllib.request.urlopen(self.url + "/moto-api/recorder/download-recording", timeout=30) as response:
            entries = [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]
        return [dict(local_aws._describe_call(entry), names=_parameter_names(entry)) for entry in entries]


def _parameter_names(entry):
    """Name (GetParameter, PutParameter) or Names (GetParameters) of a JSON-protocol request; [] for others."""
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        request = json.loads(body)
    except ValueError:
        return []
    if not isinstance(request, dict):
        return []
    return [request["Name"]] if isinstance(request.get("Name"), str) else list(request.get("Names") or [])


def by_operation(calls, operations=None):
    counts = {}
    for call in calls:
        if operations is None or call["operation"] in operations:
            counts[call["operation"]] = counts.get(call["operation"], 0) + 1
    return dict(sorted(counts.items()))


READ_PREFIXES = ("Get", "List", "Describe")


def is_read(operation):
    return operation.startswith(READ_PREFIXES)


def load_results():
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save_results(section, value):
    results = load_results()
    results[section] = value
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))
