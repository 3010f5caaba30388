# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""2. Parameter Store economy in controller mode, for inventories of N hosts that are never contacted.

  * the agents playbook as shipped, limited to its first play (--limit localhost): the play that reads the
    parameters for the whole fleet, whatever N;
  * the role's per-batch path (tasks_from fetch_parameters, as configure.yml includes it) under serial
    batches of several sizes, with no first play: every batch after the first must read nothing.

The agent mode (each host reads with its own key) and the full agents playbook against real containers are
measured by fleet.py.
"""

import json

from common import PLAYBOOKS, STATE, LocalAWS, ansible_env, by_operation, load_average, playbook

PARAMETERS = ["AmazonCloudWatch-bench-a", "AmazonCloudWatch-bench-b"]


def inventory(n):
    path = STATE / "ssm" / f"inventory-{n}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    hosts = "".join(f"    cw-bench-ssm-{i}:\n" for i in range(n))
    path.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "cloudwatch_onprem:\n  hosts:\n" + hosts +
        "  vars:\n    ansible_connection: local\n    cloudwatch_agent_ssm_fetch: controller\n"
        "    cloudwatch_agent_region: us-east-1\n"
        f"    cloudwatch_agent_ssm_parameters: {PARAMETERS}\n")
    return path


def run(sizes=(1, 10, 50), serials=("1", "10", "100%")):
    rows = []
    with LocalAWS("ssm-aws") as aws:
        import boto3
        ssm = boto3.client("ssm", endpoint_url=aws.url, region_name="us-east-1",
                           aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
        for name in PARAMETERS:
            ssm.put_parameter(Name=name, Value='{"agent": {"metrics_collection_interval": 60}}', Type="String")
        ssm.put_parameter(Name="/cloudwatch-agent/keys/cw-bench-onprem", Type="SecureString", Value=json.dumps(
            {"access_key_id": "AKIAEXAMPLEBENCH0000", "secret_access_key": "not-a-real-secret",
             "user_name": "cw-bench-onprem", "created": "2026-01-01T00:00:00+00:00"}))
        env = ansible_env(aws.url)
        for n in sizes:
            inv = inventory(n)
            cases = [("agents.yml, first play", "-", ["-i", inv, "observability.cloudwatch.agents", "--limit", "localhost"])]
            cases += [("fetch_parameters per batch", serial,
                       ["-i", inv, PLAYBOOKS / "ssm_batches.yml", "-e", f"bench_serial={serial}"]) for serial in serials]
            cases += [("key store ssm: lookup per host", "100%",
                       ["-i", inv, PLAYBOOKS / "ssm_keystore.yml", "-e", "bench_serial=100%"])]
            for case, serial, args in cases:
                load = load_average()
                aws.record()
                took, output = playbook(args, env, log=STATE / "ssm" / f"{n}-{case.split()[0].strip(',')}-{case.split()[1]}-{serial.strip('%')}.log")
                calls = by_operation(aws.calls())
                batches = output.count("PLAY [")
                rows.append({"hosts": n, "case": case, "serial": serial, "plays_or_batches": batches,
                             "get_parameter": calls.get("GetParameter", 0) + calls.get("GetParameters", 0),
                             "parameters": len(PARAMETERS), "calls": calls, "seconds": round(took, 2), "load": load})
    return rows


if __name__ == "__main__":
    import sys
    print(json.dumps(run(tuple(int(x) for x in sys.argv[1:]) or (1, 10, 50)), indent=1))
