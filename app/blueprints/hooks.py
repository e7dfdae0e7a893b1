"""The REST trigger endpoint: `POST /hooks/<workspace id>/<trigger key>`.

Thin by design: find the trigger (404 when missing, paused or deleted), authenticate, turn the
body into inputs, commit a run, enqueue it, then answer at once (202) or wait for the flow's
answer (200, or 408 when the wait time runs out while the run goes on).
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from app.blueprints.common import invoke_errors
from app.errors import ApiError, request_id
from app.extensions import csrf, db
from app.models import Flow, RunStatus, Trigger, TriggerStatus
from app.services import runs
from app.services.api_keys import find_api_key
from app.services.invoke import invoke as invoke_flow
from app.services.replay import safe_headers
from app.services.tokens import bearer_token, matches
from app.services.trigger_body import parse_json_object

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)


def _find_trigger(workspace_id: str, key: str) -> Trigger:
    trigger = db.session.execute(
        db.select(Trigger).where(Trigger.workspace_id == workspace_id, Trigger.key_lower == key.lower())
    ).scalar_one_or_none() if len(key) <= 64 and len(workspace_id) <= 32 else None
    if trigger is None or trigger.type != "api_trigger":
        raise ApiError(404, "trigger_not_found", "No trigger with this key exists in this workspace.")
    if trigger.status is TriggerStatus.PAUSED:
        raise ApiError(404, "trigger_paused", "This trigger is paused; enable it in the flow and save.")
    if trigger.status is not TriggerStatus.ACTIVE:
        raise ApiError(404, "trigger_not_found", "This trigger has been deleted.")
    return trigger


def _authenticate(trigger: Trigger) -> None:
    if not trigger.config.get("authenticate", True):
        return
    token = bearer_token(request.headers.get("Authorization"))
    if token and matches(token, trigger.secret_hash):
        return
    if token:
        key = find_api_key(token)
        if key is not None and key.workspace_id == trigger.workspace_id:
            return
    raise ApiError(401, "unauthorized",
                   "Send 'Authorization: Bearer <secret>' with this trigger's secret or a workspace API key.",
                   headers={"WWW-Authenticate": "Bearer"})


@bp.post("/<workspace_id>/<key>")
def invoke(workspace_id: str, key: str):
    trigger = _find_trigger(workspace_id, key)
    _authenticate(trigger)
    flow = db.session.get(Flow, trigger.flow_id)
    with invoke_errors():
        body = parse_json_object(request.get_data(cache=False))
        run = invoke_flow(flow, trigger, body, request_id(), source="api",
                          meta={"headers": safe_headers(request.headers), "body": body})

    config = trigger.config
    if not config.get("wait_for_response", True):
        return _answer(run, 202, headers={"Location": runs.status_url(run)})
    if runs.wait_until_final(run, float(config.get("timeout_seconds", 30))):
        return _answer(run, 200)
    return _answer(run, 408, message="The flow did not answer within the trigger's wait time; the run goes on. "
                                     "Poll status_url for its result.")


def _answer(run, status: int, headers: dict | None = None, message: str | None = None):
    body = {"run_id": run.id, "status": run.status.value, "request_id": request_id()}
    if status == 200:
        body["output"] = run.output
        if run.status is not RunStatus.SUCCEEDED:
            body["error"] = {"node_id": run.error_node_id, "message": run.error}
    else:
        body["status_url"] = runs.status_url(run)
    if message:
        body["message"] = message
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response

