"""Turn a trigger request body into the flow's inputs, or say exactly what is wrong with it.

`user_message`, `text` and `instruction` are accepted names for the message (the seeds use all
three); they map onto the start node's declared message input. Everything else must be a declared
input: an unknown field is refused rather than silently ignored, so typos surface at once.
"""

from __future__ import annotations

import flows
from app.json_body import LIST_LIMIT, BodyError, quoted


def inputs_from_body(body: dict, start_config: dict) -> dict:
    """Map message aliases (the engine's one rule) and validate against the start node's declared inputs."""
    try:
        data = flows.apply_message_alias(start_config, body)
    except flows.MessageAliasError as exc:
        raise _alias_refusal(exc) from None
    values, errors = flows.validate_inputs(start_config, data)
    if errors:
        raise BodyError("invalid_inputs", f"The inputs do not match the flow: {_summary(errors)}.", errors)
    return values


def _summary(errors: list[dict]) -> str:
    """Each problem as `"name" reason`, the name abridged (a key may be 900,000 characters), at most LIST_LIMIT."""
    shown = "; ".join(f"{quoted(e['field'])} {e['reason']}" if e.get("field") else e["reason"]
                      for e in errors[:LIST_LIMIT])
    return shown if len(errors) <= LIST_LIMIT else f"{shown}; and {len(errors) - LIST_LIMIT} more"


def _alias_refusal(exc: flows.MessageAliasError) -> BodyError:
    first = exc.fields[0]
    if exc.reason == "twice":
        return BodyError("invalid_inputs", f"Send the message in one field only; got {', '.join(exc.fields)}.",
                         [{"field": name, "reason": "duplicate message field"} for name in exc.fields[1:]])
    if exc.reason == "no_message_input":
        return BodyError("invalid_inputs", "This flow declares no message input, so it takes no "
                         f"'{first}'. Remove the field, or add a message input to the start node.",
                         [{"field": first, "reason": "the flow takes no message"}])
    return BodyError("invalid_inputs", f"'{first}' and '{exc.message_name}' both set the message; send one.",
                     [{"field": first, "reason": "duplicate message field"}])
