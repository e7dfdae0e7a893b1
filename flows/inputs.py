"""Check the data a trigger sends against the inputs the start node declares.

The start node is the flow's contract with the outside world (seed 004: "Data must match the
start node's declared inputs"). The same check runs in the web app, so a bad request is refused
with a 400 before a run exists, and in the engine's start node, so a run can never see inputs the
flow did not declare. Unknown fields are errors rather than silently dropped: a caller's typo
should surface at once instead of producing a puzzling answer.
"""

from __future__ import annotations

import copy
import functools

from jsonschema import Draft202012Validator

INPUT_TYPES = ("string", "number", "integer", "boolean", "object", "array")
MESSAGE_INPUT_TYPES = ("string", "object")
# Body fields that carry "the message" whatever the start node calls its message input.
MESSAGE_ALIASES = ("user_message", "text", "instruction")

_TYPE_REASONS = {
    "string": "must be a string",
    "number": "must be a number",
    "integer": "must be an integer",
    "boolean": "must be true or false",
    "object": "must be an object",
    "array": "must be an array",
}


def declared_inputs(start_config: dict) -> list[dict]:
    """Return the well-formed input declarations of a start node config, in order."""
    inputs = start_config.get("inputs") if isinstance(start_config, dict) else None
    if not isinstance(inputs, list):
        return []
    return [
        item for item in inputs
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("type") in INPUT_TYPES
    ]


def input_schema(start_config: dict) -> dict:
    """Return the JSON Schema that a run's inputs must satisfy.

    Useful beyond validation: the app can publish it so callers know what to send.
    """
    declared = declared_inputs(start_config)
    properties: dict[str, dict] = {}
    for item in declared:
        prop: dict = {"type": item["type"]}
        if isinstance(item.get("description"), str):
            prop["description"] = item["description"]
        if "default" in item:
            prop["default"] = item["default"]
        properties[item["name"]] = prop
    return _object_schema(properties, [item["name"] for item in declared if _required(item)])


def _required(item: dict) -> bool:
    """Whether a declared input must be sent: marked required and without a default to fall back on."""
    return item.get("required") is True and "default" not in item


def _object_schema(properties: dict, required: list[str]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def message_input(start_config: dict) -> str | None:
    """Return the input that a request's `user_message` / `text` / `instruction` fills, if any.

    Only a declared string or object input qualifies; anything else means "no message input",
    which lets the caller refuse a message instead of guessing where to put it.
    """
    name = start_config.get("message_input") if isinstance(start_config, dict) else None
    if not isinstance(name, str):
        return None
    for item in declared_inputs(start_config):
        if item["name"] == name and item["type"] in MESSAGE_INPUT_TYPES:
            return name
    return None


class MessageAliasError(ValueError):
    """A body's message fields cannot be placed: `reason` is "twice", "no_message_input" or "both"."""

    def __init__(self, reason: str, fields: list[str], message_name: str | None):
        super().__init__(reason)
        self.reason, self.fields, self.message_name = reason, fields, message_name


def apply_message_alias(start_config: dict, data: dict) -> dict:
    """Return `data` with a message alias (`user_message`, `text`, `instruction`) moved onto the message input.

    One rule for every caller, request bodies and a schedule's fixed inputs alike, so a schedule
    the editor accepts is one its fires accept. Raise MessageAliasError when the message is sent
    twice, the flow takes no message, or both an alias and the input itself set it.
    """
    data = dict(data)
    aliases = [name for name in MESSAGE_ALIASES if name in data]
    if not aliases:
        return data
    message_name = message_input(start_config)
    if len(aliases) > 1:
        raise MessageAliasError("twice", aliases, message_name)
    if message_name is None:
        raise MessageAliasError("no_message_input", aliases, None)
    value = data.pop(aliases[0])
    if message_name in data and message_name != aliases[0]:
        raise MessageAliasError("both", aliases, message_name)
    data[message_name] = value
    return data


def validate_inputs(start_config: dict, data: object) -> tuple[dict, list[dict]]:
    """Validate `data` against the declared inputs and fill in defaults.

    Returns (values, errors). Every declared input is present in `values`: the sent value, else
    its default, else None, so templates can test ``inputs.x`` without tripping over an
    undefined variable. A declared input sent as null counts as not sent; that keeps the check
    idempotent (the app validates a request, stores the values, and the start node validates
    them again). An input with a default is never reported as missing. Errors are
    ``{"field": name_or_None, "reason": ...}`` in declaration order, unknown fields last.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, [{"field": None, "reason": f"inputs must be a JSON object, not {_json_type(data)}"}]

    declared = declared_inputs(start_config)
    names = {item["name"] for item in declared}
    values: dict = {}
    for item in declared:
        if "default" in item:
            values[item["name"]] = copy.deepcopy(item["default"])
    values.update((key, value) for key, value in data.items() if value is not None or key not in names)

    shape = _shape(declared)
    errors = [] if _plainly_valid(shape, values) else _errors(_validator(shape), values, declared)
    for item in declared:
        values.setdefault(item["name"], None)
    return values, errors


def _shape(declared: list[dict]) -> tuple:
    """What of the declarations the check depends on: names, types, which are required.

    Descriptions and defaults are annotations to JSON Schema, so the schema built from this
    validates exactly as `input_schema`'s does.
    """
    return tuple((item["name"], item["type"], _required(item)) for item in declared)


@functools.lru_cache(maxsize=512)
def _validator(shape: tuple) -> Draft202012Validator:
    """One validator per shape of declarations, shared by every check (validators keep no state).

    Why: building a validator cost more than the check itself, on every trigger request (web)
    and every run's start node (worker).
    """
    return Draft202012Validator(_object_schema({name: {"type": kind} for name, kind, _ in shape},
                                               [name for name, _, required in shape if required]))


# Values that certainly have each input type (what JSON gives); anything else goes to jsonschema.
_PLAIN_TYPES = {"string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
                "object": (dict,), "array": (list,)}


@functools.lru_cache(maxsize=512)
def _plain_check(shape: tuple) -> tuple[dict, tuple]:
    """The exact Python types each declared input accepts, and the required names, per shape."""
    return ({name: _PLAIN_TYPES.get(kind, ()) for name, kind, _ in shape},
            tuple(name for name, _, required in shape if required))


def _plainly_valid(shape: tuple, values: dict) -> bool:
    """Whether `values` certainly satisfies the declarations of `shape`, without jsonschema.

    Every run's start node checks its inputs, and walking a validator's errors took most of the
    start node's time when there were none. True only when every key is declared, every
    required one is present and every value's exact type is one the input's type accepts;
    otherwise (also for a float that is a whole number for "integer") jsonschema decides and
    names the errors.
    """
    types, required = _plain_check(shape)
    for name, value in values.items():
        accepted = types.get(name)
        if accepted is None or type(value) not in accepted:
            return False
    return all(name in values for name in required)


def _errors(validator: Draft202012Validator, values: dict, declared: list[dict]) -> list[dict]:
    names = [item["name"] for item in declared]
    declared_names = set(names)
    found: dict[str, str] = {}
    unknown: dict[str, None] = {}  # ordered set: a list's `in` made 20,000 unknown fields take seconds
    for error in validator.iter_errors(values):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in values:
                    found.setdefault(name, "is required")
        elif error.validator == "additionalProperties":
            unknown.update((str(key), None) for key in values if key not in declared_names)
        elif error.absolute_path:
            name = str(error.absolute_path[0])
            reason = _TYPE_REASONS.get(error.validator_value, error.message) \
                if error.validator == "type" else error.message
            found.setdefault(name, reason)
    errors = [{"field": name, "reason": found[name]} for name in names if name in found]
    hint = f"declared inputs: {', '.join(names)}" if names else "this flow declares no inputs"
    errors += [{"field": name, "reason": f"is not a declared input; {hint}"} for name in sorted(unknown)]
    return errors


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
