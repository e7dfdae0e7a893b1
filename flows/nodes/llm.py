"""Define the LLM node: one chat-completions call to any OpenAI-compatible provider.

The message list is: the system prompt, the session's last turns (so the model remembers the
conversation; the app fills `session.history` in the trigger payload), then the node's own
message templates. With streaming on, each text delta is published as a `token` event while the
answer is still arriving (credential secrets masked, as in the stored answer, holding back only
text that could still grow into one), so a chat client or the canvas can show it live; the step's output is
the whole answer plus the provider's token usage. Every way a provider can fail (an HTTP error,
a timeout, an answer that is not JSON) becomes a step error that says which one it was.
"""

from __future__ import annotations

import json
import time

import httpx

from flows.credentials import node_credential_headers
from flows.net import guarded_stream, read_limited
from flows.redaction import StreamRedactor, redact
from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.outputs import OBJECT, TEXT, output_field
from flows.nodes.schema_parts import ITEM_TITLE

MAX_ANSWER_BYTES = 4 * 1024 * 1024
_ROLES = ["system", "user", "assistant"]


class LlmNode(NodeType):
    """Ask a chat model; output its answer text, the model name, the finish reason and the usage."""

    required_text = ("base_url", "model", "messages[].content")
    url_fields = ("base_url",)

    type = "llm"
    category = "logic"
    title = "LLM"
    description = "Asks a chat model (any OpenAI-compatible API) with a system prompt, the conversation so far and your messages."
    checkpoint_before_run = True
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["base_url", "model"],
        "properties": {
            "base_url": {"type": "string", "minLength": 1, "maxLength": 2000, "default": "https://api.openai.com/v1",
                         "title": "API base URL",
                         "description": "The provider's OpenAI-compatible base URL; /chat/completions is added."},
            "model": {"type": "string", "minLength": 1, "maxLength": 200, "default": "gpt-4o-mini", "title": "Model",
                      "description": "The model name the provider expects, e.g. gpt-4o-mini."},
            "credential": {"type": "string", "maxLength": 100, "title": "Credential", "x-widget": "credential",
                           "description": "The workspace credential holding the API key (sent as a bearer token)."},
            "system_prompt": {"type": "string", "maxLength": 100000, "default": "", "title": "System prompt",
                              "x-widget": "template",
                              "description": "Template with the model's instructions; sent first."},
            "messages": {
                "type": "array", "maxItems": 50, "title": "Messages", ITEM_TITLE: "Message",
                "description": "Sent after the conversation history, in order; each content is a template.",
                "default": [{"role": "user", "content": "{{ inputs.message }}"}],
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["role", "content"],
                    "properties": {
                        "role": {"type": "string", "enum": _ROLES, "default": "user", "title": "Role",
                                 "x-enum-titles": {"system": "Instructions (system)", "user": "User",
                                                   "assistant": "Assistant (the model)"}},
                        "content": {"type": "string", "maxLength": 100000, "title": "Content", "x-widget": "template"},
                    },
                },
            },
            "history_turns": {"type": "integer", "minimum": 0, "maximum": 100, "default": 10,
                              "title": "Conversation turns to include", "x-advanced": True,
                              "description": "The session's last N turns (a user message and its answer each)."},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2, "title": "Temperature", "x-advanced": True,
                            "description": "0 = focused, 2 = creative; left out: the provider's default."},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000, "title": "Longest answer (tokens)",
                           "x-advanced": True,
                           "description": "Longest answer in tokens; left out: the provider's default."},
            "timeout_seconds": {"type": "number", "minimum": 1, "maximum": 600, "default": 60,
                                "title": "Timeout (seconds)", "x-advanced": True,
                                "description": "The whole answer must arrive within this time."},
            "stream": {"type": "boolean", "default": True, "title": "Show the answer as it arrives", "x-advanced": True,
                       "description": "Publish the answer token by token while it arrives."},
        },
    }

    def output_fields(self, config: dict) -> list[dict]:
        return [output_field("text", TEXT, "The model's answer."),
                output_field("model", TEXT, "The model that answered."),
                output_field("finish_reason", TEXT, "Why the answer ended (stop, length…).", "Why it ended"),
                output_field("usage", OBJECT, "Tokens used, as the provider counted them.")]

    def run(self, ctx: NodeContext) -> NodeResult:
        config = ctx.config
        headers = {"Content-Type": "application/json"}
        credentials = node_credential_headers(ctx, config.get("credential"), api_key_as_bearer=True)
        body: dict = {"model": config["model"], "messages": self.messages(ctx), "stream": bool(config["stream"])}
        for name in ("temperature", "max_tokens"):
            if config.get(name) is not None:
                body[name] = config[name]
        if body["stream"]:
            body["stream_options"] = {"include_usage": True}
        url = config["base_url"].rstrip("/") + "/chat/completions"
        timeout = float(config["timeout_seconds"])
        deadline = time.monotonic() + timeout
        with guarded_stream("POST", url, settings=ctx.settings, timeout=timeout, headers=headers,
                            credentials=credentials, json=body) as response:
            if response.status_code >= 400:
                raw = read_limited(response, 64 * 1024)
                raise NodeError(_http_error(response.status_code, raw, ctx.secrets))
            if body["stream"] and "text/event-stream" in response.headers.get("content-type", ""):
                answer = _read_stream(ctx, response, deadline, timeout)
            else:
                answer = _parse_answer(read_limited(response, MAX_ANSWER_BYTES))
        answer.setdefault("model", config["model"])
        return NodeResult(output=answer, port="out")

    def messages(self, ctx: NodeContext) -> list[dict]:
        """Build the chat: system prompt, the session's last turns, then the node's messages."""
        config = ctx.config
        messages: list[dict] = []
        system = ctx.render(config["system_prompt"], "config.system_prompt")
        if system.strip():
            messages.append({"role": "system", "content": system})
        turns = config["history_turns"]
        history = ctx.session.get("history")
        if turns and isinstance(history, list):
            chat = [{"role": item["role"], "content": item["content"]} for item in history
                    if isinstance(item, dict) and item.get("role") in ("user", "assistant")
                    and isinstance(item.get("content"), str)]
            messages += chat[-2 * turns:]
        for index, message in enumerate(config.get("messages") or []):
            messages.append({"role": message["role"],
                             "content": ctx.render(message["content"], f"config.messages[{index}].content")})
        if not messages:
            raise NodeError("There is nothing to send: add a system prompt or a message.")
        return messages


def _http_error(status: int, raw: bytes, secrets: set) -> str:
    """Say what the provider said, preferring its error message over raw JSON (secrets blanked before cutting)."""
    detail = raw.decode("utf-8", errors="replace").strip()
    try:
        error = json.loads(detail).get("error")
        detail = error.get("message", detail) if isinstance(error, dict) else (error or detail)
    except (ValueError, AttributeError):
        pass
    hint = {401: " Check the credential.", 404: " Check the base URL and the model name.",
            429: " The provider is rate limiting; add a retry with a wait."}.get(status, "")
    return f"The model provider answered HTTP {status}: {redact(str(detail), secrets)[:500]}.{hint}"


def _parse_answer(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        shown = raw[:200].decode("utf-8", errors="replace")  # a provider's answer never echoes the key
        raise NodeError(f"The model provider's answer is not a chat completion (expected JSON with "
                        f"choices[0].message.content): {shown!r}") from None
    return {"text": text, "model": data.get("model"), "finish_reason": choice.get("finish_reason"),
            "usage": data.get("usage") if isinstance(data.get("usage"), dict) else None}


def _read_stream(ctx: NodeContext, response: httpx.Response, deadline: float, timeout: float) -> dict:
    """Parse server-sent events (``data: {...}`` lines, ending with ``data: [DONE]``)."""
    parts: list[str] = []
    result: dict = {"model": None, "finish_reason": None, "usage": None}
    shown = StreamRedactor(ctx.secrets)  # the stored answer is redacted; what is shown live must be too
    try:
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise NodeError(f"The model did not finish its answer within {timeout:g} s.")
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise NodeError(f"The model provider sent a stream event that is not JSON: {data[:200]!r}") from None
            if not isinstance(chunk, dict):
                continue
            if isinstance(chunk.get("error"), dict):
                raise NodeError(f"The model provider reported an error: {chunk['error'].get('message')}")
            result["model"] = chunk.get("model") or result["model"]
            if isinstance(chunk.get("usage"), dict):
                result["usage"] = chunk["usage"]
            for choice in chunk.get("choices") or []:
                delta = (choice or {}).get("delta") or {}
                text = delta.get("content")
                if isinstance(text, str) and text:
                    parts.append(text)
                    _show(ctx, shown.feed(text))
                if choice.get("finish_reason"):
                    result["finish_reason"] = choice["finish_reason"]
    except httpx.TimeoutException:
        raise NodeError(f"The model stopped sending its answer for more than {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        raise NodeError(f"Reading the model's answer failed: {type(exc).__name__}: {exc}") from None
    _show(ctx, shown.flush())
    return {"text": "".join(parts), **result}


def _show(ctx: NodeContext, text: str) -> None:
    if text:
        ctx.emit({"type": "token", "node_id": ctx.node_id, "text": text})
