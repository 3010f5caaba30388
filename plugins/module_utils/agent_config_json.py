# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An agent configuration as JSON text: parsing, the normalised (compact) form and its size, and the check
against a JSON schema document given by the user (the ``schema`` option, with the jsonschema library).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import json_type
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema_validator import render_errors

try:
    import jsonschema
except ImportError:
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None


def validate_with_json_schema(config, schema_document):
    """Validate config against a full JSON Schema document (dict or JSON text) with the jsonschema library.

    This is what the ``schema`` option uses, for example with the agent package's
    ``doc/amazon-cloudwatch-agent-schema.json``. Errors use the same path style as
    validate_agent_config.
    """
    if not HAS_JSONSCHEMA:
        raise AgentConfigError(
            "The schema option needs the Python library jsonschema on the host that runs the module;"
            " install it there (pip install jsonschema) or leave schema unset to use the built-in validation."
        )
    if isinstance(schema_document, (str, bytes)):
        schema_document = _loads(schema_document, "schema")
    if not isinstance(schema_document, Mapping):
        raise AgentConfigError(f"schema: must be a JSON object, got {json_type(schema_document)}")
    cls = jsonschema.validators.validator_for(schema_document)
    try:
        cls.check_schema(schema_document)
    except jsonschema.exceptions.SchemaError as e:
        raise AgentConfigError(f"schema: not a valid JSON schema: {e.message}") from e
    errors = []
    try:
        for error in cls(schema_document).iter_errors(config):
            errors.extend(_explain(error))
    except jsonschema.exceptions.SchemaError as e:
        raise AgentConfigError(f"schema: not a valid JSON schema: {e.message}") from e
    except Exception as e:
        # Unresolvable $ref and similar problems in the schema document itself.
        if type(e).__module__.partition(".")[0] in ("jsonschema", "referencing"):
            raise AgentConfigError(f"schema: cannot be used: {e}") from e
        raise
    return render_errors(errors)


def _explain(error):
    """(path, message) pairs for a jsonschema error; a failed oneOf/anyOf is explained by the one branch of the value's type."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [subs for subs in branches.values() if not any(sub.validator == "type" and not sub.relative_path for sub in subs)]
        if len(fitting) == 1:
            return [pair for sub in fitting[0] for pair in _explain(sub)]
    message = error.message
    shown = repr(error.instance)
    if len(shown) > 60 and message.startswith(shown):
        # jsonschema starts most messages with the whole offending value; keep its beginning only.
        message = shown[:57] + "..." + message[len(shown):]
    return [(tuple(error.absolute_path), message)]


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise AgentConfigError("invalid JSON: duplicate key " + json.dumps(key, ensure_ascii=False))
        result[key] = value
    return result


def _loads(text, what):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AgentConfigError(f"{what}: not UTF-8 text: {e}") from e
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as e:
        raise AgentConfigError(f"{what}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e


def parse_config_text(text):
    """The value of a configuration given as JSON text (duplicate keys refused); raises AgentConfigError."""
    return _loads(text, "config")


def normalize_config(value):
    """Return (config dict, compact JSON text) for a dict or a JSON string.

    The compact text has sorted keys and no whitespace, so configurations that differ only in
    key order or layout give the same text. The dict returned is parsed back from that text: it
    holds exactly what the agent will read. Raises AgentConfigError for invalid input.
    """
    if isinstance(value, (str, bytes)):
        value = _loads(value, "config")
    if not isinstance(value, Mapping):
        raise AgentConfigError(f"config: must be a JSON object (a dict), got {json_type(value)}")
    try:
        compact = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise AgentConfigError(f"config: cannot be written as JSON: {e}") from e
    return json.loads(compact), compact


def config_size(compact):
    """Size of the compact JSON text in UTF-8 bytes (what SSM Parameter Store counts)."""
    return len(compact.encode("utf-8"))
