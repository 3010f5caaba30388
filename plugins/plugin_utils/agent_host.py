# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's plan for one host, on the controller: what agent_apply must do there, or None when nothing.

Everything here compares what agent_facts read on the host with what the settings want, on plain data. A plan is
None only when every file, document, group and record is already as wanted; the credentials file, whose content
is never read back, counts as in place when agent_facts found it holding the expected digest.
"""

import hashlib
import inspect
import os

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_unit
from ansible_collections.observability.cloudwatch.plugins.module_utils import log_access

SETTINGS = ("mode", "allow_onprem_on_ec2", "config_source", "ssm_parameters", "ssm_fetch", "ssm_parameter_values",
            "allow_any_parameter_name", "config_file", "config", "region", "access_key_store", "has_credentials",
            "credentials_file", "proxy", "ca_bundle", "imds_retries", "version", "package_file", "package_verify",
            "package_sha256", "fingerprint", "signature_file", "package_base_url", "gpg_key_url", "allow_http_download",
            "platform", "sandbox", "sandbox_write_paths", "allowed")


def settings(raw):
    """The role's settings with their defaults' types (a template may give None for an empty value)."""
    missing = [name for name in SETTINGS if name not in raw]
    if missing:
        raise agent_plan.AgentPlanError("settings lacks %s" % ", ".join(missing))
    out = dict(raw)
    for name in ("ssm_parameters", "sandbox_write_paths"):
        out[name] = list(out[name] or [])
    for name in ("ssm_parameter_values", "config", "proxy", "platform", "allowed"):
        out[name] = dict(out[name] or {})
    for name in ("config_file", "region", "access_key_store", "package_file", "package_sha256", "fingerprint", "signature_file",
                 "package_base_url", "gpg_key_url"):
        out[name] = out[name] or ""
    out["imds_retries"] = int(out["imds_retries"] or 0)
    return out


def store_id(store, region):
    return "%s|%s" % (store, region or "")


def key_for(settings, keys, credentials):
    """The host's key pair: from its store as the read step found it, or given inline."""
    if not settings["access_key_store"]:
        return credentials or None
    if not agent_plan.KEY_STORE.match(settings["access_key_store"]):
        return None  # not a store: the check refuses it, naming the variable
    found = keys.get(store_id(settings["access_key_store"], settings["region"]))
    if found is None:
        raise agent_plan.AgentPlanError("The key store %s was not read on the controller in this run." % settings["access_key_store"])
    return found


def needs_read(settings):
    """What this host needs read on the controller: key stores ({id: [store, region]}) and parameters by region."""
    keys, parameters = {}, {}
    store, region = settings["access_key_store"], settings["region"]
    # A store that is neither ssm: nor file: is not read: the check step refuses it, naming the variable.
    if agent_plan.KEY_STORE.match(store) and settings["mode"] != "ec2":
        keys[store_id(store, region)] = [store, region]
    if settings["config_source"] == "ssm" and settings["ssm_fetch"] == "controller":
        names = [name for name in settings["ssm_parameters"] if name not in settings["ssm_parameter_values"]]
        if names:
            parameters[region] = names
    return {"keys": keys, "parameters": parameters}


def batch_needs(needs):
    """What the hosts of a batch need read, each store and parameter once."""
    keys, parameters = {}, {}
    for one in needs:
        keys.update(one["keys"])
        for region, names in one["parameters"].items():
            into = parameters.setdefault(region, [])
            into.extend(name for name in names if name not in into)
    return {"keys": keys, "parameters": parameters}


def credentials_text(settings, key):
    if not key or not key.get("access_key_id") or not key.get("secret_access_key"):
        return None
    return agent_plan.credentials(key, settings["region"])


def credentials_digest(settings, key):
    """What agent_facts compares the credentials file with on the host, so that it returns only whether it matches."""
    text = credentials_text(settings, key)
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def facts_args(paths, groups, credentials_sha256, types_db=()):
    args = {"prefix": paths["prefix"], "credentials_file": paths["credentials_file"], "state_file": paths["state_file"],
            "delivered_dir": paths["delivered_dir"], "groups": groups,
            "paths": [paths["dropin"]] + sorted(log_access.locations(paths).values()) + list(types_db),
            "presence": agent_plan.legacy_paths(paths["prefix"], paths["credentials_file"])}
    if credentials_sha256:
        args["credentials_sha256"] = credentials_sha256
    return args


def missing_package_files(settings):
    if not settings["package_file"]:
        return []
    wanted = [settings["package_file"]] + ([settings["signature_file"]] if settings["package_verify"] == "gpg" else [])
    return [path for path in wanted if not os.path.isfile(os.path.expanduser(path))]


def wanted_files(settings, paths, mode, key):
    """The files the agent and its service read, each with who owns it; "agent" is the user the agent runs as."""
    secret = mode == "onPremise" or bool(settings["proxy"])
    files = [{"path": paths["common_config"], "content": agent_plan.common_config(mode, settings), "owner": "agent",
              "group": "agent", "mode": "0640", "secret": secret}]
    if mode == "onPremise":
        files.insert(0, {"path": paths["credentials_file"], "content": credentials_text(settings, key), "owner": "root",
                         "group": "agent", "mode": "0640", "secret": True})
    unit = agent_unit.dropin(mode, settings["sandbox"], settings["sandbox_write_paths"])
    if unit is not None:
        files.append({"path": paths["dropin"], "content": unit, "owner": "root", "group": "root", "mode": "0644",
                      "secret": False})
    return files


def sandbox_warnings(settings, docs):
    """What the sandbox would stop the agent from writing, for configurations known on the controller."""
    if not settings["sandbox"] or docs is None:
        return []
    return ["The agent's sandbox keeps %s read-only to the agent, which its configuration has it write (%s): add it to "
            "cloudwatch_agent_sandbox_write_paths." % (path, why)
            for path, why in agent_unit.outside(agent_plan.parsed(docs), settings["sandbox_write_paths"])]


def in_place(want, held, run_as_user, matches=None):
    """Whether agent_facts saw the file as wanted (for a user whose primary group is named after it)."""
    who = dict((role, run_as_user if want[role] == "agent" else want[role]) for role in ("owner", "group"))
    return (held.get("exists") and [held.get("mode"), held.get("owner"), held.get("group")] == [want["mode"], who["owner"], who["group"]]
            and (matches if matches is not None else held.get("sha256") == agent_plan.sha256(want["content"])))


def unwanted_files(settings, paths, held, mode):
    def present(state):
        return state.get("exists") or state.get("link") or state.get("hardlinks")
    gone = []
    if mode != "onPremise" and present(held["credentials_file"]):
        gone.append(paths["credentials_file"])
    if agent_unit.dropin(mode, settings["sandbox"], settings["sandbox_write_paths"]) is None \
            and present(held["files"].get(paths["dropin"], {})):
        gone.append(paths["dropin"])
    return gone


def log_access_differs(settings, paths, held, docs, user, program):
    """Whether the program and units that keep collected log files readable differ from what the host has."""
    wanted = log_access.wanted_files(agent_plan.parsed(docs), user, settings["allowed"]["log_paths"], paths,
                                     held.get("python") or log_access.DEFAULT_PYTHON, program)
    unwanted = set(log_access.locations(paths).values()) - set(want["path"] for want in wanted)
    return (any(not in_place(want, held["files"].get(want["path"], {}), user) for want in wanted)
            or any(held["files"].get(path, {}).get("exists") for path in unwanted))


def plan(settings, paths, held, mode, key, docs, reader_groups, nothing_yet=False):
    """The arguments of agent_apply for this host, or None when everything is already as wanted."""
    files = wanted_files(settings, paths, mode, key)
    args = {"step": "apply", "paths": paths, "mode": mode, "files": files, "absent": unwanted_files(settings, paths, held, mode),
            "reader_groups": reader_groups, "held": held, "documents": docs, "allowed": settings["allowed"],
            # Installed on the host as the program of the unit that keeps collected log files readable.
            "log_access_program": inspect.getsource(log_access),
            "download": settings["ssm_parameters"] if docs is None else None,
            "record": {"config_source": settings["config_source"],
                       "ssm_fetch": settings["ssm_fetch"] if settings["config_source"] == "ssm" else None}}
    if nothing_yet:
        # Check mode on a host without the agent: there is nothing to compare with or to run yet.
        return None
    if docs is None:
        # The agent's downloader reads the documents on the host, where they are compared.
        return args
    needs = agent_plan.needs(docs)
    user = needs["run_as_user"]
    held_files = {paths["common_config"]: held["common_config"], paths["dropin"]: held["files"].get(paths["dropin"], {}),
                  paths["credentials_file"]: held["credentials_file"]}
    record = agent_plan.state_record(mode, settings, docs, user)
    differs = (
        any(not in_place(want, held_files[want["path"]], user, held["credentials_file"].get("matches") if want["path"] == paths["credentials_file"] else None)
            for want in files)
        or args["absent"]
        or agent_plan.config_changed(docs, held, mode)
        or held.get("managed_state") != record
        or dict((doc["stage"], doc["sha256"]) for doc in docs)
        != dict((name, state["sha256"]) for name, state in held["delivered_files"].items() if state.get("mode") == "0600")
        or agent_plan.missing_groups(needs, held["groups"], reader_groups)
        or any(not held["files"].get(path, {}).get("exists") for path in needs["types_db"])
        or log_access_differs(settings, paths, held, docs, user, args["log_access_program"])
        or any(held["present"].values()))
    return args if differs else None
