"""The REST trigger endpoint: `POST /hooks/<workspace id>/<trigger key>`.

Thin by design: find the trigger (404 when missing, paused, deleted or its flow archived), authenticate (secret,
API key with the `runs:trigger` scope, and/or a Standard Webhooks signature), hand the body to
`trigger_accept.accept_hook` (rate limit, parsing, the one start path), then answer at once (202)
or wait for the flow's answer (200, or 408 when the wait time runs out while the run goes on). Every answer carries
the request id and, when there is one, the conversation's session id.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from app.blueprints.common import invoke_errors
from app.errors import ApiError, request_id
from app.extensions import csrf
from app.models import Flow, RunStatus, Scope, Trigger, TriggerStatus
from app.services.runs import records
from app.services.triggers import lookup_cache
from app.services.workspaces.api_keys import find_trigger_caller_key
from app.services.runs.run_start import Started
from app.services.workspaces.tokens import bearer_token, matches
from app.services.triggers.trigger_accept import accept_hook
from app.services.triggers.webhook_signing import SignatureError, verify
from app.services.versions.archived import TRIGGER_MESSAGE, is_archived
from app.trigger_types import HOOK
from app.trigger_types import registry as trigger_types

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)


def _find_trigger(lookups: lookup_cache.Lookups, workspace_id: str, key: str) -> tuple[Trigger, Flow]:
    """Return (copies of) the trigger and its flow, from the process's lookup cache or one query."""
    found = lookup_cache.trigger_and_flow(lookups, workspace_id, key.lower()) \
        if len(key) <= 64 and len(workspace_id) <= 32 else None
    trigger, flow = found if found is not None else (None, None)
    if trigger is None or trigger_types.of(trigger).entry_point != HOOK:
        raise ApiError(404, "trigger_not_found", "No trigger with this key exists in this workspace.")
    if is_archived(flow) and trigger.status is not TriggerStatus.DELETED:
        raise ApiError(404, "flow_archived", TRIGGER_MESSAGE)
    if trigger.status is TriggerStatus.PAUSED:
        raise ApiError(404, "trigger_paused", "This trigger is paused; resume it (or enable it in the flow and save).")
    if trigger.status is not TriggerStatus.ACTIVE:
        raise ApiError(404, "trigger_not_found", "This trigger has been deleted.")
    return trigger, flow


def _authenticate(lookups: lookup_cache.Lookups, trigger: Trigger, raw_body: bytes) -> str | None:
    """Check the caller; return the Standard Webhooks message id when the request was signed."""
    config = trigger.config
    message_id = None
    if config.get("verify_signature"):
        try:
            message_id = verify(trigger, request.headers, raw_body, int(config.get("signature_tolerance_seconds", 300)))
        except SignatureError as exc:
            raise ApiError(401, "invalid_signature", str(exc)) from None
    if config.get("authenticate", True):
        _check_bearer(lookups, trigger)
    return message_id


def _check_bearer(lookups: lookup_cache.Lookups, trigger: Trigger) -> None:
    # Chathive's callers send their API key as `x-api-key`; accept it so they work unchanged.
    token = bearer_token(request.headers.get("Authorization")) or request.headers.get("X-Api-Key", "").strip() or None
    if token and matches(token, trigger.secret_hash):
        return
    key = find_trigger_caller_key(token, lookups) if token else None
    if key is not None and key.workspace_id == trigger.workspace_id:
        if not key.allows(Scope.TRIGGER):
            raise ApiError(403, "insufficient_scope", "This API key lacks the 'runs:trigger' scope needed to call "
                           "triggers.", {"required_scope": Scope.TRIGGER.value})
        if not key.allows_flow(trigger.flow_id):
            raise ApiError(403, "forbidden", "This API key is not allowed to use this trigger's flow.")
        return
    raise ApiError(401, "unauthorized",
                   "Send 'Authorization: Bearer <secret>' with this trigger's secret or a workspace API key.",
                   headers={"WWW-Authenticate": "Bearer"})


@bp.post("/<workspace_id>/<key>")
def invoke(workspace_id: str, key: str):
    lookups = lookup_cache.Lookups()
    trigger, flow = _find_trigger(lookups, workspace_id, key)
    raw_body = request.get_data(cache=False)
    message_id = _authenticate(lookups, trigger, raw_body)
    with invoke_errors():
        started = accept_hook(flow, trigger, raw_body, headers=request.headers, message_id=message_id,
                              request_id=request_id())
    return respond(started, trigger.config)


def respond(accepted: Started, config: dict):
    """Answer 202 at once, or wait for the run: 200 with the answer, 408 when the wait runs out."""
    run = accepted.run
    if not config.get("wait_for_response", True):
        return _answer(accepted, 202, headers={"Location": records.status_url(run)})
    if records.wait_until_final(run, float(config.get("timeout_seconds", 30))):
        return _answer(accepted, 200)
    return _answer(accepted, 408, message="The flow did not answer within the trigger's wait time; the run goes on. "
                                          "Poll status_url for its result.")


def _answer(accepted: Started, status: int, headers: dict | None = None, message: str | None = None):
    run = accepted.run
    body = {"run_id": run.id, "status": run.status.value, "request_id": request_id()}
    if accepted.session_key:
        body["session_id"] = accepted.session_key
    if status == 200:
        body["output"] = run.output
        if run.status is not RunStatus.SUCCEEDED:
            body["error"] = {"node_id": run.error_node_id, "message": run.error}
    else:
        body["status_url"] = records.status_url(run)
    if accepted.replayed:
        body["replayed"] = True
        body["original_request_id"] = run.request_id
    if message:
        body["message"] = message
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
