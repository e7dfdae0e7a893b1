"""Translate between OpenAI's chat-completions format and a run of a flow.

The request side: the last user message becomes the flow's message input, the earlier user and
assistant messages its conversation history (`trigger.session.history`), system messages and
sampling options are passed on as `trigger.openai`. The answer side: the run's reply becomes a
`chat.completion` (or a stream of `chat.completion.chunk`s), with the token usage the flow's LLM
nodes reported — or, for flows that call no model, an estimate (about 4 characters a token).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import flows
from app.extensions import db
from app.models import Flow, Run, Trigger
from app.services.triggers import rate_limit
from app.services.versions.parsed_versions import PublishedVersion
from app.services.runs.replay import safe_headers
from app.services.runs.run_start import Started, start
from app.services.runs.start_request import StartRequest, published_version
from app.services.triggers.trigger_body import inputs_from_body
from app.json_body import BodyError
from app.services.triggers.trigger_request import MAX_ID, TriggerRequest
from app.services.triggers.trigger_request import idempotency_header as idempotency_header_key

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
HISTORY_ROLES = ("user", "assistant")
MAX_MESSAGES = 1000
OPTION_FIELDS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "presence_penalty",
                 "frequency_penalty", "seed")


class ChatRequestError(Exception):
    """A field of the request is wrong; `param` names it as OpenAI does (e.g. `messages[2].content`)."""

    def __init__(self, param: str | None, message: str, code: str = "invalid_request_error", status: int = 400):
        super().__init__(message)
        self.param, self.message, self.code, self.status = param, message, code, status


@dataclass
class ChatRequest:
    model: str
    message: str
    history: list[dict] = field(default_factory=list)
    system: str = ""
    options: dict = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    user: str | None = None
    metadata: dict = field(default_factory=dict)
    prompt_chars: int = 0


def parse(body: dict) -> ChatRequest:
    """Validate the fields we use (unknown fields are ignored, as OpenAI clients expect)."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ChatRequestError("model", "You must provide a model parameter (the flow's model name).")
    texts = _messages(body.get("messages"))
    if texts[-1][0] != "user":
        raise ChatRequestError("messages", "The last message must be from the user: the flow answers it.")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise ChatRequestError("stream", "stream must be true or false.")
    n = body.get("n")
    if n is not None and (type(n) is not int or n != 1):  # `type`: True == 1, and OpenAI refuses `n: true`
        raise ChatRequestError("n", "Only n=1 is supported: a flow gives one answer per request.")
    options = _options(body)
    user = body.get("user")
    if user is not None and (not isinstance(user, str) or len(user) > MAX_ID):
        raise ChatRequestError("user", f"user must be a string of at most {MAX_ID} characters.")
    metadata = _object(body, "metadata")
    stream_options = _object(body, "stream_options")
    include_usage = stream_options.get("include_usage", False)
    if include_usage is not None and not isinstance(include_usage, bool):
        raise ChatRequestError("stream_options.include_usage", "stream_options.include_usage must be true or false.")
    earlier = texts[:-1]
    return ChatRequest(
        model=model, message=texts[-1][1],
        history=[{"role": role, "content": text} for role, text in earlier if role in HISTORY_ROLES],
        system="\n\n".join(text for role, text in earlier if role in ("system", "developer")),
        options=options, stream=bool(stream), include_usage=bool(include_usage),
        user=user or None, metadata=metadata, prompt_chars=sum(len(text) for _, text in texts))


def _object(body: dict, name: str) -> dict:
    """The object parameter `name` ({} when left out or null); ChatRequestError for any other type.

    Why not `body.get(name) or {}`: that read 0, "" and [] as "not sent" and answered 200, where
    OpenAI refuses them; a client sending them has a bug it should hear about.
    """
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ChatRequestError(name, f"{name} must be an object.")
    return value


def _messages(messages) -> list[tuple[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise ChatRequestError("messages", "messages must be a non-empty array of {role, content} objects.")
    if len(messages) > MAX_MESSAGES:
        raise ChatRequestError("messages", f"At most {MAX_MESSAGES} messages per request.")
    texts = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ChatRequestError(f"messages[{index}]", "Each message must be an object with role and content.")
        role = message.get("role")
        if role not in ROLES:
            raise ChatRequestError(f"messages[{index}].role", f"role must be one of {', '.join(ROLES)}.")
        texts.append((role, _content(message.get("content"), index)))
    return texts


def _content(content, index: int) -> str:
    """Return a message's text; other parts (images, audio) are refused.

    Text parts are separate blocks to OpenAI's models, so each starts on its own line: joined
    with nothing, "Hello" and "World" would reach the flow as "HelloWorld".
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part_index, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ChatRequestError(f"messages[{index}].content[{part_index}]",
                                       "Only text content parts are supported by flows.")
            parts.append(part["text"])
        return "\n".join(parts)
    raise ChatRequestError(f"messages[{index}].content", "content must be a string or an array of text parts.")


def _options(body: dict) -> dict:
    options = {name: body[name] for name in OPTION_FIELDS if body.get(name) is not None}
    ranges = {"temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2), "frequency_penalty": (-2, 2)}
    for name, (low, high) in ranges.items():
        value = options.get(name)
        if value is not None and (not _number(value) or not low <= value <= high):
            raise ChatRequestError(name, f"{name} must be a number from {low} to {high}.")
    for name in ("max_tokens", "max_completion_tokens", "seed"):
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or
                                  (name != "seed" and value < 1)):
            raise ChatRequestError(name, f"{name} must be a positive integer." if name != "seed"
                                   else "seed must be an integer.")
    stop = options.get("stop")
    if stop is not None and not (isinstance(stop, str) or
                                 (isinstance(stop, list) and all(isinstance(s, str) for s in stop))):
        raise ChatRequestError("stop", "stop must be a string or an array of strings.")
    return options


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---- the run ------------------------------------------------------------------------------------

def accept(trigger: Trigger, chat: ChatRequest, body: dict, *, headers, request_id: str) -> Started:
    """Start (or, for a repeated Idempotency-Key, find) the run answering this chat request.

    Raises RateLimited, NotPublished, ChatRequestError and what `run_start.start` raises.
    """
    rate_limit.check(trigger.id, int(trigger.config.get("rate_limit_per_minute") or 0))
    flow = db.session.get(Flow, trigger.flow_id)
    request = start_request(flow, published_version(flow), trigger, chat, body, headers=safe_headers(headers),
                            idempotency_header=headers.get("Idempotency-Key"),
                            session_header=headers.get("X-Session-Id"), request_id=request_id)
    return start(request)


def start_request(flow: Flow, version: PublishedVersion, trigger: Trigger, chat: ChatRequest, body: dict, *,
                  headers: dict, idempotency_header: str | None, session_header: str | None,
                  request_id: str) -> StartRequest:
    """Build the run's request: the last message as the message input, the rest as history and options.

    Metadata keys that name a declared input fill it; others are ignored, as OpenAI ignores
    metadata it does not know. Raises ChatRequestError naming the `param` to fix.
    """
    message_name = flows.message_input(version.start_config)
    if message_name is None:
        raise ChatRequestError("messages", "This flow declares no message input, so it cannot take chat "
                               "messages; set a message input on its start node.")
    values = {name: value for name, value in chat.metadata.items()
              if name in version.declared and name != message_name}
    try:
        inputs = inputs_from_body({message_name: chat.message, **values}, version.start_config)
    except BodyError as exc:
        field_name = (exc.details or [{}])[0].get("field")
        raise ChatRequestError("messages" if field_name in (None, message_name) else f"metadata.{field_name}",
                               exc.message) from None
    try:
        key = idempotency_header_key(idempotency_header)  # the rule every door applies
    except BodyError as exc:
        raise ChatRequestError(None, exc.message) from None
    contract = TriggerRequest(inputs_body={}, session_key=chat.user or _session_header(session_header),
                              environment="openai", idempotency_key=key)
    return StartRequest(flow=flow, version=version, trigger=trigger, source="openai", inputs=inputs,
                        request_id=request_id, contract=contract, with_session=True, hashed_body=body,
                        headers=headers, body=body, history=chat.history,
                        payload={"openai": {"model": chat.model, "system": chat.system, **chat.options}})


def _session_header(header: str | None) -> str | None:
    """The X-Session-Id header's conversation id (None when not sent), bounded like `user`.

    Why refuse rather than cut: the id is the conversation's key (a 255-character column) and is
    what the caller continues the conversation with; an 8,000-character header was stored whole.
    An empty one is refused as the Idempotency-Key header is, rather than read as "no session".
    """
    if header is None:
        return None
    header = header.strip()
    if not 1 <= len(header) <= MAX_ID:
        raise ChatRequestError(None, f"The X-Session-Id header must be 1 to {MAX_ID} characters.")
    return header


# ---- answers ------------------------------------------------------------------------------------

def completion_id(run: Run) -> str:
    return f"chatcmpl-{run.id}"


def reply_text(run: Run) -> str:
    output = run.output if isinstance(run.output, dict) else {}
    text = output.get("text")
    return text if isinstance(text, str) else ""


def usage(run: Run, prompt_chars: int) -> dict:
    """Sum the usage the run's LLM steps recorded; estimate it when the flow called no model."""
    prompt = completion = 0
    reported = False
    for step in run.steps:
        step_usage = (step.output or {}).get("usage") if isinstance(step.output, dict) else None
        if isinstance(step_usage, dict) and step.node_type == "llm":
            reported = True
            prompt += int(step_usage.get("prompt_tokens") or 0)
            completion += int(step_usage.get("completion_tokens") or 0)
    if not reported:
        prompt, completion = math.ceil(prompt_chars / 4), math.ceil(len(reply_text(run)) / 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(run: Run, model: str, prompt_chars: int) -> dict:
    return {
        "id": completion_id(run), "object": "chat.completion", "created": int(run.created_at.timestamp()),
        "model": model, "system_fingerprint": f"switchboard-v{run.version_number}",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(run), "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": usage(run, prompt_chars),
    }


def chunk(run: Run, model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": completion_id(run), "object": "chat.completion.chunk", "created": int(run.created_at.timestamp()),
        "model": model, "system_fingerprint": f"switchboard-v{run.version_number}",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def usage_chunk(run: Run, model: str, prompt_chars: int) -> dict:
    return {"id": completion_id(run), "object": "chat.completion.chunk", "created": int(run.created_at.timestamp()),
            "model": model, "choices": [], "usage": usage(run, prompt_chars)}


def failure_message(run: Run) -> str:
    where = f" at node '{run.error_node_id}'" if run.error_node_id else ""
    return (f"The flow's run {run.id} ended {run.status.value}{where}: {run.error or 'no answer'}. "
            f"See GET /api/v1/runs/{run.id} for every step.")

