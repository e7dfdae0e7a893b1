"""Turn a trigger request body into the flow's inputs, or say exactly what is wrong with it.

`user_message`, `text` and `instruction` are accepted names for the message (the seeds use all
three); they map onto the start node's declared message input. Everything else must be a declared
input: an unknown field is refused rather than silently ignored, so typos surface at once.
"""

from __future__ import annotations

import flows
from app.json_body import BodyError, listed
from flows.inputs import MESSAGE_ALIASES  # the engine checks a schedule's inputs with the same names


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
        summary = listed(f"{e['field']}: {e['reason']}" if e.get("field") else e["reason"] for e in errors)
        raise BodyError("invalid_inputs", f"The inputs do not match the flow: {summary}.", errors)
    return values
