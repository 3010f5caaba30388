# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of an agent configuration on the controller: the collection's schema document
(``agent_config_schema.json``, JSON Schema draft 2020-12) checked with the jsonschema library.

Errors are ``path: message`` lines (the path style of ``agent_schema.format_path``). Objects the agent leaves open
carry the keyword ``x-warnUnknownKeys``: a key the agent does not read there is a warning, never an error.
"""

from __future__ import annotations

import difflib
import json
import os

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import normalize_config
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import parse_config_text
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import AgentConfigError
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import json_type
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import render_errors
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.agent_config_rules import translator_errors

try:
    import jsonschema
except ImportError:
    HAS_JSONSCHEMA = False  # the action says so when it needs it; importing this file must not fail
else:
    HAS_JSONSCHEMA = True

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent_config_schema.json")
WARN_UNKNOWN = "x-warnUnknownKeys"
# Keys the agent's translator reads in an open object although its published schema does not describe them.
READ_KEYS = "x-readKeys"


def load_document(path=SCHEMA_PATH):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def described_version(document):
    """The agent version the document describes (``x-agent-version``)."""
    return document["x-agent-version"]


def _pointer(document, ref):
    node = document
    for token in ref.lstrip("#/").split("/"):
        node = node[token]
    return node


def known_keys(document, schema):
    """The keys ``schema`` names, with those of the schemas it includes by ``$ref`` and ``allOf``."""
    keys = set(schema.get("properties", {})) | set(schema.get(READ_KEYS, []))
    if "$ref" in schema:
        keys |= known_keys(document, _pointer(document, schema["$ref"]))
    for part in schema.get("allOf", []):
        keys |= known_keys(document, part)
    return keys


def _unknown_keys_keyword(document):
    def warn_unknown_keys(validator, enabled, instance, schema):
        if not enabled or not validator.is_type(instance, "object"):
            return
        known = known_keys(document, schema)
        for key in instance:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                yield jsonschema.ValidationError(f"unknown key, the agent ignores it{hint}", path=[key])

    return warn_unknown_keys


class AgentConfigSchema:
    """The schema document, its validator and the translator's rules (agent_config_rules); ``check`` returns
    ``(errors, warnings)`` as ``path: message`` lines."""

    def __init__(self, document=None):
        self.document = load_document() if document is None else document
        base = jsonschema.Draft202012Validator
        cls = jsonschema.validators.extend(base, {WARN_UNKNOWN: _unknown_keys_keyword(self.document)})
        self.validator = cls(self.document)

    @property
    def agent_version(self):
        return described_version(self.document)

    def check(self, config):
        errors, warnings = [], []
        for error in self.validator.iter_errors(config):
            if error.validator == WARN_UNKNOWN:
                warnings.append((tuple(error.absolute_path), error.message))
            else:
                errors.extend(explain(error))
        if isinstance(config, dict):
            errors.extend(translator_errors(config))
        return render_errors(errors), render_errors(warnings)


# ---- messages ---------------------------------------------------------------------------------


def _show(value, limit=60):
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def _required_keys(schemas):
    """The keys of alternatives that each only require one key (``anyOf: [{required: [a]}, ...]``), else None."""
    keys = [sub["required"][0] for sub in schemas if isinstance(sub, dict) and set(sub) == {"required"} and len(sub["required"]) == 1]
    return keys if len(keys) == len(schemas) else None


def explain(error):
    """``(path, message)`` pairs for one jsonschema error, in the collection's words."""
    path = tuple(error.absolute_path)
    kind, value, schema = error.validator, error.instance, error.schema
    limit = error.validator_value
    if kind == "required":
        return [(path + (key,), "required") for key in limit if key not in value]
    if kind == "type":
        expected = " or ".join(limit) if isinstance(limit, list) else limit
        return [(path, f"must be of type {expected}, got {json_type(value)}")]
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return [(path + (key,), "unknown key" + hint) for key in value if key not in schema.get("properties", {})]
    if kind == "enum":
        return [(path, f"must be one of {', '.join(_show(o, 200) for o in limit)}, got {_show(value)}")]
    if kind == "const":
        return [(path, f"must be {_show(limit)}, got {_show(value)}")]
    if kind == "not" and isinstance(limit, dict) and "const" in limit:
        return [(path, f"must not be {_show(limit.get('const'))}")]
    if kind == "minimum":
        return [(path, f"must be >= {limit}, got {_show(value)}")]
    if kind == "maximum":
        return [(path, f"must be <= {limit}, got {_show(value)}")]
    if kind in ("minLength", "minItems", "minProperties") and limit == 1:
        return [(path, "must not be empty")]
    if kind == "minLength":
        return [(path, f"must be at least {_plural(limit, 'character')} long, got {len(value)}")]
    if kind == "maxLength":
        return [(path, f"must be at most {_plural(limit, 'character')} long, got {len(value)}")]
    if kind == "minItems":
        return [(path, f"must contain at least {_plural(limit, 'item')}")]
    if kind == "maxItems":
        return [(path, f"must contain at most {_plural(limit, 'item')}, got {len(value)}")]
    if kind == "maxProperties":
        return [(path, f"must contain at most {_plural(limit, 'key')}, got {len(value)}")]
    if kind == "uniqueItems":
        seen, pairs = {}, []
        for index, item in enumerate(value):
            first = seen.setdefault(json.dumps(item, sort_keys=True), index)
            if first != index:
                pairs.append((path + (index,), f"duplicate of item [{first}]"))
        return pairs
    if kind in ("anyOf", "oneOf"):
        keys = _required_keys(limit)
        if keys:
            return [(path, f"must contain at least one of: {', '.join(keys)}")]
        if error.context:
            # The deepest explanation names the value that is wrong, not the object around it.
            return explain(max(error.context, key=lambda sub: len(sub.absolute_path)))
    return [(path, error.message)]


# ---- what agent_config's action plugin calls --------------------------------------------------

_BUILT_IN = []


def built_in():
    """The collection's schema, loaded once per process."""
    if not _BUILT_IN:
        _BUILT_IN.append(AgentConfigSchema())
    return _BUILT_IN[0]


def user_schema(path):
    """The JSON schema document at ``path`` (the ``schema`` option), checked as a schema; raises AgentConfigError."""
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise AgentConfigError(f"Cannot use the schema file {path}: {e}") from e
    if not isinstance(document, dict):
        raise AgentConfigError(f"Cannot use the schema file {path}: must be a JSON object, got {json_type(document)}")
    cls = jsonschema.validators.validator_for(document)
    try:
        cls.check_schema(document)
    except jsonschema.exceptions.SchemaError as e:
        raise AgentConfigError(f"Cannot use the schema file {path}: not a valid JSON schema: {e.message}") from e
    return cls(document)


def check_value(value, validate=True, schema_path=None):
    """``(errors, warnings)`` of a configuration given as a dict or JSON text; see check_config.

    Raises AgentConfigError for text that is not JSON, a value too large or nested too deep, or an unusable schema.
    """
    if isinstance(value, (str, bytes)):
        parsed = parse_config_text(value)
        if not isinstance(parsed, dict):
            return [f"(root): must be of type object, got {json_type(parsed)}"], []
    config, dummy = normalize_config(value)
    return check_config(config, validate, schema_path)


def check_config(config, validate=True, schema_path=None):
    """``(errors, warnings)`` of a parsed configuration: the collection's schema when ``validate``, a user's schema
    document (the ``schema`` option) when ``schema_path`` is set. Raises AgentConfigError when a schema cannot be used.
    """
    errors, warnings = [], []
    if validate:
        errors, warnings = built_in().check(config)
    if schema_path is not None:
        found = []
        try:
            for error in user_schema(schema_path).iter_errors(config):
                found.extend(explain(error))
        except jsonschema.exceptions.SchemaError as e:
            raise AgentConfigError(f"Cannot use the schema file {schema_path}: not a valid JSON schema: {e.message}") from e
        except Exception as e:
            # An unresolvable $ref or a similar problem of the document itself.
            if type(e).__module__.partition(".")[0] in ("jsonschema", "referencing"):
                raise AgentConfigError(f"Cannot use the schema file {schema_path}: {e}") from e
            raise
        errors = errors + [f"{error} (schema {schema_path})" for error in render_errors(found)]
    return errors, warnings
