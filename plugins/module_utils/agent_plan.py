# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the agent role wants on a host, decided from its settings and from what agent_facts read there.

Plain data in, plain data out: the role's action plugin decides with it on the controller, and the host module
that applies the difference uses the same comparison where the documents are only known on the host (the agent's
own downloader reads Parameter Store there). Standard library and this collection's module_utils only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import format_path
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_unit import HEADER, write_paths_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.log_access import glob_match

PARAMETER_PREFIX = "AmazonCloudWatch-"
PROFILE = "AmazonCloudWatchAgent"
COLLECTD_DIR = "/usr/share/collectd/"
COLLECTD_TYPES_DB = COLLECTD_DIR + "types.db"
PACKAGE_USER = "cwagent"
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+~-]*$")
KEY_STORE = re.compile(r"^(ssm|file):.+")
# The inventory's allow-lists: the settings' names and the variables that set them.
ALLOWED = {"run_as_users": "cloudwatch_agent_allowed_run_as_users", "endpoints": "cloudwatch_agent_allowed_endpoints",
           "log_paths": "cloudwatch_agent_allowed_log_paths"}
# Keys that name where the agent sends its data (metrics, logs and traces sections, and the X-Ray proxy).
ENDPOINT_KEYS = ("endpoint_override", "proxy_override")
USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class AgentPlanError(Exception):
    """Settings that do not fit together, with what to set."""


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def nice_json(value):
    """The text Ansible's to_nice_json(indent=2) gives, so documents keep their digests across versions of the role."""
    return json.dumps(value, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"


def resolve_mode(requested, ec2_hardware, system_vendor=""):
    if requested != "auto":
        return requested
    return "ec2" if ec2_hardware or system_vendor == "Amazon EC2" else "onPremise"


def unprefixed(names):
    return [name for name in names if not name.startswith(PARAMETER_PREFIX)]


def check_settings(settings, mode, held, system, host):
    """Refuse settings that cannot work on this host; returns warnings. Nothing on the host has changed yet."""
    if mode == "onPremise" and held.get("ec2") and not settings["allow_onprem_on_ec2"]:
        raise AgentPlanError(
            "%s is an EC2 instance by its own hardware (%s) but is set to run the agent in onPremise mode with "
            "on-premises credentials (cloudwatch_agent_mode=onPremise): its inventory entry may belong to an "
            "on-premises host (check where the name comes from; name EC2 hosts by instance id). Use "
            "cloudwatch_agent_mode ec2 or auto for EC2 instances; to run onPremise mode on this instance on purpose, "
            "as AWS allows, set cloudwatch_agent_allow_onprem_on_ec2: true for it." % (host, held.get("ec2_evidence")))
    platform = settings["platform"]
    if system.get("system") != "Linux" or not platform["arch"] or not (settings["package_file"] or platform["os_path"]):
        raise AgentPlanError(
            "No CloudWatch agent package is published for %s %s: supported are Debian, Ubuntu, Amazon Linux, RHEL and "
            "compatible, SUSE on x86_64 and arm64 (or give cloudwatch_agent_package_file)."
            % (system.get("distribution", "?"), system.get("architecture", "?")))
    warnings = check_source(settings)
    if mode == "onPremise":
        check_onprem(settings, mode)
    check_package(settings)
    if write_paths_error(settings["sandbox_write_paths"]):
        raise AgentPlanError(write_paths_error(settings["sandbox_write_paths"]))
    allow_lists(settings["allowed"])
    return warnings


def check_source(settings):
    source = settings["config_source"]
    if source == "ssm":
        bad = unprefixed(settings["ssm_parameters"])
        if bad and not settings["allow_any_parameter_name"]:
            raise AgentPlanError(
                'cloudwatch_agent_ssm_parameters must start with "%s" (the AWS managed policies grant only those '
                "names): %s. Rename the parameters, or set cloudwatch_agent_allow_any_parameter_name: true if the "
                "hosts' policy grants them." % (PARAMETER_PREFIX, ", ".join(bad)))
    needs = {"ssm": ("ssm_parameters", "cloudwatch_agent_ssm_parameters (a list of parameter names)"),
             "file": ("config_file", "cloudwatch_agent_config_file (a JSON file on the controller)"),
             "inline": ("config", "cloudwatch_agent_config (a dict)")}[source]
    if not settings[needs[0]]:
        raise AgentPlanError("cloudwatch_agent_config_source is %s, which needs %s." % (source, needs[1]))
    if source == "ssm" and settings["allow_any_parameter_name"] and unprefixed(settings["ssm_parameters"]):
        return ["%s lack the %s prefix: the AWS managed policies (CloudWatchAgentServerPolicy) do not grant reading "
                "them; the hosts' own policy must." % (", ".join(unprefixed(settings["ssm_parameters"])), PARAMETER_PREFIX)]
    return []


def check_onprem(settings, mode):
    store = settings["access_key_store"]
    if not (store or settings["has_credentials"]) or not settings["region"] or (store and not KEY_STORE.match(store)):
        raise AgentPlanError(
            "This host runs the agent in onPremise mode (%s), which needs credentials and a region: set "
            "cloudwatch_agent_access_key_store (ssm:NAME or file:PATH, as agent_iam_user stored the key) or "
            "cloudwatch_agent_credentials (access_key_id and secret_access_key), and cloudwatch_agent_region."
            % ("set by cloudwatch_agent_mode" if settings["mode"] == "onPremise" else "auto: not an EC2 instance"))


def check_package(settings):
    verify, version = settings["package_verify"], settings["version"]
    if (verify == "sha256" and not re.match(r"^[0-9a-fA-F]{64}$", settings["package_sha256"])
            or verify == "gpg" and not re.match(r"^[0-9A-F]{40}$", settings["fingerprint"])
            or version != "latest" and not VERSION.match(version)
            or settings["package_file"] and version == "latest"):
        raise AgentPlanError(
            "Package settings do not fit together: cloudwatch_agent_package_verify=sha256 needs "
            "cloudwatch_agent_package_sha256 (64 hex digits); gpg needs cloudwatch_agent_gpg_fingerprint (40 hex "
            "digits); cloudwatch_agent_version must be a version such as 1.300069.0b1529 or \"latest\", and with "
            "cloudwatch_agent_package_file the version that file holds (not \"latest\").")


def legacy_paths(prefix, credentials_file):
    """What earlier versions of the role kept inside the agent's tree, where the agent's user could replace it."""
    etc = prefix.rstrip("/") + "/etc/"
    paths = [etc + name for name in ("observability.cloudwatch.state.json", "observability.cloudwatch.d", "observability.cloudwatch.rollback",
                                     "observability.cloudwatch.pre-ansible")] + [prefix.rstrip("/") + "/var/observability.cloudwatch-fetch"]
    return paths + ([etc + "credentials"] if credentials_file != etc + "credentials" else [])


def missing_groups(needs, held_groups, reader_groups):
    """The log-reading groups the host has and the agent's user is not in yet, for an agent that reads log files."""
    user = needs["run_as_user"]
    if user == "root" or not needs["collects_logs"]:
        return []
    return [group for group in reader_groups if group in held_groups and user not in held_groups[group]]


def check_key(key, origin):
    if not isinstance(key, dict) or not key.get("access_key_id") or not key.get("secret_access_key"):
        raise AgentPlanError("The key pair from %s lacks access_key_id or secret_access_key." % origin)


def escaped(name, characters="/ :"):
    return re.sub("[%s]" % re.escape(characters), "_", name)


def document(stage, dname, source, location, content):
    """One configuration document in the order the agent applies them.

    stage: its name among the delivered documents (what --diff shows); dname: the name the agent gives it in
    amazon-cloudwatch-agent.d/ (file_<basename> or ssm_<name>, as its downloader escapes them); location: what
    fetch-config and append-config receive, relative to the directory the documents are handed over in.
    """
    return {"stage": stage, "dname": dname, "source": source, "location": location, "content": content,
            "sha256": sha256(content)}


def documents(settings, file_config=None, values=None):
    """The wanted documents known on the controller, or None when the agent's downloader reads them on the host."""
    source = settings["config_source"]
    if source == "inline":
        return [document("inline.json", "file_inline.json", "cloudwatch_agent_config", "file:inline.json",
                         nice_json(settings["config"]))]
    if source == "file":
        stage = escaped(settings["config_file"].rsplit("/", 1)[-1], " :")
        return [document(stage, "file_" + stage, settings["config_file"], "file:" + stage, nice_json(file_config))]
    if settings["ssm_fetch"] == "agent":
        return None
    docs = []
    for name in settings["ssm_parameters"]:
        content = settings["ssm_parameter_values"].get(name, (values or {}).get(name))
        if content is None:
            raise AgentPlanError("Parameter %s was not read on the controller (cloudwatch_agent_ssm_fetch=controller)." % name)
        stage = escaped(name) + ".json"
        docs.append(document(stage, "file_" + stage, "ssm:" + name, "file:" + stage,
                             content if isinstance(content, str) else json.dumps(content)))
    return docs


def downloaded(name, content):
    """A document the agent's downloader read from Parameter Store on the host."""
    stage = "ssm_" + escaped(name)
    return document(stage, stage, "ssm:" + name, "ssm:" + name, content)


def parsed(docs):
    out = []
    for doc in docs:
        try:
            value = json.loads(doc["content"])
        except ValueError:
            raise AgentPlanError("%s is not JSON." % doc["source"]) from None
        if not isinstance(value, dict):
            raise AgentPlanError("%s does not hold a JSON object." % doc["source"])
        out.append(value)
    return out


def needs(docs):
    """What the configuration asks of the host: the agent's user, whether it reads log files, collectd's types.db."""
    configs = parsed(docs)
    users = [c.get("agent", {}).get("run_as_user") for c in configs if isinstance(c.get("agent"), dict)]
    files = [c.get("logs", {}).get("logs_collected", {}).get("files") for c in configs if isinstance(c.get("logs"), dict)]
    types_db = []
    for config in configs:
        collectd = (config.get("metrics") or {}).get("metrics_collected", {}).get("collectd", False)
        if collectd is not False:
            extra = collectd.get("collectd_typesdb") if isinstance(collectd, dict) else None
            types_db.extend(extra or [COLLECTD_TYPES_DB])
    return {"run_as_user": next((user for user in users if user), "root"),
            "collects_logs": any(files),
            "types_db": sorted(set(types_db))}


def config_changed(docs, held, mode):
    """Whether the agent's own configuration differs from the wanted documents (or was never applied in this mode)."""
    held_files = dict((name, state["sha256"]) for name, state in held["config_files"].items())
    return (dict((doc["dname"], doc["sha256"]) for doc in docs) != held_files
            or held["json_config"]["exists"]
            or not held["toml_exists"]
            or (held.get("managed_state") or {}).get("mode") != mode)


def common_config(mode, settings):
    """common-config.toml: the credentials profile on-premises, proxy, CA bundle and IMDS retries."""
    lines = [HEADER, "# Used by the agent for both Parameter Store and CloudWatch access."]
    if mode == "onPremise":
        lines += ["", "[credentials]", '  shared_credential_profile = "%s"' % PROFILE,
                  "  shared_credential_file = %s" % json.dumps(settings["credentials_file"])]
    proxy = [(key, settings["proxy"].get(key)) for key in ("http_proxy", "https_proxy", "no_proxy") if settings["proxy"].get(key)]
    if proxy:
        lines += ["", "[proxy]"] + ["  %s = %s" % (key, json.dumps(value)) for key, value in proxy]
    if settings["ca_bundle"]:
        lines += ["", "[ssl]", "  ca_bundle_path = %s" % json.dumps(settings["ca_bundle"])]
    if settings["imds_retries"] > 0:
        lines += ["", "[imds]", "  imds_retries = %d" % settings["imds_retries"]]
    return "\n".join(lines) + "\n"


def credentials(key, region):
    return "%s\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n" % (
        HEADER, PROFILE, key["access_key_id"], key["secret_access_key"], region)


def agent_users(managed_state):
    """The users the agent runs or ran as: the package's, and the one the role last ran it as."""
    last = (managed_state or {}).get("run_as_user")
    return [PACKAGE_USER] + ([last] if last and last != PACKAGE_USER else [])


def state_record(mode, settings, docs, run_as_user):
    """What the role applied, kept on the host (digests only, never secrets)."""
    return {"mode": mode, "config_source": settings["config_source"],
            "ssm_fetch": settings["ssm_fetch"] if settings["config_source"] == "ssm" else None,
            "sources": [doc["source"] for doc in docs],
            "documents": dict((doc["dname"], doc["sha256"]) for doc in docs),
            # The digest of each parameter's value as the agent got it: the status report finds its version in the
            # parameter's history, also where only the host's own downloader read it.
            "parameters": dict((doc["source"][len("ssm:"):], doc["sha256"]) for doc in docs if doc["source"].startswith("ssm:")),
            "run_as_user": run_as_user}


# --- what the inventory allows a configuration to ask for ---------------------------------------------------------
def has_parent_step(path):
    # Split also where the agent's glob alternatives ({a,b}) start, so that no alternative climbs out either.
    return ".." in re.split(r"[/{},]", path)


def allow_lists(allowed):
    """The allow-lists as the check compares with, or a refusal naming the variable and what it takes."""
    allowed = allowed if isinstance(allowed, dict) else {}
    rules = {"run_as_users": (USER_NAME.match, "user names such as cwagent"),
             "endpoints": (lambda v: v.strip() == v, "endpoints as the configuration gives them, without spaces"),
             "log_paths": (lambda v: v.startswith("/") and not has_parent_step(v), "absolute globs without .. such as /var/log/**")}
    out = {}
    for name, variable in ALLOWED.items():
        value, (good, what) = allowed.get(name), rules[name]
        if not isinstance(value, list) or not all(isinstance(v, str) and v and good(v) for v in value):
            raise AgentPlanError("%s must be a list of %s; got %s." % (variable, what, json.dumps(value)))
        out[name] = value
    return out


def walk(value, path=()):
    """Every (JSON path, key, value) of a configuration, depth first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield path + (key,), key, item
        yield from walk(item, path + (key,))


def refusal(config, allowed, logs_dir):
    """What in one configuration the inventory does not allow: (JSON path, value, what to change), in order."""
    out = []
    for path, key, value in walk(config):
        if path == ("agent", "run_as_user") and value not in allowed["run_as_users"]:
            out.append((path, value, "not in %s (%s)" % (ALLOWED["run_as_users"], ", ".join(allowed["run_as_users"]))))
        elif key in ENDPOINT_KEYS and value not in allowed["endpoints"]:
            out.append((path, value, "not in %s (%s)" % (ALLOWED["endpoints"], ", ".join(allowed["endpoints"]) or "empty")))
        elif key == "file_path" and not (isinstance(value, str) and not has_parent_step(value)
                                         and any(glob_match(glob, value) for glob in allowed["log_paths"])):
            out.append((path, value, "outside %s (%s)" % (ALLOWED["log_paths"], ", ".join(allowed["log_paths"]) or "empty")))
        elif key == "collectd_typesdb":
            # The role creates a missing types.db as root: only in collectd's own directory, whatever the inventory.
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                if not (isinstance(item, str) and item.startswith(COLLECTD_DIR) and not has_parent_step(item)):
                    out.append((path + (index,), item, "outside %s, where collectd keeps it; no variable widens this" % COLLECTD_DIR))
        elif path == ("agent", "logfile") and value and not (isinstance(value, str) and value.startswith(logs_dir)
                                                             and not has_parent_step(value)):
            out.append((path, value, "outside the agent's own %s; no variable widens this" % logs_dir))
    return out


def source_name(doc):
    return "parameter " + doc["source"][len("ssm:"):] if doc["source"].startswith("ssm:") else doc["source"]


def check_allowed(docs, allowed, prefix):
    """Refuse configuration documents that ask for what the inventory does not allow, before anything is written.

    Checked on the controller when it knows the documents and on the host after the agent's downloader read them.
    """
    allowed = allow_lists(allowed)
    logs_dir = prefix.rstrip("/") + "/logs/"
    configs = parsed(docs)
    found = [(doc, item) for doc, config in zip(docs, configs) for item in refusal(config, allowed, logs_dir)]
    if docs and "root" not in allowed["run_as_users"] and not any(
            isinstance(c.get("agent"), dict) and c["agent"].get("run_as_user") for c in configs):
        unset = "unset, so the agent runs as root, which is not in %s" % ALLOWED["run_as_users"]
        found.append((docs[0], (("agent", "run_as_user"), None, unset)))
    if found:
        lines = ["- %s: %s is %s, %s" % (source_name(doc), format_path(path), json.dumps(value), why) for doc, (path, value, why) in found]
        raise AgentPlanError("The configuration asks for what the inventory does not allow; the host keeps its current "
                             "configuration:\n%s\nTo allow a value, add it to the variable named, in the inventory." % "\n".join(lines))
