# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An agent configuration as data: JSON text parsed with duplicate keys refused, its size and depth bounded before
anything else reads it, the normalised (compact) form the idempotent compare uses, and the path style of every
message about it.

Validation against the agent's format is not here: it runs on the controller (plugins/plugin_utils/
agent_config_schema.py, the schema document agent_config_schema.json). Stdlib only, so that modules can ship it.

Path style: keys joined with dots, list indexes ``[i]``, keys that are not plain identifiers ``["key"]`` (for
example ``agent["service.name"]``), the configuration itself ``(root)``. Messages are sorted by path (list indexes
numerically), then by text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# Far above what Parameter Store holds (8 KiB compact) however the text is laid out, far below what would cost time.
MAX_TEXT_BYTES = 256 * 1024
# The agent's deepest section (prometheus metric_declaration dimensions) is 9 levels deep.
MAX_DEPTH = 64
ROOT_PATH = "(root)"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class AgentConfigError(Exception):
    """An agent configuration, or a schema given to validate it, cannot be used."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


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
    """``path: message`` lines of ``(path, message)`` pairs, without repeats, in path order."""
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


def _too_deep(what):
    return AgentConfigError(f"{what}: nested more than {MAX_DEPTH} levels deep; no agent configuration is")


def check_text_depth(text, what="config"):
    """Refuse JSON text nested deeper than MAX_DEPTH, counting brackets outside strings, before it is parsed."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(what)
        elif char in "]}":
            depth -= 1


def check_value_depth(value, what="config"):
    """Refuse a dict or list nested deeper than MAX_DEPTH, without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, (list, tuple)) else ()
        for child in children:
            if isinstance(child, (Mapping, list, tuple)):
                if depth + 1 > MAX_DEPTH:
                    raise _too_deep(what)
                pending.append((child, depth + 1))


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise AgentConfigError("invalid JSON: duplicate key " + json.dumps(key, ensure_ascii=False))
        result[key] = value
    return result


def parse_config_text(text, what="config"):
    """The value of JSON text (bytes must be UTF-8); size, depth and duplicate keys checked first."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AgentConfigError(f"{what}: not UTF-8 text: {e}") from e
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise AgentConfigError(f"{what}: {size} bytes of text, more than the {MAX_TEXT_BYTES} read; no agent configuration is that large")
    check_text_depth(text, what)
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as e:
        raise AgentConfigError(f"{what}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e


def normalize_config(value):
    """Return (config dict, compact JSON text) for a dict or a JSON string.

    The compact text has sorted keys and no whitespace, so configurations that differ only in
    key order or layout give the same text. The dict returned is parsed back from that text: it
    holds exactly what the agent will read. Raises AgentConfigError for invalid input.
    """
    if isinstance(value, (str, bytes)):
        value = parse_config_text(value)
    if not isinstance(value, Mapping):
        raise AgentConfigError(f"config: must be a JSON object (a dict), got {json_type(value)}")
    check_value_depth(value)
    try:
        compact = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise AgentConfigError(f"config: cannot be written as JSON: {e}") from e
    if len(compact.encode("utf-8")) > MAX_TEXT_BYTES:
        raise AgentConfigError(f"config: more than {MAX_TEXT_BYTES} bytes as JSON; no agent configuration is that large")
    return json.loads(compact), compact


def config_size(compact):
    """Size of the compact JSON text in UTF-8 bytes (what SSM Parameter Store counts)."""
    return len(compact.encode("utf-8"))
