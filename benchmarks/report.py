# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/performance.md and docs/performance.png from build/bench/results.json."""

import math

from common import LOAD_LIMIT, LOAD_WAIT, ROOT, load_results

DOC = ROOT / "docs" / "performance.md"
PNG = ROOT / "docs" / "performance.png"

# AWS's published request limits used by the estimate (see the page for where each is published).
SSM_DEFAULT_TPS = 40
SSM_HIGH_TPS = 3000


def plot(results):
    try:
        import matplotlib
    except ImportError:  # make bench installs it (benchmarks/requirements.txt); a run without it keeps the old plot
        print(f"[bench] matplotlib is not installed: {PNG.name} not rewritten")
        return False
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
    return True


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
An on-premises key kept in Parameter Store (`cloudwatch_agent_access_key_store: ssm:NAME`): the `access_key`
lookup reads its store at each call, so a play that calls it for every host reads it once per host
({k["get_parameter"]} reads for {k["hosts"]} hosts sharing one store, `benchmarks/playbooks/ssm_keystore.yml`). The agent role
does not: its lookup `agent_sources` reads each store once per run (measured on real hosts in section 3). A `file:`
store costs no call.
"""
    return text


# Item 4's targets for the no-change run.
RATIO_TARGET = 1.5
GROWTH_SLACK = 1.1
HOST_TASKS_TARGET = 2
KEY_READS_TARGET = 1


def _verdict(met):
    return "**met**" if met else "**missed**"


def _measurements(size):
    """Every kept measurement of a size, with its label."""
    rows = [("floor before", size.get("floor_before")), ("first converge", size["first"])]
    rows += [(f"no change {i + 1}", x) for i, x in enumerate(size["noop"])]
    rows += [(f"floor {i + 1}", x) for i, x in enumerate(size["floor"])]
    return [(label, x) for label, x in rows if x]


def _loads(measurement):
    return measurement.get("attempt_loads") or [measurement["load"]]


def _load_notes(sizes, key_store):
    """The measurements that could only be taken above the load limit, and the repeated ones."""
    notes = []
    groups = [(f"N = {n}", _measurements(sizes[n])) for n in sorted(sizes, key=int)]
    if key_store:
        groups.append((f"N = {key_store['hosts']}, `ssm:` key store", [("no change", key_store)]))
    for where, rows in groups:
        above = [f"{label} ({', '.join(str(x) for x in _loads(m))})" for label, m in rows if m["load"] > LOAD_LIMIT]
        repeated = [label for label, m in rows if len(_loads(m)) > 1 and m["load"] <= LOAD_LIMIT]
        if above:
            notes.append(f"* {where}: measured only above load {LOAD_LIMIT}: " + "; ".join(above) + ".")
        if repeated:
            notes.append(f"* {where}: repeated until the load was at most {LOAD_LIMIT}: " + ", ".join(repeated) + ".")
    return notes


def _growth(sizes):
    """Growth of the no-change run and of the floor between the target's sizes (5 and 20), or the smallest and
    largest measured, and its verdict (None when the target's sizes were not both measured)."""
    ns = sorted(sizes, key=int)
    if len(ns) < 2:
        return ""
    lo, hi = ("5", "20") if "5" in sizes and "20" in sizes else (ns[0], ns[-1])
    g_role = sizes[hi]["noop_median"] / sizes[lo]["noop_median"]
    g_floor = sizes[hi]["floor_median"] / sizes[lo]["floor_median"]
    text = f"\nGrowth from {lo} to {hi} hosts: no-change run ×{g_role:.2f}, floor ×{g_floor:.2f}. "
    if (lo, hi) == ("5", "20"):
        limit = g_floor * GROWTH_SLACK
        return text + (f"Target, no worse than the floor's plus 10 % (×{limit:.2f}): "
                       f"{_verdict(g_role <= limit)}.\n")
    return text + "The target is stated from 5 to 20 hosts, which this run did not both measure: not judged.\n"


def _key_store_text(key_store):
    if not key_store:
        return ("\nThe `ssm:` key store's reads were not measured in this run (they are measured at the smallest N "
                "of every fleet run).\n")
    k = key_store
    reads = k["get_parameter_key"]
    return f"""
Key store read once per run: the smallest N again, with the same key pair kept in Parameter Store as a `SecureString`
(`cloudwatch_agent_access_key_store: {k["store"]}`), the `agents` playbook with `-e cloudwatch_serial={k["serial"]}`;
a first run puts the hosts' files in place (it made {k["first_get_parameter_key"]} `GetParameter` on the key, changed
{k["first_changed"]}), then the run that changes nothing is measured (changed {k["changed"]}, load {k["load"]}):

| hosts | `GetParameter` on the key | all `GetParameter` | tasks per host | wall time, s |
|---|---|---|---|---|
| {k["hosts"]} | **{reads}** | {k["get_parameter"]} | {k["host_tasks"]} | {k["seconds"]} |

Target, {KEY_READS_TARGET} read of the key for the whole run: {_verdict(reads <= KEY_READS_TARGET)} ({reads} for {k["hosts"]} hosts,
counted by the local AWS's request recorder on the parameter's name).
"""


FLEET_COLUMNS = ["hosts", "forks", "first converge, s", "no change, s", "floor, s", "no change / floor",
                 f"≤ {RATIO_TARGET}×", "tasks per host, no change", f"≤ {HOST_TASKS_TARGET}", "first / floor",
                 "changed on no-change run", "load"]


def fleet_section(fleet):
    sizes = fleet["sizes"]
    ns = sorted(sizes, key=int)
    rows = []
    for n in ns:
        s = sizes[n]
        tasks = max(x.get("host_tasks", 0) for x in s["noop"])
        loads = [x["load"] for dummy, x in _measurements(s)]
        rows.append([n, s["forks"], s["first"]["seconds"], s["noop_median"], s["floor_median"],
                     f"**{s['ratio_noop_to_floor']}**", _verdict(s["ratio_noop_to_floor"] <= RATIO_TARGET),
                     tasks, _verdict(tasks <= HOST_TASKS_TARGET), s["ratio_first_to_floor"],
                     max(x["changed"] for x in s["noop"]), f"{min(loads)}–{max(loads)}"])
    ratios_met = all(sizes[n]["ratio_noop_to_floor"] <= RATIO_TARGET for n in ns)
    tasks_met = all(max(x.get("host_tasks", 0) for x in sizes[n]["noop"]) <= HOST_TASKS_TARGET for n in ns)
    biggest = sizes[ns[-1]]
    top = [[t, s] for t, s in biggest["noop"][0]["tasks"][:8]]
    top_first = [[t, s] for t, s in biggest["first"]["tasks"][:8]]
    exp_rows = [[name, e["hosts"], round(e["baseline_seconds"], 1), round(e["with_seconds"], 1), e["ratio"], f"{min(e['loads'])}–{max(e['loads'])}"]
                for name, e in fleet.get("experiments", {}).items()]
    tasks_noop = max(x.get("host_tasks", 0) for x in biggest["noop"])
    tasks_floor = max(x.get("host_tasks", 0) for x in biggest["floor"])
    tasks_first = biggest["first"].get("host_tasks", "not counted")
    missing = [n for n in ("5", "10", "20") if n not in sizes]
    scope = (f"not measured at N = {', '.join(missing)} in this run, so not judged for the whole target"
             if missing else f"at every N: {_verdict(ratios_met)}")
    notes = _load_notes(sizes, fleet.get("key_store"))
    experiments_when = (f"these were measured in the run of {fleet['experiments_run']}" if fleet.get("experiments_run")
                        else "these rows come from a run before this one")
    load_text = ("\n".join(notes) + "\n") if notes else f"Every measurement was taken at a load of at most {LOAD_LIMIT}.\n"
    return f"""## 3. Fleet speed

N podman containers booting systemd, as in the Molecule set-up (`localhost/cloudwatch-test-debian:bookworm`,
the test agent package installed from a file and checked by its SHA-256), on-premises mode, the key in a file
on the controller, the configuration read once by the controller. Same inventory, same forks (= N), same
connection (`containers.podman.podman`) for the `agents` playbook (`-e cloudwatch_serial=100%`) and the floor
(`benchmarks/playbooks/floor.yml`: minimal facts and one `stat`); no-change run and floor alternate.
The machine has 2 cores and may run other work: the 1-minute load average is recorded before each run. Each
run waits up to {LOAD_WAIT} s for the load to fall to {LOAD_LIMIT}; a run that starts above it is repeated (3 attempts
in all) and the attempt at the lowest load is kept. The first converge changes the hosts and is never repeated.

{_table(FLEET_COLUMNS, rows)}
{_growth(sizes)}
Targets for the run that changes nothing: at most {RATIO_TARGET}× the floor at each N, {scope}; at most
{HOST_TASKS_TARGET} tasks reaching each host: {_verdict(tasks_met)} (measured: {tasks_noop} at N = {ns[-1]}; the floor
sends {tasks_floor}, the first converge {tasks_first}). Tasks that reached a host are counted by the `host_tasks`
callback in `benchmarks/callback_plugins/`: not skipped, not delegated, not answered by the controller alone
(an `agent_configure` apply step that found nothing to change counts as answered by the controller).

Load:

{load_text}
How the role spends a run that changes nothing: it reads the host once. `setup` gathers the minimal facts (only
when they are missing), then the action plugin `agent_configure` runs its check step, which calls `agent_facts`
on the host: the digests, modes and owners of every file the role writes, the agent's status, its unit's state
and the members of the log-reading groups. Everything else is decided on the controller: the key pairs and the
configuration parameters of a batch are read once per play by the lookup `agent_sources` (kept on `localhost`,
hidden, until the play's last batch is done), and its apply step assembles the wanted files and documents,
compares them with what the check read, and calls `agent_apply` on the host only when something differs. The
service tasks run only when the unit is not running, not enabled or needs a reload. Over the podman connection
each task that reaches a host costs a `podman exec` plus a file copy (the connection plugin cannot pipeline).
{_key_store_text(fleet.get("key_store"))}
Costliest tasks at N = {ns[-1]}, no-change run (`profile_tasks`, summed over the hosts' parallel execution):

{_table(["task", "s"], top)}

First converge:

{_table(["task", "s"], top_first)}

Speed settings (`benchmarks/run.py --experiments`; not in the default run, which would take past 40 minutes
with them; {experiments_when}), each measured on the no-change run next to a baseline run of the same N
(median of two each):

{_table(["setting", "hosts", "baseline, s", "with it, s", "ratio", "load"], exp_rows) if exp_rows else "Not measured yet."}

A ratio within the spread of two baseline runs (10–40 % on a loaded machine) shows no gain that can be told from
noise; none of these settings is recommended on these numbers alone.

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
    key_store = results.get("fleet", {}).get("key_store")
    key_store_line = (
        f"An `ssm:` key store is read by the role once per store per run (section 3: {key_store['get_parameter_key']} "
        f"`GetParameter` for {key_store['hosts']} hosts), so in each slice:\n    one read per store, like the "
        "configuration parameters above." if key_store else
        "An `ssm:` key store: its reads per run were not measured (section 3).")
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
  * {key_store_line}
* **IAM / STS**: AWS does not publish a number for the IAM API request rate; it throttles per account
  ("Rate exceeded"), and its knowledge-centre article on IAM and STS throttling
  (repost.aws/knowledge-center/iam-sts-throttling-error) says these rate limits cannot be raised and asks
  for back-off and fewer calls. The `iam` playbook runs once on the controller, independent of the fleet
  size: {iam_noop} reads for a no-op run. **Do not put it in every slice**: run it as its own
  AWX job (or a workflow node before the sliced agents job); then its rate is negligible whatever the fleet.
"""


MODULE_CALLS = """## Calls per module run

What each IAM module asks of AWS, by design; `make bench BENCH_ARGS="--only iam"` measures it for the whole `iam` role.

* `agent_iam_role`: a run that changes nothing makes 3 reads, `GetRole` (with the tags and the permissions
  boundary), `ListAttachedRolePolicies` and `GetInstanceProfile`; 2 without the instance profile. Creating a role
  with its purpose policy and its profile takes 8: `GetRole`, `GetInstanceProfile`, `GetCallerIdentity`,
  `CreateRole` with its tags, `AttachRolePolicy`, `CreateInstanceProfile`, `AddRoleToInstanceProfile` and one
  `GetInstanceProfile` while waiting; plus one `AttachRolePolicy` per further policy and one `GetPolicy` per
  policy named in `managed_policies` (does it exist).
* `agent_iam_user`: a run that changes nothing makes 3 reads, `GetUser` (with the tags),
  `ListAttachedUserPolicies` and `ListAccessKeys`, plus one read of the store when `access_key_state=present` must
  check that it holds the active key (`GetParameter` for an `ssm:` store). Creating a user with its purpose policy
  and a key kept in SSM takes 8: `GetUser`, `GetParameter` (the store), `GetCallerIdentity`, `CreateUser` with its
  tags, `AttachUserPolicy`, `CreateAccessKey`, `PutParameter` and one `GetCallerIdentity` signed with the new key
  while waiting; 6 with a `file:` store.
* `access_key`: a run that changes nothing makes 1 `ListAccessKeys`, plus one read of the store as for
  `agent_iam_user`; a user with no key at all adds one `GetUser` (does the user exist).

For comparison, amazon.aws's `iam_role` and `iam_instance_profile` take about twelve calls to create a role with
its profile and five or six for a no-op.
"""


def write():
    """Write the page (and the plot when matplotlib is there); return the paths written."""
    results = load_results()
    written = [PNG] if plot(results) else []
    parts = ["""# Performance

Measured by `make bench` (not part of `make test`): it runs `benchmarks/run.py`, which writes
`build/bench/results.json`, this page and `docs/performance.png`. Every comparison is measured side by
side in the same run on the same machine and reported as a ratio; seconds stand next to their ratio only.
Everything runs against the local AWS emulator (moto server) and podman containers, niced, and the 1-minute
load average is recorded next to each measurement: these machines are shared and noisy.

    make bench                                # every section (fleet at N = 5 10 20), no side studies
    make bench BENCH_ARGS="--experiments"     # also the fleet's side studies (speed settings, agent mode)
    make bench BENCH_ARGS="--fleet 3"         # a quicker fleet section
    make bench BENCH_ARGS="--only iam ssm"    # the sections that need no containers

![IAM calls, Parameter Store reads and fleet run time](performance.png)
""", MODULE_CALLS]
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
    return [DOC] + written


if __name__ == "__main__":
    write()
