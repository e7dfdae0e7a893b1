"""Turn jsonschema validation errors into sentences a non-programmer can act on.

jsonschema's own messages ("'Ops status' does not match '^[a-zA-Z0-9_-]{1,64}$'") are written
for developers. The editor shows these messages to people drawing flows, so each one names the
setting (by its form title when the schema has one) and says what a valid value looks like.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Iterable, Sequence

from jsonschema.exceptions import ValidationError

from flows.patterns import HINTS

# A refused body's field and reason are answered to its sender: short whatever the body holds.
MAX_REASON_CHARS = 300
MAX_FIELD_CHARS = 200
MAX_KEY_CHARS = 40
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxdict = _SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = 4
_SHORT.maxlevel = 2

_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def format_path(parts: Sequence[object]) -> str:
    """Render path parts as ``config.inputs[0].name``, the notation problems use."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe_errors(errors: Iterable[ValidationError]) -> list[tuple[list, str]]:
    """Return unique (path parts, message) pairs for `errors`, ordered by path.

    Sorting makes the result independent of jsonschema's traversal order, so the same document
    always yields the same problem list (the editor and the tests rely on that).
    """
    described: dict[tuple, tuple[list, str]] = {}
    for error in errors:
        for parts, message in _describe(error):
            described.setdefault((_sort_key(parts), message), (parts, message))
    return [described[key] for key in sorted(described)]


def _sort_key(parts: Sequence[object]) -> tuple:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in parts)


def _describe(error: ValidationError) -> list[tuple[list, str]]:
    parts = list(error.absolute_path)
    validator, expected, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    if validator == "required" and isinstance(instance, dict):
        properties = schema.get("properties", {})
        return [
            (parts + [name], f"{_label(parts + [name], properties.get(name, {}))} is required.")
            for name in expected if name not in instance
        ]
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        return [
            (parts + [name], f"Remove '{name}': it is not a known field here"
                             f"{_known_fields(known)}.")
            for name in sorted(str(key) for key in instance if key not in known)
        ]

    label = _label(parts, schema)
    return [(parts, f"{label} {_requirement(validator, expected, instance, error)}.")]


def _requirement(validator: str, expected: object, instance: object, error: ValidationError) -> str:
    """Complete the sentence "<label> ..." for one failed keyword."""
    if validator == "type":
        types = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
    if validator == "enum":
        return "must be one of " + ", ".join(json.dumps(value) for value in expected)
    if validator == "const":
        return f"must be {json.dumps(expected)}"
    if validator == "pattern":
        hint = HINTS.get(expected, f"must match the pattern {expected}")
        return f"{hint}; got {json.dumps(instance)}"
    if validator == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters long"
    if validator == "maxLength":
        return f"must be at most {expected} characters long"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}
        return f"must be {words[validator]} {expected}"
    if validator == "minItems":
        return f"must have at least {expected} item{'s' if expected != 1 else ''}"
    if validator == "maxItems":
        return f"must have at most {expected} items"
    if validator == "maxProperties":
        return f"must have at most {expected} entries"
    return f"is invalid: {error.message}"


def _label(parts: Sequence[object], schema: dict) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    if isinstance(title, str) and title:
        return title
    return f"'{format_path(parts)}'" if parts else "The document"


def _known_fields(properties: dict) -> str:
    if not properties:
        return ""
    return " (known fields: " + ", ".join(sorted(properties)) + ")"


def short_refusal(error: ValidationError) -> tuple[str, str]:
    """Return (where, why) a value failed a schema, each short enough to answer whatever the value.

    jsonschema writes the failing value into its message ("'aaa…' is too long", "{…} has too many
    properties"), so a trigger filter refusing a 1 MB text echoed the megabyte back, and a key as
    long as the body made the field path as long. The value is shown abridged (its start, its
    end), the sentence keeps its ending (the "why"), and each path segment and the whole path are
    cut in the middle, so both still say which field failed and why.
    """
    where = "/".join(_cut(str(part), MAX_KEY_CHARS) for part in error.absolute_path) or "the body"
    return _cut(where, MAX_FIELD_CHARS), _cut(_abridged_message(error), MAX_REASON_CHARS)


def _abridged_message(error: ValidationError) -> str:
    message = error.message
    if isinstance(error.instance, (str, int, float, dict, list)) and not isinstance(error.instance, bool):
        full = repr(error.instance)
        if len(full) > _SHORT.maxstring and full in message:
            message = message.replace(full, _SHORT.repr(error.instance))
    return message


def _cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters: its start and end around an ellipsis, when longer."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"
