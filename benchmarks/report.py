# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/performance.md and docs/performance.png from build/bench/results.json."""

import math

from common import ROOT, load_results

DOC = ROOT / "docs" / "performance.md"
PNG = ROOT / "docs" / "performance.png"

# AWS's published request limits used by the estimate (see the page for where each is published).
SSM_DEFAULT_TPS = 40
SSM_HIGH_TPS = 3000


def plot(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    iam = results.get("iam")
    if iam:
        ax = axes[0]
        labels = ["first run", "no-op run"]
        for offset, name in ((-0.2, "collection"), (0.2, "amazon.aws")):
            values = [iam["variants"][name][p]["total"] for p in ("first", "noop")]
            bars = ax.bar([i + offset for i in range(2)], values, width=0.4, label=name)
            ax.bar_label(bars)
        ax.set_xticks(range(2), labels)
        ax.set_ylabel("IAM/STS API calls")
        ax.set_title("1. IAM set-up: API calls")
        ax.legend()
    ssm = results.get("ssm")
    if ssm and any(r["case"].startswith("agents.yml") for r in ssm):
        ax = axes[1]
        per_host = _agent_reads_per_host(results)
        rows = [r for r in ssm if r["case"].startswith("agents.yml")]
        ns = [r["hosts"] for r in rows]
        ax.plot(ns, [r["get_parameter"] for r in rows], "o-", label="controller mode (measured)")
        if per_host:
            ax.plot(ns, [per_host * n * rows[0]["parameters"] for n in ns], "s--",
                    label=f"agent mode ({per_host:g} per host and parameter, measured, × N)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("hosts")
        ax.set_ylabel("GetParameter calls per run")
        ax.set_title("2. Parameter Store reads per run")
        ax.legend(loc="upper left", fontsize="small")
    fleet = results.get("fleet", {}).get("sizes")
    if fleet:
        ax = axes[2]
        ns = sorted(int(n) for n in fleet)
        ax.plot(ns, [fleet[str(n)]["first"]["seconds"] for n in ns], "o-", label="agent role, first converge")
        ax.plot(ns, [fleet[str(n)]["noop_median"] for n in ns], "s-", label="agent role, no change")
        ax.plot(ns, [fleet[str(n)]["floor_median"] for n in ns], "^-", label="floor (facts + stat)")
        ax.set_xlabel("hosts (forks = hosts)")
        ax.set_ylabel("wall time, s")
        ax.set_title("3. Fleet run time")
        ax.legend()
    fig.tight_layout()
    fig.savefig(PNG, dpi=90)


def _agent_reads_per_host(results):
    rows = [r for r in results.get("fleet", {}).get("ssm", []) if r["fetch"] == "agent"]
    quiet = [r for r in rows if r["changed"] == 0] or rows
    # reads per host and per parameter
    return quiet[0]["get_parameter"] / quiet[0]["hosts"] / quiet[0].get("parameters", 1) if quiet else None


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def iam_section(iam):
    a, b = iam["variants"]["collection"], iam["variants"]["amazon.aws"]
    ops = sorted(set(a["first"]["calls"]) | set(b["first"]["calls"]) | set(a["noop"]["calls"]) | set(b["noop"]["calls"]))
    rows = [[op, a["first"]["calls"].get(op, 0), b["first"]["calls"].get(op, 0),
             a["noop"]["calls"].get(op, 0), b["noop"]["calls"].get(op, 0)] for op in ops]
    rows.append(["**total**", a["first"]["total"], b["first"]["total"], a["noop"]["total"], b["noop"]["total"]])
    rows.append(["writes", a["first"]["writes"], b["first"]["writes"], a["noop"]["writes"], b["noop"]["writes"]])
    rows.append(["wall time, median s", a["first"]["seconds_median"], b["first"]["seconds_median"],
                 a["noop"]["seconds_median"], b["noop"]["seconds_median"]])
    loads = [s["load"] for v in (a, b) for p in ("first", "noop") for s in v[p]["samples"]]
    noop_ratio = a["noop"]["total"] / b["noop"]["total"]
    time_ratio = a["noop"]["seconds_median"] / b["noop"]["seconds_median"]
    first_ratio = a["first"]["total"] / b["first"]["total"]
    stable = all(v[p]["calls_stable"] for v in (a, b) for p in ("first", "noop"))
    startup = iam.get("startup_seconds_median")
    startup_note = ""
    if time_ratio > 0.5 and startup:
        beyond_a, beyond_b = a["noop"]["seconds_median"] - startup, b["noop"]["seconds_median"] - startup
        startup_note = (
            f" Starting `ansible-playbook` with nothing to run (`benchmarks/playbooks/empty.yml`, measured in the\n"
            f"  same repetitions) takes {startup} s, which both runs pay and no module can remove; beyond it the\n"
            f"  no-op runs take {beyond_a:.2f} s and {beyond_b:.2f} s, a ratio of **{beyond_a / beyond_b:.2f}**. Against the local emulator a\n"
            "  call costs milliseconds, so what remains is module start-up (Python, the module's imports and boto3 on\n"
            "  every module run: (a) runs 3 AWS modules, (b) 6) and task overhead: (a) also runs about ten tasks the\n"
            "  controller answers alone (argument validation, preflight checks, the report), and each of its modules\n"
            "  does more per run (a role with its profile, a user with its key and key store). Against real IAM (tens\n"
            "  of ms per call, more under throttling) the time follows the call count more closely.")
    return f"""## 1. IAM API economy

End state, identical for both (checked after each run: {"same" if iam["same_end_state"] else "DIFFERENT"}): the server role
(`CloudWatchAgentServerPolicy` and `AmazonSSMManagedInstanceCore`) and the admin role (`CloudWatchAgentAdminPolicy`),
each with an instance profile of its name and the tag `managed-by`, and one on-premises user with
`CloudWatchAgentServerPolicy` and one access key kept in a file on the controller.
(a) is `playbooks/iam.yml` (role `iam`) with `benchmarks/vars/iam.yml`; (b) is
`benchmarks/playbooks/iam_amazon_aws.yml`: `iam_role` (with `wait`), `iam_instance_profile`, `iam_user`,
`iam_access_key_info` (without it `iam_access_key` adds a key at every run) and `iam_access_key`.
{iam["repetitions"]} repetitions, alternating the order; calls identical in every repetition: {stable}.
Load average (1 min) during these runs: {min(loads)}–{max(loads)}.

{_table(["operation", "(a) first", "(b) first", "(a) no-op", "(b) no-op"], rows)}

| ratio (a)/(b) | first run | no-op run |
|---|---|---|
| API calls | {first_ratio:.2f} | **{noop_ratio:.2f}** |
| wall time | {a["first"]["seconds_median"] / b["first"]["seconds_median"]:.2f} | **{time_ratio:.2f}** |

Targets for the no-op run:

* only reads: **met** ({a["noop"]["writes"]} writes);
* no more than the irreducible reads: **met**. Each role with its profile costs exactly three
  (`GetRole`, `ListAttachedRolePolicies`, `GetInstanceProfile`), the user with its key three
  (`GetUser`, `ListAttachedUserPolicies`, `ListAccessKeys`): {a["noop"]["total"]} in all;
* at most half of (b)'s calls: **{"met" if noop_ratio <= 0.5 else "missed"}** ({a["noop"]["total"]} vs {b["noop"]["total"]}, ratio {noop_ratio:.2f}).
  For a role with its profile the ratio is 3/8 = 0.38 ((b)'s `iam_role` reads the role and its policies twice,
  `iam_instance_profile` the profile twice). For the user with a key (b) reads 5 and the irreducible is 3
  (0.6): half of 5 cannot be reached without skipping a read that proves the state, so the total stays
  just above half;
* at most half of (b)'s wall time: **{"met" if time_ratio <= 0.5 else "missed"}** (ratio {time_ratio:.2f}).{startup_note}

What the first run's calls beyond (b)'s buy ((a) {a["first"]["total"]} vs (b) {b["first"]["total"]}; both make the same
{a["first"]["writes"]} writes):

* `GetCallerIdentity` ({a["first"]["calls"].get("GetCallerIdentity", 0)}): the root guard, read once by each module run that is about to write
  (two roles, one user), before its first write, never on a no-op run; and one signed with the new access
  key, the key's usability wait (it returns once AWS accepts the new key, so a host given the key at once
  does not fail);
* `GetInstanceProfile` after the writes: the usability wait, polling until IAM returns the profile holding
  the role, so that an EC2 launch right after the run does not fail on a profile IAM does not show yet;
* input checks (the named policies exist, a profile of the name holds no other role) are answered by the
  same reads that compute the difference, so they add nothing here.
(b) on the other hand reads each resource again after writing it, which is why it still makes more calls.
"""


def ssm_section(results):
    ssm = results["ssm"]
    per_host = _agent_reads_per_host(results)
    fleet_rows = results.get("fleet", {}).get("ssm", [])
    rows = []
    for r in ssm:
        agent = (f"{per_host * r['hosts'] * r['parameters']:g} (= {per_host:g} × {r['hosts']} hosts × {r['parameters']})"
                 if per_host and r["case"].startswith("agents.yml") else "")
        rows.append([r["hosts"], r["case"], r["serial"], r["plays_or_batches"], r["get_parameter"], agent, r["load"]])
    parameters = ssm[0]["parameters"]
    exact = all(r["get_parameter"] == parameters for r in ssm if not r["case"].startswith("key store"))
    keystore = [r for r in ssm if r["case"].startswith("key store")]
    frows = [[r["hosts"], r["fetch"], r["serial"], r["get_parameter"], r["get_parameter_signers"], r["changed"], r["load"]]
             for r in fleet_rows]
    text = f"""## 2. Parameter Store economy

Inventories of N on-premises hosts with `cloudwatch_agent_ssm_fetch: controller` and {parameters} parameters,
measured with the hosts never contacted (`benchmarks/ssm.py`): the `agents` playbook as shipped, limited to
its first play (`--limit localhost`: the play that reads for the whole fleet from the inventory), and the
role's per-batch path (`tasks_from: fetch_parameters`, as `configure.yml` includes it in every batch) under
serial batches with no first play at all. The agent-mode column multiplies the reads per host measured on
real containers (table below, one parameter) by N and the parameters: in agent mode every host runs the agent's own downloader once per
parameter, by construction.

{_table(["hosts", "case", "serial", "plays / batches", "GetParameter (controller)", "GetParameter (agent mode)", "load"], rows)}

Target, exactly one read per parameter per run in controller mode whatever N and batch size:
**{"met" if exact else "missed"}**.

Measured on real hosts (containers, the whole `agents` playbook, after the first converge in controller mode).
The first agent-mode run switches the hosts from controller to agent fetching and so changes files and
restarts the agent (the restarted agent reads again); the per-host figure above comes from the agent-mode
run that changes nothing:

{_table(["hosts", "fetch", "serial", "GetParameter", "distinct signing keys", "changed", "load"], frows)}
"""
    if keystore:
        k = keystore[-1]
        text += f"""
Not covered by the target but part of the same bill: an on-premises key kept in Parameter Store
(`cloudwatch_agent_access_key_store: ssm:NAME`) is read by the `access_key` lookup once **per host** per
run ({k["get_parameter"]} reads for {k["hosts"]} hosts sharing one store, `benchmarks/playbooks/ssm_keystore.yml`). A `file:` store costs no call.
"""
    return text


def fleet_section(fleet):
    sizes = fleet["sizes"]
    rows = []
    for n in sorted(sizes, key=int):
        s = sizes[n]
        loads = [s["first"]["load"]] + [x["load"] for x in s["noop"] + s["floor"]]
        rows.append([n, s["forks"], s["first"]["seconds"], s["noop_median"], s["floor_median"],
                     f"**{s['ratio_noop_to_floor']}**", s["ratio_first_to_floor"],
                     max(x["changed"] for x in s["noop"]), f"{min(loads)}–{max(loads)}"])
    ns = sorted(sizes, key=int)
    growth = ""
    if len(ns) > 1:
        lo, hi = sizes[ns[0]], sizes[ns[-1]]
        g_role = hi["noop_median"] / lo["noop_median"]
        g_floor = hi["floor_median"] / lo["floor_median"]
        growth = (f"\nGrowth from {ns[0]} to {ns[-1]} hosts: no-change run ×{g_role:.2f}, floor ×{g_floor:.2f} "
                  f"(target: no worse than the floor's: **{'met' if g_role <= g_floor * 1.1 else 'missed'}**, 10 % noise allowed).\n")
        lo_load, hi_load = lo["noop"][0]["load"], hi["noop"][0]["load"]
        if abs(hi_load - lo_load) > 2:
            growth += (f"The two sizes ran at different loads ({lo_load} and {hi_load}), so this growth comparison is "
                       "not conclusive; a quiet machine and N = 5, 10, 20 in one run are needed to settle it.\n")
    biggest = sizes[ns[-1]]
    top = [[t, s] for t, s in biggest["noop"][0]["tasks"][:8]]
    top_first = [[t, s] for t, s in biggest["first"]["tasks"][:8]]
    exp_rows = [[name, e["hosts"], round(e["baseline_seconds"], 1), round(e["with_seconds"], 1), e["ratio"], f"{min(e['loads'])}–{max(e['loads'])}"]
                for name, e in fleet.get("experiments", {}).items()]
    tasks_noop = biggest["noop"][0].get("host_tasks", "not counted")
    tasks_floor = biggest["floor"][0].get("host_tasks", "not counted")
    tasks_first = biggest["first"].get("host_tasks", "not counted")
    remainder = ""
    if biggest["ratio_noop_to_floor"] > 2 and tasks_noop == tasks_floor:
        loads = [x["load"] for x in biggest["noop"] + biggest["floor"]]
        remainder = (f" Both reach each host with the same number of tasks, so what the no-change run spends beyond the\n"
                     "floor is controller time: each of the role's other tasks is still evaluated for every host and skipped\n"
                     "(its condition templated, the key pair read from its store, the configuration assembled), and with\n"
                     f"forks = N on 2 cores that work queues behind the hosts' (load {min(loads)}–{max(loads)} during these runs).")
    n20 = sizes.get("20")
    verdict = (f"**{'met' if n20['ratio_noop_to_floor'] <= 2 else 'missed'}** at N = 20 (ratio {n20['ratio_noop_to_floor']})"
               if n20 else f"not measured at N = 20 on this run; at N = {ns[-1]} the ratio is {biggest['ratio_noop_to_floor']}")
    return f"""## 3. Fleet speed

N podman containers booting systemd, as in the Molecule set-up (`localhost/cloudwatch-test-debian:bookworm`,
the test agent package installed from a file and checked by its SHA-256), on-premises mode, the key in a file
on the controller, the configuration read once by the controller. Same inventory, same forks (= N), same
connection (`containers.podman.podman`) for the `agents` playbook (`-e cloudwatch_serial=100%`) and the floor
(`benchmarks/playbooks/floor.yml`: minimal facts and one `stat`); no-change run and floor alternate.
The machine has 2 cores and ran other work at the same time: the load average is shown.

{_table(["hosts", "forks", "first converge, s", "no change, s", "floor, s", "no change / floor", "first / floor", "changed on no-change run", "load"], rows)}
{growth}
Target, the no-change run within 2× of the floor: {verdict}.{remainder} Tasks that reached each host (the
`host_tasks` callback in `benchmarks/callback_plugins/`: not skipped, not delegated, not answered by the
controller alone): {tasks_noop} on the no-change run, {tasks_floor} for the floor, {tasks_first} on the first converge.
On a run that changes nothing the role reads the host once (`setup` for the minimal facts, then `agent_facts`,
which returns the digests, modes and owners of every file the role writes, the agent's status and its unit's
state, and the members of the log-reading groups); every task whose result is already in place is then
skipped on the controller. Over the podman connection each task that reaches a host costs a `podman exec`
plus a file copy (the connection plugin cannot pipeline); before this, a no-change run sent about 34 tasks to
each host and took 8–9× the floor at N = 3 and 5.

Costliest tasks at N = {ns[-1]}, no-change run (`profile_tasks`, summed over the hosts' parallel execution):

{_table(["task", "s"], top)}

First converge:

{_table(["task", "s"], top_first)}

Speed settings, each measured on the no-change run next to a baseline run of the same N (median of two each):

{_table(["setting", "hosts", "baseline, s", "with it, s", "ratio", "load"], exp_rows)}

At this load the spread between two baseline runs is itself 10–40 %, so none of these ratios shows a gain
that can be told from noise; none is recommended on these numbers alone.

* `gather_subset`: the role already gathers only the minimal subset, and only when facts are missing.
* fact caching: saves the role's one `setup` task per host (1 of {tasks_noop} on a no-change run); worth it only where facts
  are gathered anyway (`gathering = smart` with a `jsonfile`/`redis` cache in ansible.cfg).
* the `free` strategy: hosts do not wait for each other between tasks; it cannot shorten a run whose hosts
  all do the same work, and the role's handlers and `run_once` controller reads are better kept linear.
* pipelining: the podman connection plugin does not support it (it says so and ignores the setting), so the
  ratio above only measures noise here. Over SSH, where most fleets run, pipelining removes one SSH round trip
  and the remote temporary file per task; keep `pipelining = True` in ansible.cfg for SSH (it needs
  `requiretty` off in sudoers).
"""


def scale_section(results):
    fleet = results.get("fleet", {}).get("sizes", {})
    if not fleet:
        return ""
    n = max(fleet, key=int)
    s = fleet[n]
    hosts = int(n)
    noop_per_host_core = s["noop_median"] * 2 / hosts      # controller core-seconds per host (2 cores, saturated)
    first_per_host_core = s["first"]["seconds"] * 2 / hosts
    ssm = results.get("ssm", [])
    parameters = ssm[0]["parameters"] if ssm else 1
    per_host = _agent_reads_per_host(results) or parameters
    iam_noop = results.get("iam", {}).get("variants", {}).get("collection", {}).get("noop", {}).get("total", "?")
    rows = []
    for slices, cores in ((10, 4), (20, 4), (50, 4)):
        hosts_per_slice = math.ceil(10000 / slices)
        noop_min = hosts_per_slice * noop_per_host_core / cores / 60
        first_min = hosts_per_slice * first_per_host_core / cores / 60
        ctrl_burst = slices * parameters
        agent_rate = per_host * parameters * slices * cores / noop_per_host_core
        rows.append([slices, cores, hosts_per_slice, f"{first_min:.0f}", f"{noop_min:.0f}", ctrl_burst,
                     f"{agent_rate:.0f}"])
    agent_lo, agent_hi = float(rows[0][-1]), float(rows[-1][-1])
    agent_verdict = "under" if agent_hi < SSM_DEFAULT_TPS else "over"
    agent_x = SSM_DEFAULT_TPS / agent_hi if agent_hi else 0
    load = s["noop"][0]["load"]
    return f"""## 4. Scale on paper: 10,000 hosts on AWX with job slicing

From the measured no-change run at N = {n}: {s["noop_median"]} s for {hosts} hosts on a 2-core controller that the
forks saturate, so about **{noop_per_host_core:.2f} controller core-seconds per host** ({first_per_host_core:.2f} for a first
converge). This is an upper bound: the measurement ran at a load average of about {load} on 2 cores (other
work shared the machine) and at a small N that does not amortise `ansible-playbook` start-up. Controller CPU,
not the hosts, is the bottleneck of a push run; an AWX job slice runs as one
`ansible-playbook` in its own execution-environment pod, so slices scale with the cores given to them.
Assumptions: every slice gets 4 cores and forks enough to saturate them; podman-connection costs (SSH with
pipelining is usually cheaper per task, so this is on the safe side); no throttling.

| slices | cores per slice | hosts per slice | first converge, min | no-change run, min \
| controller-mode GetParameter burst (all slices start together) | agent-mode GetParameter rate, per s |
|---|---|---|---|---|---|---|
""" + "\n".join("| " + " | ".join(str(c) for c in r) + " |" for r in rows) + f"""

Request rates against AWS's published limits:

* **Parameter Store** (`GetParameter`, `GetParameters`, `GetParametersByPath` share one per-account,
  per-Region throughput quota): {SSM_DEFAULT_TPS} transactions per second by default; up to {SSM_HIGH_TPS:,} for
  `GetParameter`/`GetParameters` with *higher throughput* enabled (a paid setting); published in the AWS General
  Reference, "AWS Systems Manager endpoints and quotas", and the `GetParameter` API reference
  (docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html, "Parameter Store throughput").
  AWS has raised the higher-throughput figure over time: check the Service Quotas console for the account.
  * Controller mode: {parameters} reads per slice per run, whatever the slice's size: 10,000 hosts in 50 slices is
    {50 * parameters} reads in the first seconds, inside the default {SSM_DEFAULT_TPS} TPS only if the slices do not start in the same
    second; the collection's clients retry `ThrottlingException` with jittered back-off, so a burst above it is
    delayed, not failed. **Keep slices × parameters ≤ {SSM_DEFAULT_TPS}** (e.g. ≤ 20 slices with 2 parameters), or
    read once for the whole workflow: run `tasks_from: fetch_parameters` in a first workflow node and pass the
    values with `cloudwatch_agent_ssm_parameter_values`.
  * Agent mode: every host reads every parameter ({per_host:g} read per host and parameter measured on a no-change run, more
    when the agent restarts); at the host rates of the table that is {agent_lo:.0f}–{agent_hi:.0f} reads per second,
    {agent_verdict} the default {SSM_DEFAULT_TPS} TPS, but the rate grows with the controller capacity: a run
    {agent_x:.1f}× as fast as measured here (uncontended cores, SSH with pipelining) reaches it with 50 slices.
    Each host's downloader also has its own, shorter, retry budget: controller mode keeps the reads constant.
  * An `ssm:` key store adds one `GetParameter` per on-premises host per run (section 2): at 10,000 on-premises
    hosts that is the dominant Parameter Store cost; use a `file:` store on the controller, or see the proposal
    in the report.
* **IAM / STS**: AWS does not publish a number for the IAM API request rate; it throttles per account
  ("Rate exceeded"), and its knowledge-centre article on IAM and STS throttling
  (repost.aws/knowledge-center/iam-sts-throttling-error) says these rate limits cannot be raised and asks
  for back-off and fewer calls. The `iam` playbook runs once on the controller, independent of the fleet
  size: {iam_noop} reads for a no-op run. **Do not put it in every slice**: run it as its own
  AWX job (or a workflow node before the sliced agents job); then its rate is negligible whatever the fleet.
"""


def write():
    results = load_results()
    plot(results)
    parts = ["""# Performance

Measured by `make bench` (not part of `make test`): it runs `benchmarks/run.py`, which writes
`build/bench/results.json`, this page and `docs/performance.png`. Every comparison is measured side by
side in the same run on the same machine and reported as a ratio; seconds stand next to their ratio only.
Everything runs against the local AWS emulator (moto server) and podman containers, niced, and the 1-minute
load average is recorded next to each measurement: these machines are shared and noisy.

    make bench                                # everything (fleet at N = 5 10 20)
    make bench BENCH_ARGS="--fleet 3"         # a quicker fleet section
    make bench BENCH_ARGS="--only iam ssm"    # the sections that need no containers

![IAM calls, Parameter Store reads and fleet run time](performance.png)
"""]
    meta = results.get("meta", {})
    if meta:
        parts.append(f"Run of {meta.get('date', '?')} on {meta.get('machine', '?')}: Ansible {meta.get('ansible', '?')}, "
                     f"amazon.aws {meta.get('amazon_aws', '?')}, moto {meta.get('moto', '?')}.\n")
    if "iam" in results:
        parts.append(iam_section(results["iam"]))
    if "ssm" in results:
        parts.append(ssm_section(results))
    if "fleet" in results:
        parts.append(fleet_section(results["fleet"]))
    parts.append(scale_section(results))
    DOC.write_text("\n".join(parts).rstrip() + "\n")


if __name__ == "__main__":
    write()
