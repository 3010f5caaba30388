# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""3. Fleet speed, and the Parameter Store reads of real hosts: N podman containers booting systemd, as in the
Molecule set-up (image localhost/cloudwatch-test-debian:bookworm, the test agent package), on-premises mode
with the key in a file on the controller and the configuration in Parameter Store (the local AWS).

For each N: the floor playbook (minimal facts + one stat) and the agents playbook (all hosts in one batch,
forks = N) side by side: first converge, then the run that changes nothing and the floor, alternating.
At the smallest N also: the no-change run with the same key kept in Parameter Store (an ssm: key store),
counting the reads of that parameter. With experiments: the no-change run in serial batches (controller
mode), the agent mode's reads, and the speed settings (pipelining, fact caching, the free strategy), each
next to a baseline run.
Each measurement waits for the load to fall to LOAD_LIMIT first and is repeated (ATTEMPTS in all) while it
starts above it; the attempt at the lowest load is kept, with every attempt's load.
Containers are named cw-bench-<i> and removed at the end, whatever happens.
"""

import functools
import hashlib
import statistics
import subprocess
import sys

from common import (LOAD_LIMIT, NICE, PLAYBOOKS, ROOT, STATE, LocalAWS, ansible_env, by_operation, host_tasks,
                    load_average, playbook, profile_tasks, recap_changed, wait_for_load)

IMAGE = "localhost/cloudwatch-test-debian:bookworm"
VERSION = "1.300069.0b1529"
PARAMETER = "AmazonCloudWatch-bench"
# The key pair of the file store, also kept here for the run with an ssm: key store.
KEY_PARAMETER = "/cloudwatch-agent/keys/cw-bench-fleet"
ATTEMPTS = 3
DIR = STATE / "fleet"


def sh(*args, check=True):
    return subprocess.run(NICE + list(args), check=check, capture_output=True, text=True, cwd=ROOT)


def prepare_host_side():
    if sh("podman", "image", "exists", IMAGE, check=False).returncode != 0:
        sh(str(ROOT / "tests/tools/podman-setup.sh"))
    package = DIR / "package" / "amazon-cloudwatch-agent.deb"
    # Built on every run (seconds): a package kept from an earlier run may hold an older test agent.
    sh(str(ROOT / "tests/fixtures/build-agent-package.sh"), str(package.parent), VERSION)
    return hashlib.sha256(package.read_bytes()).hexdigest()


def containers(n):
    return [f"cw-bench-{i}" for i in range(n)]


def start_containers(n):
    for name in containers(n):
        sh("podman", "run", "-d", "--name", name, "--hostname", name, "--systemd=always", "--network", "host",
           IMAGE, "/sbin/init")


def remove_containers():
    names = sh("podman", "ps", "-a", "--format", "{{.Names}}").stdout.split()
    mine = [name for name in names if name.startswith("cw-bench-")]
    if mine:
        sh("podman", "rm", "-f", "-t", "5", *mine, check=False)


def write_inventory(n, sha256, fetch="controller", store=None):
    store = store or f"file:{DIR}/onprem-key.json"
    path = DIR / f"inventory-{n}-{fetch}-{store.split(':', 1)[0]}.yml"
    hosts = "".join(f"    {name}:\n" for name in containers(n))
    path.write_text(f"""all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: {sys.executable}
cloudwatch_ec2:
  hosts: {{}}
cloudwatch_onprem:
  hosts:
{hosts}  vars:
    ansible_connection: containers.podman.podman
    ansible_python_interpreter: /usr/bin/python3
    cloudwatch_demo_dir: {DIR}
    cloudwatch_agent_mode: onPremise
    cloudwatch_agent_ssm_fetch: {fetch}
    cloudwatch_agent_ssm_parameters: [{PARAMETER}]
    cloudwatch_agent_access_key_store: "{store}"
    cloudwatch_agent_version: "{VERSION}"
    cloudwatch_agent_package_file: {DIR}/package/amazon-cloudwatch-agent.deb
    cloudwatch_agent_package_verify: sha256
    cloudwatch_agent_package_sha256: {sha256}
    cloudwatch_agent_region: us-east-1
    cloudwatch_agent_start_settle: 2
""")
    return path


SPEED_SETTINGS = {
    "pipelining": {"ANSIBLE_PIPELINING": "true"},
    "fact caching (jsonfile)": {"ANSIBLE_CACHE_PLUGIN": "jsonfile",
                                "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(DIR / "facts"),
                                "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "86400"},
    "strategy free": {"ANSIBLE_STRATEGY": "free"},
}


def _measure_once(aws, env, n, label, args, extra_env=None):
    """One playbook run with its wall time, load, changes, API calls and costliest tasks."""
    load = load_average()
    aws.record()
    took, output = playbook(args, dict(env, **(extra_env or {})), log=DIR / f"{n}-{label.replace(' ', '_')}.log")
    calls = aws.calls()
    reads = [c for c in calls if c["operation"] in ("GetParameter", "GetParameters")]
    per_host = host_tasks(output)
    return {"seconds": round(took, 2), "load": load, "changed": recap_changed(output),
            "host_tasks": max(per_host.values(), default=0),
            "get_parameter": len(reads),
            "get_parameter_signers": len({c["access_key_id"] for c in reads}),
            "get_parameter_key": sum(1 for c in reads if KEY_PARAMETER in c["names"]),
            "calls": by_operation(calls), "tasks": profile_tasks(output)[:12]}


def _measure(aws, env, n, label, args, extra_env=None, repeatable=True):
    """The measurement at the lowest load of up to ATTEMPTS, each after waiting for the load to fall; a run that
    changes the hosts (the first converge) is not repeatable: its one attempt is kept whatever the load."""
    attempts = []
    for attempt in range(ATTEMPTS if repeatable else 1):
        wait_for_load()
        attempts.append(_measure_once(aws, env, n, label + (f" attempt {attempt + 1}" if attempt else ""), args, extra_env))
        if attempts[-1]["load"] <= LOAD_LIMIT:
            break
    best = min(attempts, key=lambda row: row["load"])
    return dict(best, attempt_loads=[row["load"] for row in attempts])


def store_key_in_parameter_store(aws):
    """The file store's key pair as a SecureString, so that the ssm: store run changes nothing on the hosts."""
    import boto3
    ssm = boto3.client("ssm", endpoint_url=aws.url, region_name="us-east-1",
                       aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
    ssm.put_parameter(Name=KEY_PARAMETER, Type="SecureString", Overwrite=True,
                      Value=(DIR / "onprem-key.json").read_text())


def _experiments(result, measure, agents, n, sha256):
    """The side studies at the smallest N: serial batches, the speed settings, then the agent mode (which
    changes the hosts' files, so it comes last)."""
    for serial in ("1", "2"):
        row = measure(f"noop serial {serial}", agents[:-1] + [f"cloudwatch_serial={serial}"])
        result["ssm"].append(dict(row, hosts=n, fetch="controller", serial=serial, parameters=1))
    for name, extra in SPEED_SETTINGS.items():
        if "ANSIBLE_CACHE_PLUGIN" in extra:
            measure(f"warm {name}", agents, extra, repeatable=False)  # fills the cache
        pair = [measure(f"baseline for {name}", agents), measure(f"with {name}", agents, extra)]
        pair += [measure(f"with {name} again", agents, extra), measure(f"baseline for {name} again", agents)]
        base_s = statistics.median([pair[0]["seconds"], pair[3]["seconds"]])
        with_s = statistics.median([pair[1]["seconds"], pair[2]["seconds"]])
        result["experiments"][name] = {"hosts": n, "baseline_seconds": base_s, "with_seconds": with_s,
                                       "ratio": round(with_s / base_s, 2),
                                       "changed": [p["changed"] for p in pair],
                                       "loads": [p["load"] for p in pair]}
    agent_inv = write_inventory(n, sha256, fetch="agent")
    for serial in ("100%", "2"):
        # The first agent-mode run switches the hosts to agent fetching: it changes them and is not repeated.
        row = measure(f"agent mode serial {serial}", ["-i", agent_inv, "observability.cloudwatch.agents",
                                                      "-e", f"cloudwatch_serial={serial}"], repeatable=serial != "100%")
        result["ssm"].append(dict(row, hosts=n, fetch="agent", serial=serial, parameters=1))


def run(sizes=(5,), repetitions=2, experiments=True):
    sha256 = prepare_host_side()
    result = {"sizes": {}, "experiments": {}, "ssm": [], "key_store": None}
    with LocalAWS("fleet-aws") as aws:
        base = dict(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks,host_tasks",
                    ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "benchmarks" / "callback_plugins"),
                    PROFILE_TASKS_TASK_OUTPUT_LIMIT="all", PROFILE_TASKS_SORT_ORDER="descending")
        setup_env = ansible_env(aws.url)
        playbook([PLAYBOOKS / "fleet_setup.yml", "-e", f"bench_dir={DIR}",
                  "-e", f"bench_config_file={ROOT / 'examples/demo/cloudwatch-agent.json'}"],
                 setup_env, log=DIR / "setup.log")
        store_key_in_parameter_store(aws)
        for index, n in enumerate(sorted(sizes)):
            remove_containers()
            try:
                inv = write_inventory(n, sha256)
                env = ansible_env(aws.url, ANSIBLE_FORKS=n, **base)
                start_containers(n)
                playbook(["-i", inv, ROOT / "examples/demo/prepare.yml"], env, log=DIR / f"prepare-{n}.log")
                agents = ["-i", inv, "observability.cloudwatch.agents", "-e", "cloudwatch_serial=100%"]
                floor = ["-i", inv, PLAYBOOKS / "floor.yml"]

                measure = functools.partial(_measure, aws, env, n)

                size = {"forks": n, "floor_before": measure("floor before", floor),
                        "first": measure("first", agents, repeatable=False), "noop": [], "floor": []}
                for rep in range(repetitions):
                    pair = [("noop", agents), ("floor", floor)]
                    for label, args in (pair if rep % 2 == 0 else list(reversed(pair))):
                        size[label].append(measure(f"{label} {rep}", args))
                for label in ("noop", "floor"):
                    size[f"{label}_median"] = round(statistics.median(s["seconds"] for s in size[label]), 2)
                size["ratio_noop_to_floor"] = round(size["noop_median"] / size["floor_median"], 2)
                size["ratio_first_to_floor"] = round(size["first"]["seconds"] / size["floor_median"], 2)
                result["sizes"][str(n)] = size

                if index == 0 and experiments:
                    _experiments(result, measure, agents, n, sha256)
                if index == 0:
                    # Last at this size: the agent mode above left other files on the hosts, and a changed key
                    # store may change them too; the first run puts them in place, the second is measured.
                    ssm_agents = ["-i", write_inventory(n, sha256, store=f"ssm:{KEY_PARAMETER}")] + agents[2:]
                    converge = measure("ssm key store first", ssm_agents, repeatable=False)
                    row = measure("noop ssm key store", ssm_agents)
                    result["key_store"] = dict(row, hosts=n, store=f"ssm:{KEY_PARAMETER}", serial="100%",
                                               first_get_parameter_key=converge["get_parameter_key"],
                                               first_changed=converge["changed"])
            finally:
                remove_containers()
    return result


if __name__ == "__main__":
    import json
    sizes = tuple(int(x) for x in sys.argv[1:]) or (3,)
    print(json.dumps(run(sizes), indent=1))
