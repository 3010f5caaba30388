# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status report on plain data: what to read from AWS, one row per host, the counts and the terminal table.

A row holds facts (what the host and AWS said); its health and notes are decided here, and so is every text the
page and the table show (``display``), so that both say the same. The page escapes each value; nothing here is
markup.
"""

HEALTH = ("healthy", "warning", "failing")
STATES = ("running", "stopped", "not installed", "unreachable")
LATEST = "latest"


def _host_facts(hostvars, host):
    values = hostvars[host]
    return values.get("__cloudwatch_status_facts"), values.get("cloudwatch_agent_version") or "", values.get("cloudwatch_agent_region") or ""


def _agent(result):
    if not isinstance(result, dict) or result.get("unreachable") or result.get("skipped"):
        return None
    return (result.get("ansible_facts") or {}).get("cloudwatch_agent")


def recorded_parameters(agent):
    """{name: digest} of the parameters the role recorded on the host."""
    managed = (agent or {}).get("managed_state") or {}
    parameters = managed.get("parameters")
    return dict(parameters) if isinstance(parameters, dict) else {}


def wants(hostvars, hosts):
    """What to read from AWS for these hosts: digests by region ("" is the default one) and parameter, and key ids."""
    regions, key_ids = {}, set()
    for host in hosts:
        result, dummy, region = _host_facts(hostvars, host)
        agent = _agent(result)
        if agent is None:
            continue
        for name, digest in recorded_parameters(agent).items():
            digests = regions.setdefault(region, {}).setdefault(name, [])
            if digest not in digests:
                digests.append(digest)
        key_id = (agent.get("credentials_file") or {}).get("access_key_id")
        if key_id:
            key_ids.add(key_id)
    return {"regions": regions, "access_key_ids": sorted(key_ids)}


def _state(agent):
    status, service = agent.get("status") or {}, agent.get("service") or {}
    if not agent.get("installed"):
        return "not installed"
    if status.get("status"):
        return status["status"]
    return "running" if service.get("ActiveState") == "active" else "stopped"


def _parameters(recorded, region, aws):
    """Each recorded parameter with the version its digest has in the parameter's history (None when not read)."""
    read = (aws.get("parameters") or {}).get(region) if aws else None
    out = []
    for name, digest in sorted(recorded.items()):
        history = (read or {}).get(name)
        entry = {"name": name, "read": history is not None, "exists": None, "version": None, "latest": None}
        if history is not None:
            entry.update(exists=history.get("exists"), latest=history.get("latest"),
                         version=(history.get("versions") or {}).get(digest))
        out.append(entry)
    return out


def _key(agent, location, aws):
    key_id = (agent.get("credentials_file") or {}).get("access_key_id")
    if location != "onprem" or not key_id:
        return None
    described = ((aws or {}).get("access_keys") or {}).get(key_id)
    return dict(described or {}, id=key_id, read=described is not None)


def row(host, location, result, wanted_version, region, aws):
    """One host's facts: what agent_facts returned on it and what AWS said about its parameters and key."""
    base = {"host": host, "location": location, "state": "unknown", "version": "", "wanted_version": wanted_version,
            "mode": "", "config_source": "", "parameters": [], "key": None, "aws_errors": None, "error": ""}
    if result is None or result.get("skipped"):
        return dict(base, state="unknown", error="the host was not asked")
    if result.get("unreachable"):
        return dict(base, state="unreachable", error=str(result.get("msg", ""))[:200])
    agent = _agent(result)
    if agent is None:
        return dict(base, state="error", error=str(result.get("msg", "no agent facts"))[:200])
    managed = agent.get("managed_state") or {}
    return dict(base, state=_state(agent), version=agent.get("version") or "", mode=managed.get("mode") or "",
                config_source=managed.get("config_source") or "",
                parameters=_parameters(recorded_parameters(agent), region, aws), key=_key(agent, location, aws),
                aws_errors=agent.get("aws_errors"), error=agent.get("status_error") or "")


def rows(hostvars, hosts, ec2_hosts, aws=None):
    out = []
    for host in hosts:
        result, wanted, region = _host_facts(hostvars, host)
        out.append(row(host, "ec2" if host in ec2_hosts else "onprem", result, wanted, region, aws))
    return out


# --- health and texts ---------------------------------------------------------------------------------------------
def _text(value):
    return "" if value is None else str(value)


def judge(r, key_max_age_days):
    """(health, notes): failing when the agent does not run or AWS refuses it; warning for what needs attention."""
    failing, warning = [], []
    state = _text(r.get("state"))
    if state != "running":
        failing.append(_text(r.get("error")) or "the agent is %s" % state)
    errors = r.get("aws_errors")
    if isinstance(errors, dict):
        codes = ", ".join(sorted(_text(c) for c in (errors.get("codes") or {})))
        if errors.get("refused"):
            failing.append("AWS refused %s requests in the last %s minutes (%s): %s" % (
                errors["refused"], errors.get("minutes"), codes, _text(errors.get("last"))))
        elif errors.get("throttled"):
            warning.append("AWS throttled %s requests in the last %s minutes (%s)" % (errors["throttled"], errors.get("minutes"), codes))
    elif state == "running":
        warning.append("the agent's log was not read: AWS errors unknown")
    wanted, version = _text(r.get("wanted_version")), _text(r.get("version"))
    if state == "running" and wanted and wanted != LATEST and version != wanted:
        warning.append("runs version %s, %s is wanted" % (version or "?", wanted))
    key = r.get("key")
    if isinstance(key, dict) and key.get("read"):
        if not key.get("exists"):
            failing.append("access key %s is not in this account's IAM" % _text(key.get("id")))
        elif key.get("status") != "Active":
            failing.append("access key %s is %s" % (_text(key.get("id")), _text(key.get("status"))))
        elif (key.get("age_days") or 0) >= key_max_age_days:
            warning.append("access key older than %s days: rotate it (playbook rotate_keys)" % key_max_age_days)
    for parameter in r.get("parameters") or []:
        if not isinstance(parameter, dict) or not parameter.get("read"):
            continue
        name = _text(parameter.get("name"))
        if not parameter.get("exists"):
            warning.append("parameter %s no longer exists" % name)
        elif parameter.get("version") is None:
            warning.append("runs a value of %s that is not in its history" % name)
        elif parameter.get("version") != parameter.get("latest"):
            warning.append("runs %s v%s, v%s is the latest" % (name, parameter["version"], parameter.get("latest")))
    health = "failing" if failing else "warning" if warning else "healthy"
    return health, failing + warning


def _parameter_text(parameter):
    name = _text(parameter.get("name"))
    if not parameter.get("read"):
        return name + " (version not read)"
    if not parameter.get("exists"):
        return name + " (deleted)"
    if parameter.get("version") is None:
        return name + " (not in its history)"
    latest = "" if parameter["version"] == parameter.get("latest") else " (latest v%s)" % parameter.get("latest")
    return "%s v%s%s" % (name, parameter["version"], latest)


def display(r):
    """The texts a row shows, in the page and in the table alike."""
    version = _text(r.get("version")) or "-"
    wanted = _text(r.get("wanted_version"))
    if wanted == LATEST:
        version += " (latest wanted: not compared)"
    elif wanted and wanted != version:
        version += " (wanted %s)" % wanted
    key = r.get("key")
    if not isinstance(key, dict):
        key_text = "-"
    elif not key.get("read"):
        key_text = "%s: age not read" % _text(key.get("id"))
    elif not key.get("exists"):
        key_text = "%s: not in IAM" % _text(key.get("id"))
    else:
        key_text = "%s days (%s, %s)" % (_text(key.get("age_days")), _text(key.get("id")), _text(key.get("status")))
    errors = r.get("aws_errors")
    if isinstance(errors, dict):
        counted = ["%s %s" % (errors[k], k) for k in ("refused", "throttled") if errors.get(k)]
        errors_text = "%s in %s min" % (", ".join(counted) or "none", _text(errors.get("minutes")))
    else:
        errors_text = "-"
    return {"version": version, "configuration": [_text(r.get("config_source")) or "-"]
            + [_parameter_text(p) for p in r.get("parameters") or [] if isinstance(p, dict)],
            "key": key_text, "aws_errors": errors_text}


def report(raw_rows, generated, key_max_age_days):
    """The report: its rows judged and their texts, the counts, and the terminal table's lines."""
    hosts = []
    for raw in raw_rows:
        r = dict(raw)
        r["health"], r["notes"] = judge(r, key_max_age_days)
        r["display"] = display(r)
        hosts.append(r)
    count = dict((name, sum(1 for h in hosts if h["health"] == name)) for name in HEALTH)
    count.update((name.replace(" ", "_"), sum(1 for h in hosts if h.get("state") == name)) for name in STATES)
    summary = dict(count, generated=generated, total=len(hosts), key_max_age_days=key_max_age_days,
                   versions=sorted(set(_text(h.get("version")) for h in hosts if h.get("version"))))
    return {"summary": summary, "hosts": hosts, "table": table(hosts, summary)}


def table(hosts, summary):
    columns = (("HOST", "host"), ("WHERE", "location"), ("HEALTH", "health"), ("STATE", "state"),
               ("VERSION", "version"), ("MODE", "mode"), ("CONFIG", "configuration"), ("KEY AGE", "key"), ("AWS ERRORS", "aws_errors"),
               ("NOTE", "note"))
    lines = []
    for h in hosts:
        shown = h["display"]
        lines.append({"host": _text(h.get("host")), "location": _text(h.get("location")), "health": h["health"],
                      "state": _text(h.get("state")), "version": shown["version"], "mode": _text(h.get("mode")) or "-",
                      "configuration": " ".join(shown["configuration"]), "key": shown["key"],
                      "aws_errors": shown["aws_errors"], "note": "; ".join(h["notes"])})
    widths = dict((key, max([len(title)] + [len(line[key]) for line in lines])) for title, key in columns)

    def line(values):
        return "  ".join(values[key].ljust(widths[key]) for title, key in columns).rstrip()

    head = ["CloudWatch agent fleet status, %s" % summary["generated"],
            "%(total)s hosts: %(healthy)s healthy, %(warning)s warning, %(failing)s failing (%(running)s running, "
            "%(stopped)s stopped, %(not_installed)s not installed, %(unreachable)s unreachable)" % summary,
            line(dict((key, title) for title, key in columns))]
    return head + [line(values) for values in lines]
