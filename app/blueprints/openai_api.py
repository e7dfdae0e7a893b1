"""The OpenAI-compatible API under /v1: a flow with an OpenAI trigger is a model.

`GET /v1/models` lists the models (OpenAI triggers) a workspace API key may call,
`POST /v1/chat/completions` runs one and answers as OpenAI would, streaming included. Errors
come in OpenAI's shape (`app.errors` formats every error under /v1/ that way), so the official
SDKs raise their usual exceptions with `code` and `param` set.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, jsonify, request, stream_with_context
from redis.exceptions import RedisError

from app.blueprints.common import invoke_errors
from app.errors import ApiError, request_id
from app.extensions import csrf, db
from app.models import ApiKey, Flow, Run, RunStatus, Scope, Trigger, TriggerStatus
from app.queueing.run_events import follow
from app.services.chat import openai_chat
from app.services.triggers import rate_limit
from app.services.runs import records
from app.services.workspaces.api_keys import find_api_key
from app.services.runs.run_start import Started
from app.services.runs.start_request import NotPublished
from app.services.versions.archived import TRIGGER_MESSAGE, is_archived
from app.services.workspaces.tokens import bearer_token
from app.json_body import BodyError, parse_json_object
from app.trigger_types import OPENAI, started_by

bp = Blueprint("openai", __name__, url_prefix="/v1")
csrf.exempt(bp)


def _api_key() -> ApiKey:
    token = bearer_token(request.headers.get("Authorization"))
    key = find_api_key(token) if token else None
    if key is None:
        raise ApiError(401, "invalid_api_key", "Incorrect or missing API key. Send a Switchboard workspace API key "
                       "as 'Authorization: Bearer sbk_…' (create one on the API keys page).")
    if not key.allows(Scope.TRIGGER):
        raise ApiError(403, "insufficient_scope", "This API key lacks the 'runs:trigger' scope needed to call models.")
    return key


def _models(key: ApiKey, with_archived: bool = False):
    """The models the key may call; archived flows' models are left out of lists (`with_archived` keeps them)."""
    query = db.select(Trigger).join(Flow, Flow.id == Trigger.flow_id).where(
        Trigger.workspace_id == key.workspace_id, Trigger.type.in_(started_by(OPENAI)),
        Trigger.status == TriggerStatus.ACTIVE)
    if key.flow_ids is not None:
        query = query.where(Trigger.flow_id.in_(key.flow_ids))
    return query if with_archived else query.where(Flow.archived_at.is_(None))


def _model(key: ApiKey, name: str) -> Trigger:
    trigger = db.session.execute(_models(key, with_archived=True).where(Trigger.key_lower == name.lower())
                                 ).scalar_one_or_none() if len(name) <= 64 else None
    if trigger is None:
        raise ApiError(404, "model_not_found", f"The model '{name[:100]}' does not exist or this API key may not "
                       "use it. GET /v1/models lists the models you can call.", {"param": "model"})
    if is_archived(trigger.flow):
        raise ApiError(404, "flow_archived", TRIGGER_MESSAGE, {"param": "model"})
    return trigger


def _model_dict(trigger: Trigger) -> dict:
    return {"id": trigger.key, "object": "model", "created": int(trigger.created_at.timestamp()),
            "owned_by": "switchboard"}


@bp.get("/models")
def list_models():
    key = _api_key()
    rows = db.session.execute(_models(key).order_by(Trigger.key_lower)).scalars()
    return jsonify({"object": "list", "data": [_model_dict(t) for t in rows]})


@bp.get("/models/<path:model>")
def get_model(model: str):
    return jsonify(_model_dict(_model(_api_key(), model)))


@bp.post("/chat/completions")
def chat_completions():
    key = _api_key()
    try:
        body = parse_json_object(request.get_data(cache=False))
        chat = openai_chat.parse(body)
    except BodyError as exc:
        raise ApiError(400, "invalid_request_error", exc.message) from None
    except openai_chat.ChatRequestError as exc:
        raise ApiError(exc.status, exc.code, exc.message, {"param": exc.param}) from None
    trigger = _model(key, chat.model)
    accepted = _accept(trigger, chat, body)
    run = accepted.run
    timeout = float(trigger.config.get("timeout_seconds", 120))
    headers = {"X-Switchboard-Run-Id": run.id}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    if chat.stream:
        return Response(stream_with_context(_stream(run.id, chat, timeout)), mimetype="text/event-stream",
                        headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    if not records.wait_until_final(run, timeout):
        raise ApiError(504, "timeout", f"The flow did not answer within {timeout:g} s; its run {run.id} goes on "
                       f"(GET /api/v1/runs/{run.id}).")
    if run.status is not RunStatus.SUCCEEDED:
        raise ApiError(500, "server_error", openai_chat.failure_message(run))
    response = jsonify(openai_chat.completion(run, chat.model, chat.prompt_chars))
    response.headers.update(headers)
    return response


def _accept(trigger: Trigger, chat: openai_chat.ChatRequest, body: dict) -> Started:
    """Start (or, for a repeated Idempotency-Key, find) the run; refusals in OpenAI's words."""
    with invoke_errors():  # the same 409 / 422 / 503 as the REST trigger, OpenAI-shaped under /v1/
        try:
            return openai_chat.accept(trigger, chat, body, headers=request.headers, request_id=request_id())
        except rate_limit.RateLimited as exc:
            raise ApiError(429, "rate_limit_exceeded", f"Rate limit of this model reached; retry in "
                           f"{exc.retry_after} s.", headers={"Retry-After": str(exc.retry_after)}) from None
        except NotPublished:
            raise ApiError(404, "model_not_found", "This model's flow has no published version.",
                           {"param": "model"}) from None
        except openai_chat.ChatRequestError as exc:
            raise ApiError(exc.status, exc.code, exc.message, {"param": exc.param}) from None


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def _stream(run_id: str, chat: openai_chat.ChatRequest, timeout: float):
    """Send what the flow says as it says it: LLM tokens live, and each reply's text.

    A reply that repeats what its LLM node just streamed (the usual `{{ nodes.llm.text }}`) is
    not sent twice; a reply with other text is sent after a blank line. The run in the database
    decides how the stream ends: finish_reason "stop", or an error event naming the run.
    """
    model = chat.model
    run = db.session.get(Run, run_id)  # the streaming body runs in a session of its own
    yield _sse(openai_chat.chunk(run, model, {"role": "assistant", "content": ""}))
    deadline = time.monotonic() + timeout
    pending, sent_any = "", False
    try:
        for event in follow(run.id, timeout):
            kind, text = event.get("type"), event.get("text")
            if kind == "token" and isinstance(text, str) and text:
                pending += text
                sent_any = True
                yield _sse(openai_chat.chunk(run, model, {"content": text}))
            elif kind == "reply" and isinstance(text, str):
                if pending and text.startswith(pending):
                    rest = text[len(pending):]  # the reply repeats the tokens just streamed
                else:
                    rest = ("\n\n" if sent_any else "") + text
                pending = ""
                if rest:
                    sent_any = True
                    yield _sse(openai_chat.chunk(run, model, {"content": rest}))
    except RedisError:
        pass  # the live view is gone; the database still has the answer
    final = records.wait_until_final(run, max(0.0, deadline - time.monotonic()))
    if not final:
        yield _sse({"error": {"message": f"The flow did not answer within {timeout:g} s; its run {run.id} goes on.",
                              "type": "server_error", "param": None, "code": "timeout"}})
        return
    if run.status is not RunStatus.SUCCEEDED:
        yield _sse({"error": {"message": openai_chat.failure_message(run), "type": "server_error", "param": None,
                              "code": "server_error"}})
        return
    if not sent_any and openai_chat.reply_text(run):
        yield _sse(openai_chat.chunk(run, model, {"content": openai_chat.reply_text(run)}))
    yield _sse(openai_chat.chunk(run, model, {}, finish_reason="stop"))
    if chat.include_usage:
        yield _sse(openai_chat.usage_chunk(run, model, chat.prompt_chars))
    yield _sse("[DONE]")
