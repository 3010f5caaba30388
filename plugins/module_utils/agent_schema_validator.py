# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The validator of the agent configuration schema (a small subset of JSON Schema), and its error messages.

Error format: every error is one string ``<path>: <message>``. The path names
the offending value: keys are joined with dots, list indexes are written
``[i]``, keys that are not plain identifiers are written ``["key"]`` (for
example ``agent["service.name"]`` or ``metrics.metrics_collected["Network Interface"]``)
and the configuration itself is ``(root)``. Errors are sorted by path (list
indexes numerically), then by message.

Stdlib only, so that it can be shipped to targets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping


class AgentConfigError(Exception):
    """An agent configuration, or a schema given to validate it, cannot be used."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# ---- paths and messages -------------------------------------------------------------------

ROOT_PATH = "(root)"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path):
    """Render a sequence of keys and list indexes as ``a.b[2]["odd key"]``; the empty path is ``(root)``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += ("." if text else "") + part
        else:
            text += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return text or ROOT_PATH


def _sort_key(error):
    path, message = error
    return tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in path), message


def render_errors(errors):
    return [f"{format_path(path)}: {message}" for path, message in sorted(set(errors), key=_sort_key)]


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value, name):
    actual = json_type(value)
    if name == "integer":
        return actual == "integer" or (actual == "number" and value.is_integer())
    if name == "number":
        return actual in ("integer", "number")
    return actual == name


def _show(value, limit=60):
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


# ---- the validator --------------------------------------------------------------------------

class Validator:
    """Checks a value against the JSON Schema subset used by AGENT_CONFIG_SCHEMA.

    Keywords: $ref (local "#/..." pointers), type, enum, minimum, maximum, exclusiveMinimum,
    exclusiveMaximum, minLength, maxLength, pattern (with the x-pattern-hint extension for the
    message), minItems, maxItems, uniqueItems, items, required, properties, patternProperties,
    additionalProperties (bool or schema), minProperties, allOf, anyOf, oneOf, not. Other keywords
    are ignored, as JSON Schema does with unknown keywords.
    """

    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#"):
            raise AgentConfigError(f"schema: only local references are supported, not {ref}")
        node = self.root
        for token in [t for t in ref[1:].split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise AgentConfigError(f"schema: unresolvable reference {ref}")
            node = node[token]
        return node

    def check(self, value, schema, path=()):
        """Return the list of (path, message) errors of value against schema."""
        errors = []
        if schema is True or schema == {}:
            return errors
        if schema is False:
            return [(path, "not allowed")]
        if "$ref" in schema:
            errors.extend(self.check(value, self.resolve(schema["$ref"]), path))
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, name) for name in types):
                errors.append((path, f"must be of type {' or '.join(types)}, got {json_type(value)}"))
                return errors
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            options = schema["enum"]
            if len(options) == 1:
                errors.append((path, f"must be {_show(options[0])}, got {_show(value)}"))
            else:
                errors.append((path, f"must be one of {', '.join(_show(o, 200) for o in options)}, got {_show(value)}"))
        kind = json_type(value)
        if kind in ("integer", "number"):
            errors.extend(self._check_number(value, schema, path))
        elif kind == "string":
            errors.extend(self._check_string(value, schema, path))
        elif kind == "array":
            errors.extend(self._check_array(value, schema, path))
        elif kind == "object":
            errors.extend(self._check_object(value, schema, path))
        if "not" in schema and not self.check(value, schema["not"], path):
            excluded = schema["not"].get("enum") if isinstance(schema["not"], Mapping) else None
            if excluded:
                errors.append((path, f"must not be {' or '.join(_show(o) for o in excluded)}"))
            else:
                errors.append((path, "is not allowed here"))
        for sub in schema.get("allOf", []):
            errors.extend(self.check(value, sub, path))
        if "anyOf" in schema:
            errors.extend(self._check_alternatives(value, schema["anyOf"], path, exactly_one=False))
        if "oneOf" in schema:
            errors.extend(self._check_alternatives(value, schema["oneOf"], path, exactly_one=True))
        return errors

    @staticmethod
    def _check_number(value, schema, path):
        errors = []
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"must be >= {schema['minimum']}, got {_show(value)}"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append((path, f"must be > {schema['exclusiveMinimum']}, got {_show(value)}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"must be <= {schema['maximum']}, got {_show(value)}"))
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append((path, f"must be < {schema['exclusiveMaximum']}, got {_show(value)}"))
        return errors

    @staticmethod
    def _check_string(value, schema, path):
        errors = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            if schema["minLength"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must be at least {_plural(schema['minLength'], 'character')} long"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((path, f"must be at most {_plural(schema['maxLength'], 'character')} long, got {len(value)}"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            expected = schema.get("x-pattern-hint") or f"a string matching {schema['pattern']}"
            errors.append((path, f"must be {expected}, got {_show(value)}"))
        return errors

    def _check_array(self, value, schema, path):
        errors = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            if schema["minItems"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must contain at least {_plural(schema['minItems'], 'item')}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((path, f"must contain at most {_plural(schema['maxItems'], 'item')}"))
        if schema.get("uniqueItems"):
            seen = {}
            for index, item in enumerate(value):
                first = seen.setdefault(_show(item, limit=None), index)
                if first != index:
                    errors.append((path + (index,), f"duplicate of item [{first}]"))
        if "items" in schema:
            for index, item in enumerate(value):
                errors.extend(self.check(item, schema["items"], path + (index,)))
        return errors

    def _check_object(self, value, schema, path):
        errors = []
        for key in schema.get("required", []):
            if key not in value:
                errors.append((path + (key,), "required"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            if schema["minProperties"] == 1:
                errors.append((path, "must not be empty"))
            else:
                errors.append((path, f"must contain at least {_plural(schema['minProperties'], 'key')}"))
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            key_path = path + (key if isinstance(key, str) else str(key),)
            matched = False
            if key in properties:
                matched = True
                errors.extend(self.check(item, properties[key], key_path))
            for pattern, sub in patterns.items():
                if isinstance(key, str) and re.search(pattern, key):
                    matched = True
                    errors.extend(self.check(item, sub, key_path))
            if matched:
                continue
            if additional is False:
                allowed = sorted(properties)
                hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
                errors.append((key_path, "unknown key" + hint))
            elif isinstance(additional, Mapping):
                errors.extend(self.check(item, additional, key_path))
        return errors

    def _check_alternatives(self, value, alternatives, path, exactly_one):
        results = [self.check(value, sub, path) for sub in alternatives]
        passed = sum(1 for errors in results if not errors)
        if passed == 1 or (passed > 1 and not exactly_one):
            return []
        keys = [sub["required"][0] for sub in alternatives if set(sub) == {"required"} and len(sub["required"]) == 1]
        if len(keys) == len(alternatives):
            quantity = "exactly one" if exactly_one else "at least one"
            return [(path, f"must contain {quantity} of: {', '.join(keys)}")]
        if passed > 1:
            return [(path, f"must match exactly one of the allowed forms, but matches {passed}")]
        # Nothing matched: explain against the alternatives of the value's own type, if any.
        declared = [self._declared_types(sub) for sub in alternatives]
        fitting = [errors for errors, types in zip(results, declared) if types is None or any(_is_type(value, t) for t in types)]
        if not fitting:
            names = []
            for types in declared:
                names.extend(t for t in types if t not in names)
            return [(path, f"must be of type {' or '.join(names)}, got {json_type(value)}")]
        return min(fitting, key=len)

    def _declared_types(self, schema):
        while "type" not in schema and "$ref" in schema:
            schema = self.resolve(schema["$ref"])
        if "type" not in schema:
            return None
        return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _same(value, option):
    """JSON equality: true is not 1, 1.0 is 1."""
    if isinstance(value, bool) or isinstance(option, bool):
        return isinstance(value, bool) and isinstance(option, bool) and value == option
    return value == option
