# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs on the controller: reads the host once, decides what the agent role must change, and applies only that.

The key pairs and parameter values come from the lookup agent_sources, read once per play for every host.
step=check reads the host with agent_facts and refuses settings that cannot work there, before anything changes;
step=apply assembles the wanted files and documents, compares them with what the check read, and calls
agent_apply on the host only when something differs (a run that changes nothing does not reach the host);
step=rollback puts back the configuration kept before this run's change.
"""

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import AgentPlanError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import agent_host
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import package_source
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import package_version
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_source import PackageSourceError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_version import PackageVersionError

ARGS = {
    "step": {"type": "str", "choices": ["check", "apply", "rollback"], "required": True},
    "settings": {"type": "dict", "required": True},
    "paths": {"type": "dict", "default": {}},
    "keys": {"type": "dict", "default": {}, "no_log": True},
    "credentials": {"type": "dict", "default": {}, "no_log": True},
    "checked": {"type": "dict", "default": {}},
    "latest": {"type": "str", "default": ""},
    "ssm_values": {"type": "dict", "default": {}},
    "log_reader_groups": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, options = self.validate_argument_spec(argument_spec=ARGS)
        system = (task_vars or {}).get("ansible_facts", {})
        try:
            if options["step"] == "check":
                result.update(self.check(options, system, task_vars))
            elif options["step"] == "apply":
                result.update(self.apply(options, system, task_vars))
            else:
                held = options["checked"]["ansible_facts"]["cloudwatch_agent"]
                result.update(self.host_call({"step": "rollback", "paths": options["paths"], "held": held}, task_vars=task_vars))
        except AgentPlanError as e:
            raise AnsibleActionFail(str(e)) from None
        return result

    def host_call(self, args, task_vars, name="observability.cloudwatch.agent_apply"):
        outcome = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        outcome.pop("invocation", None)
        if outcome.get("failed"):
            raise AnsibleActionFail(outcome.get("msg", "%s failed" % name), result=outcome)
        return outcome

    def file_config(self, settings):
        if settings["config_source"] != "file":
            return None
        path = self._find_needle("files", settings["config_file"])
        try:
            with open(path, "rb") as handle:
                return json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError) as e:
            raise AgentPlanError("cloudwatch_agent_config_file %s cannot be read as JSON: %s" % (settings["config_file"], e)) from None

    @staticmethod
    def package(settings, latest):
        """The version to install and the warnings about its source, decided before anything is downloaded."""
        try:
            warnings = package_source.check_sources(settings)
            if settings["version"] != "latest" or settings["package_file"]:
                return settings["version"], warnings
            return package_source.latest_version(latest, settings["package_base_url"] + "/info/latest/CWAGENT_VERSION"), warnings
        except PackageSourceError as e:
            raise AgentPlanError(str(e)) from None

    def check(self, options, system, task_vars):
        settings, paths = agent_host.settings(options["settings"]), options["paths"]
        wanted, source_warnings = self.package(settings, options["latest"])
        expected = agent_host.credentials_digest(settings, agent_host.key_for(settings, options["keys"], options["credentials"]))
        facts = self.host_call(agent_host.facts_args(paths, options["log_reader_groups"], expected),
                               task_vars, name="observability.cloudwatch.agent_facts")
        held = facts["ansible_facts"]["cloudwatch_agent"]
        mode = agent_plan.resolve_mode(settings["mode"], held["ec2"], system.get("system_vendor", ""))
        warnings = source_warnings + agent_plan.check_settings(settings, mode, held, system, task_vars.get("inventory_hostname", "this host"))
        missing = agent_host.missing_package_files(settings)
        if missing:
            raise AgentPlanError("cloudwatch_agent_package_file: %s not found on the controller (a package and, with "
                                 "cloudwatch_agent_package_verify=gpg, its detached signature)." % " and ".join(missing))
        if settings["package_file"]:
            # Read from the file here, so that a file of another version never reaches the host.
            try:
                package_version.check(settings["package_file"], settings["version"], settings["platform"]["arch"],
                                      settings["platform"].get("package_ext", ""))
            except PackageVersionError as e:
                raise AgentPlanError(str(e)) from None
        config = self.file_config(settings)
        if settings["config_source"] == "file" and not isinstance(config, dict):
            raise AgentPlanError("cloudwatch_agent_config_file %s must hold a JSON object." % settings["config_file"])
        self.check_allowed(settings, config, options)
        return {"changed": False, "ansible_facts": facts["ansible_facts"], "mode": mode, "wanted_version": wanted,
                "installed_version": held.get("version") or "", "warnings": warnings}

    @staticmethod
    def check_allowed(settings, file_config, options):
        """The documents known on the controller, refused here when the inventory does not allow what they ask for."""
        docs = agent_plan.documents(settings, file_config, options["ssm_values"])
        if docs is not None:
            agent_plan.check_allowed(docs, settings["allowed"], options["paths"]["prefix"])
        return docs

    def reread(self, options, checked, task_vars):
        """What the check read, or, after this run's installation, the host read again and the version checked."""
        if checked["wanted_version"] == checked["installed_version"] or self._task.check_mode:
            return checked["ansible_facts"]["cloudwatch_agent"]
        settings = agent_host.settings(options["settings"])
        expected = agent_host.credentials_digest(settings, agent_host.key_for(settings, options["keys"], options["credentials"]))
        held = self.host_call(agent_host.facts_args(options["paths"], options["log_reader_groups"], expected),
                              task_vars, name="observability.cloudwatch.agent_facts")["ansible_facts"]["cloudwatch_agent"]
        if held.get("version") != checked["wanted_version"]:
            raise AgentPlanError("The package installed version %s, but cloudwatch_agent_version asks for %s%s." % (
                held.get("version"), checked["wanted_version"],
                " (set it to the version cloudwatch_agent_package_file holds)" if settings["package_file"] else ""))
        return held

    def apply(self, options, system, task_vars):
        settings, paths = agent_host.settings(options["settings"]), options["paths"]
        held = self.reread(options, options["checked"], task_vars)
        mode = agent_plan.resolve_mode(settings["mode"], held["ec2"], system.get("system_vendor", ""))
        key = None
        if mode == "onPremise":
            key = agent_host.key_for(settings, options["keys"], options["credentials"])
            agent_plan.check_key(key, settings["access_key_store"] or "cloudwatch_agent_credentials")
        docs = self.check_allowed(settings, self.file_config(settings), options)
        plan = agent_host.plan(settings, paths, held, mode, key, docs, options["log_reader_groups"],
                               nothing_yet=self._task.check_mode and not held.get("version"))
        # Read again after an installation: the service step decides on it.
        facts = {"ansible_facts": {"cloudwatch_agent": held}} if held is not options["checked"]["ansible_facts"]["cloudwatch_agent"] else {}
        facts["warnings"] = agent_host.sandbox_warnings(settings, docs)
        if plan is None:
            return dict(facts, changed=False, applied=False)
        outcome = self.host_call(plan, task_vars)
        return dict(facts, **dict((name, outcome[name]) for name in ("changed", "applied", "run_as_user", "diff") if name in outcome))
