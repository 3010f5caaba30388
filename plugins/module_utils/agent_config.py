# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An agent configuration published as an SSM parameter: what the ``agent_config`` module does.

The name rule, reading the configuration (normalised form, size; the agent_config action validated it), the tier
choice, and the read, plan and apply of the parameter. Helpers take an SSM client and plain values,
never a module: AWS errors are ``AnsibleSSMError`` (from ``ssm``); input that cannot be published is
``AgentConfigInputError``, raised before anything is written; warnings are returned as values.
"""

import json


from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import config_size
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import json_type
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import normalize_config
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import parse_config_text
from ansible_collections.observability.cloudwatch.plugins.module_utils.aws_limits import parameter_description_problem
from ansible_collections.observability.cloudwatch.plugins.module_utils.aws_limits import parameter_name_problem
from ansible_collections.observability.cloudwatch.plugins.module_utils.aws_limits import tags_problem
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import ADVANCED
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AUTO
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AnsibleSSMError
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import CONFIG_NAME_PREFIX
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import INTELLIGENT_TIERING
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import PARAMETER_TYPE
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import STANDARD
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import TierError
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import choose_tier
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import delete_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import describe_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import get_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import known_tier
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import list_parameter_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import put_parameter
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import update_parameter_tags
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import FAIL
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import MAX_ATTEMPTS
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import attempt
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import conflict_error
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import conflict_warning
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import is_conflict
from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm_conflict import lost_create_race


class AgentConfigInputError(AgentConfigError):
    """Input that cannot be published; nothing was written. ``details`` are extra keys of the failure result."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


def pretty(config):
    return json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stored_config(parameter):
    """The configuration an existing parameter holds, or None when its value is not a JSON object."""
    if parameter is None:
        return None
    try:
        return normalize_config(parameter["Value"])[0]
    except AgentConfigError:
        return None


# ---- input -------------------------------------------------------------------------------------


def check_name(name, allow_any_name=False, region=None):
    """Return the warnings a parameter name gives (a list); raise when the name is refused, by the
    collection's prefix rule or by Parameter Store's (its ARN in ``region`` counts towards the length)."""
    problem = parameter_name_problem(name, "name", region)
    if problem:
        raise AgentConfigInputError(f"{problem}; nothing was written.")
    if name.startswith(CONFIG_NAME_PREFIX):
        return []
    if not allow_any_name:
        raise AgentConfigInputError(
            f"The parameter name {name!r} does not start with {CONFIG_NAME_PREFIX!r}: the AWS managed policies let"
            f" agents read (CloudWatchAgentServerPolicy) and administrators write (CloudWatchAgentAdminPolicy) only"
            f" parameters named {CONFIG_NAME_PREFIX}*. Rename it, or set allow_any_name=true if you grant access otherwise."
        )
    return [
        f"The parameter name {name!r} does not start with {CONFIG_NAME_PREFIX!r}: agents using CloudWatchAgentServerPolicy"
        f" cannot read it, and CloudWatchAgentAdminPolicy cannot write it; grant ssm:GetParameter on it yourself."
    ]


def check_metadata(description=None, tags=None):
    """The description and tags Parameter Store accepts (raise when it would refuse them)."""
    problem = parameter_description_problem(description) or tags_problem(tags)
    if problem:
        raise AgentConfigInputError(f"{problem}; nothing was written.")


def invalid(name, what, errors):
    """The error for a configuration that does not validate; ``errors`` go into the result too."""
    return AgentConfigInputError(
        f"The agent configuration for {name} ({what}) is not valid, nothing was written."
        f" {len(errors)} error{'s' if len(errors) != 1 else ''}: " + "; ".join(errors),
        errors=errors,
    )


def prepare(name, value, what):
    """Normalise ``value`` (a dict or JSON text); return ``(config, compact JSON, size)``.

    The agent_config action validated it on the controller. ``what`` names the source in messages (``config``,
    ``content``, ``version 3``).
    """
    try:
        if isinstance(value, str):
            value = parse_config_text(value)
        if isinstance(value, dict):
            config, compact = normalize_config(value)
    except AgentConfigError as e:
        raise AgentConfigInputError(f"The agent configuration for {name} ({what}) cannot be used: {e.message}") from e
    if not isinstance(value, dict):
        # Valid JSON, but not an object: reported like a validation error, with its path.
        raise invalid(name, what, [f"(root): must be of type object, got {json_type(value)}"])
    return config, compact, config_size(compact)


def desired_value(client, name, config=None, content=None, restore_version=None):
    """The configuration to publish: from ``config`` or ``content``, or read from the parameter's history."""
    if restore_version is None:
        if config is not None:
            return prepare(name, config, "config")
        return prepare(name, content, "content")
    earlier = get_parameter(client, name, version=restore_version)
    if earlier is None:
        raise AgentConfigInputError(
            f"Cannot restore version {restore_version} of {name}: the parameter or that version does not exist"
            " (Parameter Store keeps the last 100 versions)."
        )
    return prepare(name, earlier["Value"], f"version {restore_version}")


def tier_for(name, requested, size, current_tier=None):
    """``choose_tier``, its refusal turned into an input error that names the parameter and the size."""
    try:
        return choose_tier(requested, size, current_tier)
    except TierError as e:
        raise AgentConfigInputError(f"Cannot publish {name}: {e}; nothing was written.", size=size) from e


# ---- plan --------------------------------------------------------------------------------------


def needs_description(current, requested_tier=AUTO, description=None):
    """Whether to read the parameter's metadata (DescribeParameters, a right beyond publishing)."""
    return current is not None and (description is not None or requested_tier in (STANDARD, ADVANCED))


def plan_parameter(name, current, described, config, size, requested_tier=AUTO, description=None):
    """Compare the parameter read with the one wanted.

    ``current`` is what GetParameter returned (None when absent), ``described`` what DescribeParameters
    returned (None when not read). Returns a dict: ``write`` (a PutParameter is due), ``tier`` (to write
    with), and the ``version`` and ``result_tier`` the parameter has after the run when the write reports
    nothing else (check mode, or no write).
    """
    described = described or {}
    current_tier = known_tier(current["Value"] if current else None, described.get("Tier"))
    tier = tier_for(name, requested_tier, size, current_tier)

    value_changed = current is None or current.get("Type") != PARAMETER_TYPE or stored_config(current) != config
    description_changed = description is not None and (current is None or described.get("Description", "") != description)
    tier_changed = current is not None and requested_tier in (STANDARD, ADVANCED) and tier != current_tier
    write = value_changed or description_changed or tier_changed

    version = current["Version"] if current else 0
    result_tier = current_tier or described.get("Tier") or STANDARD
    if write:
        version += 1
        # Intelligent-Tiering resolves like auto; Parameter Store reports the tier it chose.
        result_tier = tier if tier != INTELLIGENT_TIERING else choose_tier(AUTO, size, current_tier)
    return {"write": write, "tier": tier, "version": version, "result_tier": result_tier}


def merged_tags(current_tags, to_set, to_unset):
    tags = {k: v for k, v in current_tags.items() if k not in to_unset}
    tags.update(to_set)
    return tags


# ---- apply -------------------------------------------------------------------------------------


def write_value(client, name, compact, tier, requested_tier, current, description=None, tags=None):
    kwargs = {"tier": tier, "description": description}
    if current is None:
        return put_parameter(client, name, compact, tags=tags, overwrite=False, **kwargs)
    # With auto, a small configuration may go to a parameter that is advanced already: keep it advanced.
    return put_parameter(client, name, compact, keep_advanced=requested_tier == AUTO, **kwargs)


def read_and_plan(client, name, config, size, tier, description):
    """Read the parameter (and its metadata when needed); return ``(current, plan)``."""
    current = get_parameter(client, name)
    described = describe_parameter(client, name) if needs_description(current, tier, description) else None
    return current, plan_parameter(name, current, described, config, size, tier, description)


def publish(client, name, wanted, current, plan, on_conflict=FAIL):
    """Write as planned, and find out whether another writer wrote in between (see ``ssm_conflict``).

    ``wanted`` is ``(config, compact, size, requested tier, description, tags)``. Returns a dict:
    ``current`` (the read the last write was planned on), the parameter's ``version`` and ``tier``
    holding the value, ``wrote`` (a write of this run made a version) and ``warnings``. With
    ``on_conflict=retry``, after a conflict the parameter is read again: the value there is accepted, or
    written again, up to MAX_ATTEMPTS writes in all.
    """
    config, compact, size, tier, description, tags = wanted
    region = client.meta.region_name
    attempts, landed = [], None
    while True:
        read = current["Version"] if current else 0
        try:
            written = landed = write_value(client, name, compact, plan["tier"], tier, current, description, tags)
        except AnsibleSSMError as e:
            if not lost_create_race(e):
                raise
            written = None
        attempts.append(attempt(read, written and written["version"]))
        if not is_conflict(attempts[-1]):
            break
        if on_conflict == FAIL:
            raise conflict_error(name, region, attempts)
        current, plan = read_and_plan(client, name, config, size, tier, description)
        attempts[-1]["after"] = current["Version"] if current else 0
        if not plan["write"]:
            # This run's write stands (its tier is the one reported), or another writer wrote the same configuration.
            stands = landed and landed["version"] == plan["version"]
            written = landed if stands else {"version": plan["version"], "tier": plan["result_tier"]}
            break
        if len(attempts) == MAX_ATTEMPTS:
            raise conflict_error(name, region, attempts)
    return {
        "current": current,
        "version": written["version"],
        "tier": written["tier"],
        "wrote": any(entry["wrote"] is not None for entry in attempts),
        "warnings": [conflict_warning(name, region, attempts)] if any(map(is_conflict, attempts)) else [],
    }


def _no_guard():
    pass


def ensure_tags(client, name, current, desired, purge_tags=True, check_mode=False, guard=_no_guard):
    """Return ``(tags, changed)``; ``guard()`` runs before a change (also in check mode)."""
    if current is None:
        # A new parameter gets its tags with PutParameter.
        return dict(desired), bool(desired)
    current_tags = list_parameter_tags(client, name)
    to_set, to_unset = compare_aws_tags(current_tags, desired, purge_tags)
    if not (to_set or to_unset):
        return current_tags, False
    guard()
    if not check_mode:
        update_parameter_tags(client, name, to_set, to_unset)
    return merged_tags(current_tags, to_set, to_unset), True


def diff_of(name, current, after_header, after):
    before = stored_config(current)
    return {
        "before_header": f"{name} (version {current['Version']})" if current else f"{name} (absent)",
        "after_header": after_header,
        "before": pretty(before) if before is not None else (current or {}).get("Value", ""),
        "after": after,
    }


def ensure_present(
    client,
    name,
    config=None,
    content=None,
    restore_version=None,
    tier=AUTO,
    description=None,
    tags=None,
    purge_tags=True,
    on_conflict=FAIL,
    check_mode=False,
    diff=False,
    guard=_no_guard,
):
    """Publish the configuration; return the module result (``changed``, ``parameter``, ``config``, ``size``,
    and ``warnings`` when another writer wrote meanwhile). Raises ``AnsibleSSMConflictError`` on a conflict
    that ``on_conflict`` does not resolve. ``guard()`` (the caller check) runs when a write is due, also in
    check mode."""
    config, compact, size = desired_value(client, name, config, content, restore_version)
    # A size no tier (or the tier asked for) can hold fails before the current state is even read.
    tier_for(name, tier, size)

    first, plan = read_and_plan(client, name, config, size, tier, description)

    current, changed, warnings = first, plan["write"], []
    version, result_tier = plan["version"], plan["result_tier"]
    if plan["write"]:
        guard()
    if plan["write"] and not check_mode:
        published = publish(client, name, (config, compact, size, tier, description, tags), first, plan, on_conflict)
        current, changed, warnings = published["current"], published["wrote"], published["warnings"]
        version, result_tier = published["version"], published["tier"]

    tags_changed = False
    if tags is not None:
        tags, tags_changed = ensure_tags(client, name, current, tags, purge_tags, check_mode, guard)

    parameter = {"name": name, "version": version, "tier": result_tier, "type": PARAMETER_TYPE}
    if description is not None:
        parameter["description"] = description
    if tags is not None:
        parameter["tags"] = tags
    result = {"changed": changed or tags_changed, "parameter": parameter, "config": config, "size": size}
    if warnings:
        result["warnings"] = warnings
    if diff:
        result["diff"] = diff_of(name, first, f"{name} (version {version})", pretty(config))
    return result


def ensure_absent(client, name, check_mode=False, diff=False, guard=_no_guard):
    """Delete the parameter and its history; return the module result. ``guard()`` runs first, as above."""
    current = get_parameter(client, name)
    if current is None:
        return {"changed": False, "parameter": {}}
    guard()
    if not check_mode:
        delete_parameter(client, name)
    result = {"changed": True, "parameter": {}}
    if diff:
        result["diff"] = diff_of(name, current, f"{name} (absent)", "")
    return result
