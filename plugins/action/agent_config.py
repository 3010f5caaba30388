# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs on the controller in front of the agent_config module: validates the configuration against the
collection's schema document (and the user's O(schema)) with jsonschema, then lets the module publish it.

The module does only the AWS side, so a task delegated to an instance needs nothing there but boto3. A restored
version (restore_version) is read by the module in check mode first, validated here, and only then published.
"""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils import agent_config_schema

MODULE = "observability.cloudwatch.agent_config"


def invalid(name, what, errors):
    """The failed result for a configuration that does not validate: nothing was written."""
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    return {
        "failed": True,
        "changed": False,
        "msg": f"The agent configuration for {name} ({what}) is not valid, nothing was written. {count}: " + "; ".join(errors),
        "errors": errors,
    }


def unusable(name, what, message):
    return {"failed": True, "changed": False, "msg": f"The agent configuration for {name} ({what}) cannot be used: {message}"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        validate = boolean(args.get("validate", True), strict=False)
        schema_path = args.pop("schema", None)
        if schema_path:
            schema_path = self._loader.path_dwim(schema_path)
        if args.get("state", "present") != "present" or not (validate or schema_path):
            return self._publish(result, args, task_vars)
        if not agent_config_schema.HAS_JSONSCHEMA:
            raise AnsibleActionFail(
                "agent_config validates on the controller with the Python library jsonschema: install it there"
                " (pip install -r requirements.txt of the collection), or set validate: false without schema"
            )
        # The module validates nothing itself; it still parses and normalises the value.
        args["validate"] = False
        name = args.get("name")
        if args.get("restore_version") is not None:
            return self._restore(result, args, task_vars, name, validate, schema_path)
        if args.get("config") is not None:
            value, what = args["config"], "config"
        elif args.get("content") is not None:
            value, what = args["content"], "content"
        else:
            return self._publish(result, args, task_vars)  # the module reports the missing option
        failure, warnings = self._check(name, what, value, validate, schema_path)
        if failure:
            result.update(failure)
            return result
        return self._publish(result, args, task_vars, warnings)

    def _check(self, name, what, value, validate, schema_path):
        """``(failed result or None, warnings)`` for one configuration value (a dict or JSON text)."""
        try:
            errors, warnings = agent_config_schema.check_value(value, validate, schema_path)
        except AgentConfigError as e:
            return unusable(name, what, to_native(e.message)), []
        if errors:
            failure = invalid(name, what, errors)
            if warnings:
                failure["warnings"] = warnings
            return failure, warnings
        return None, warnings

    def _restore(self, result, args, task_vars, name, validate, schema_path):
        """Read the version in check mode, validate it, then publish it (the value of a version never changes)."""
        what = f"version {args['restore_version']}"
        wanted_check_mode = self._task.check_mode
        self._task.check_mode = True
        try:
            preview = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = wanted_check_mode
        preview.pop("invocation", None)
        if preview.get("failed") or "config" not in preview:
            result.update(preview)
            return result
        failure, warnings = self._check(name, what, preview["config"], validate, schema_path)
        if failure:
            result.update(failure)
            return result
        if wanted_check_mode:
            result.update(preview)
            result["warnings"] = preview.get("warnings", []) + warnings
            return result
        return self._publish(result, args, task_vars, warnings)

    def _publish(self, result, args, task_vars, warnings=()):
        outcome = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        outcome.pop("invocation", None)
        result.update(outcome)
        if warnings:
            result["warnings"] = list(warnings) + outcome.get("warnings", [])
        return result
