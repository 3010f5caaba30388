# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""1. IAM API economy: the collection's iam playbook vs the amazon.aws chain, same end state, same moto server.

Each repetition resets the emulator, then runs one variant twice (first run, then the run that changes
nothing), recording every API call; the variants alternate so that load drifts hit both alike.
"""

import statistics

import boto3

from common import (PLAYBOOKS, STATE, LocalAWS, ansible_env, by_operation, is_read, load_average,
                    local_aws, playbook, recap_changed)

VARIANTS = {
    "collection": ["-e", f"@{PLAYBOOKS.parent / 'vars' / 'iam.yml'}", "observability.cloudwatch.iam"],
    "amazon.aws": [PLAYBOOKS / "iam_amazon_aws.yml"],
}


def end_state(url):
    """What IAM holds after a run, to check that both variants reach the same state."""
    iam = boto3.client("iam", endpoint_url=url, **_credentials())
    state = {}
    for name in ("CloudWatchAgentServerRole", "CloudWatchAgentAdminRole"):
        policies = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        state[name] = {"policies": sorted(p["PolicyName"] for p in policies),
                       "profile_roles": [r["RoleName"] for r in profile["Roles"]]}
    user = "cw-bench-onprem"
    state[user] = {"policies": sorted(p["PolicyName"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]),
                   "keys": len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"])}
    return state


def _credentials():
    env = local_aws.TEST_CREDENTIALS
    return {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
            "region_name": env["AWS_REGION"]}


def run(repetitions=3):
    runs = {name: {"first": [], "noop": []} for name in VARIANTS}
    states = {}
    startup = []
    with LocalAWS("iam-aws") as aws:
        for rep in range(repetitions):
            took, dummy = playbook([PLAYBOOKS / "empty.yml"], ansible_env(aws.url), log=STATE / "iam" / f"empty-{rep}.log")
            startup.append(round(took, 2))
            order = list(VARIANTS) if rep % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                aws.reset()
                key_file = STATE / "iam" / f"key-{name}.json"
                key_file.parent.mkdir(parents=True, exist_ok=True)
                key_file.unlink(missing_ok=True)
                env = ansible_env(aws.url)
                args = [*VARIANTS[name], "-e", f"bench_key_file={key_file}"]
                for phase in ("first", "noop"):
                    load = load_average()
                    aws.record()
                    took, output = playbook(args, env, log=STATE / "iam" / f"{name}-{phase}-{rep}.log")
                    calls = aws.calls()
                    runs[name][phase].append({"seconds": round(took, 2), "load": load,
                                              "changed": recap_changed(output),
                                              "calls": by_operation(calls)})
                states[name] = end_state(aws.url)
    result = {"repetitions": repetitions, "same_end_state": states["collection"] == states["amazon.aws"],
              "end_state": states, "variants": {}, "startup_seconds_median": round(statistics.median(startup), 2)}
    for name, phases in runs.items():
        result["variants"][name] = {}
        for phase, samples in phases.items():
            calls = samples[-1]["calls"]
            result["variants"][name][phase] = {
                "calls": calls,
                "total": sum(calls.values()),
                "writes": sum(n for op, n in calls.items() if not is_read(op)),
                "calls_stable": all(s["calls"] == calls for s in samples),
                "seconds_median": round(statistics.median(s["seconds"] for s in samples), 2),
                "samples": samples,
            }
    return result


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1), indent=1))
