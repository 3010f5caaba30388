# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The builders the agent configuration schema is written with; each returns plain JSON Schema data.

Used by ``agent_schema``, ``agent_schema_metrics`` and ``agent_schema_logs`` alike, so that
the three files read as one schema. Stdlib only, so that it can be shipped to targets.
"""

from __future__ import annotations

_REF = "#/definitions/"


def ref(name):
    """A reference to the definition ``name`` of AGENT_CONFIG_SCHEMA."""
    return {"$ref": _REF + name}


def non_empty_string(**extra):
    """A string of at least one character; ``extra`` adds keywords such as ``maxLength``."""
    return {"type": "string", "minLength": 1, **extra}


def any_object():
    """An object whose content is left to the agent."""
    return {"type": "object"}


def _object(closed, properties, required, extra):
    schema = {"type": "object"}
    if closed:
        schema["additionalProperties"] = False
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    schema["properties"] = properties
    return schema


def closed_object(properties, required=None, **extra):
    """An object that accepts only the keys in ``properties`` (unknown keys are errors)."""
    return _object(True, properties, required, extra)


def open_object(properties, required=None, **extra):
    """An object that checks the keys in ``properties`` and tolerates any other key.

    ``additionalProperties=<schema>`` in ``extra`` checks the other keys against that schema instead.
    """
    return _object(False, properties, required, extra)


def array_of(items, min_items=None, **extra):
    """A list whose every item matches ``items``; ``min_items=1`` rejects an empty list."""
    schema = {"type": "array"}
    if min_items is not None:
        schema["minItems"] = min_items
    schema.update(extra)
    schema["items"] = items
    return schema


def one_or_many(item):
    """One ``item``, or a non-empty list of them."""
    return {"oneOf": [item, array_of(item, min_items=1)]}


def required_one_of(*keys):
    """For ``anyOf``: the value must hold at least one of ``keys``."""
    return [{"required": [key]} for key in keys]


def service_identity(name="name"):
    """The ``service.name`` (a reference to the definition ``name``) and ``deployment.environment`` keys."""
    return {"service.name": ref(name), "deployment.environment": ref("name")}
