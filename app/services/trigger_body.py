"""Turn a trigger request body into the flow's inputs, or say exactly what is wrong with it.

`user_message`, `text` and `instruction` are accepted names for the message (the seeds use all
three); they map onto the start node's declared message input. Everything else must be a declared
input: an unknown field is refused rather than silently ignored, so typos surface at once.
"""

from __future__ import annotations

import json

import flows

MESSAGE_ALIASES = ("user_message", "text", "instruction")
MAX_DEPTH = 64


class BodyError(Exception):
    def __init__(self, code: str, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def parse_json_object(raw: bytes) -> dict:
    """Parse the raw body as a JSON object; an empty body is an empty object."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise BodyError("invalid_json", "The body is not valid UTF-8 JSON.") from None
    except RecursionError:
        raise BodyError("invalid_json", f"The body is nested more than {MAX_DEPTH} levels deep.") from None
    except json.JSONDecodeError as exc:
        raise BodyError("invalid_json",
                        f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    if not isinstance(value, dict):
        raise BodyError("invalid_body", f"The body must be a JSON object, not {type(value).__name__}.")
    _check_storable(value, 0)
    return value


def _check_storable(value, depth: int) -> None:
    """Refuse what no database column can keep: NUL characters (PostgreSQL) and absurd nesting."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BodyError("invalid_text", "Text in the body must not contain the NUL character (\\u0000).")
        return
    if depth > MAX_DEPTH:
        raise BodyError("invalid_json", f"The body is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, depth + 1)
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)


def inputs_from_body(body: dict, start_config: dict) -> dict:
    """Map message aliases and validate against the start node's declared inputs."""
    data = dict(body)
    aliases = [name for name in MESSAGE_ALIASES if name in data]
    message_name = flows.message_input(start_config)
    if aliases:
        if len(aliases) > 1:
            raise BodyError("invalid_inputs", f"Send the message in one field only; got {', '.join(aliases)}.",
                            [{"field": name, "reason": "duplicate message field"} for name in aliases[1:]])
        if message_name is None:
            raise BodyError("invalid_inputs", "This flow declares no message input, so it takes no "
                            f"'{aliases[0]}'. Remove the field, or add a message input to the start node.",
                            [{"field": aliases[0], "reason": "the flow takes no message"}])
        value = data.pop(aliases[0])
        if message_name in data and message_name != aliases[0]:
            raise BodyError("invalid_inputs", f"'{aliases[0]}' and '{message_name}' both set the message; send one.",
                            [{"field": aliases[0], "reason": "duplicate message field"}])
        data[message_name] = value
    values, errors = flows.validate_inputs(start_config, data)
    if errors:
        summary = "; ".join(f"{e['field']}: {e['reason']}" if e.get("field") else e["reason"] for e in errors)
        raise BodyError("invalid_inputs", f"The inputs do not match the flow: {summary}.", errors)
    return values
