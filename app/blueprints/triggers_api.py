"""Triggers as managed objects under /api/v1/triggers (the seeds' trigger integration API).

Create, update, pause, resume and delete each publish a new version of the flow (see
`app.services.triggers.trigger_admin`); rotate, invoke and setup do not change the graph.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify, request
from sqlalchemy import and_, or_

from app.auth import api_principal
from app.digits import ascii_whole
from app.blueprints.api_support import json_body
from app.blueprints.common import invoke_errors, publish_errors
from app.blueprints.loaders import load_flow, load_trigger
from app.errors import ApiError, request_id
from app.extensions import csrf, db
from app.models import Scope, Trigger, TriggerStatus
from app.permissions import Permission
from app.query_args import RepeatedParameter, single_values
from app.services import cursors
from app.services.runs import records
from app.services.triggers import trigger_admin
from app.services.versions.presenters import trigger_dict
from app.services.triggers.trigger_accept import accept_invoke
from app.services.triggers.trigger_setup import setup_problems
from app.services.triggers import secret_rotation
from app.trigger_types import DEFAULT_TYPE, no_secret_message
from app.trigger_types import registry as trigger_types

bp = Blueprint("triggers_api", __name__, url_prefix="/api/v1/triggers")
csrf.exempt(bp)  # session callers are CSRF-checked in api_principal()

DEFAULT_TAKE, MAX_TAKE = 20, 100
LIST_PARAMETERS = ("flow_id", "cursor", "take", "order")
CURSOR_SALT = "triggers-cursor"


def _editable(trigger_id: str) -> Trigger:
    trigger = load_trigger(trigger_id, Scope.MANAGE_FLOWS)
    api_principal().require(trigger.workspace_id, Permission.EDIT_FLOWS)
    return trigger


def _changed(result, trigger: Trigger, status: int = 200, secret: str | None = None):
    db.session.commit()
    db.session.refresh(trigger)
    body = {"trigger": trigger_dict(trigger), "version": result.version.number, "published": result.published}
    if secret:
        body["secret"] = secret
        body["secret_note"] = "Shown only now; store it safely."
    return jsonify(body), status


def _config(data: dict) -> dict:
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ApiError(400, "invalid_config", "config must be an object of trigger settings.",
                       [{"field": "config", "reason": "must be an object"}])
    return config


def _name(data: dict) -> str | None:
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        raise ApiError(400, "invalid_name", "name must be a non-empty string of at most 200 characters.",
                       [{"field": "name", "reason": "invalid"}])
    return name


@bp.get("")
def list_triggers():
    """List with cursor pagination (`cursor`, `take`, `order` = desc|asc) and an optional `flow_id`."""
    principal = api_principal(Scope.READ_FLOWS)
    take, order = _list_parameters()
    query = db.select(Trigger).where(Trigger.workspace_id.in_(principal.workspace_ids),
                                     Trigger.status != TriggerStatus.DELETED)
    if principal.flow_ids is not None:
        query = query.where(Trigger.flow_id.in_(principal.flow_ids))
    flow_id = request.args.get("flow_id")
    if flow_id:
        query = query.where(Trigger.flow_id == load_flow(flow_id).id)
    cursor = request.args.get("cursor")
    if cursor:
        created, last_id = _decode_cursor(cursor)
        after = (Trigger.created_at > created) if order == "asc" else (Trigger.created_at < created)
        same = and_(Trigger.created_at == created, (Trigger.id > last_id) if order == "asc" else (Trigger.id < last_id))
        query = query.where(or_(after, same))
    ordering = (Trigger.created_at.asc(), Trigger.id.asc()) if order == "asc" else (Trigger.created_at.desc(),
                                                                                     Trigger.id.desc())
    rows = db.session.execute(query.order_by(*ordering).limit(take + 1)).scalars().all()
    page, more = rows[:take], len(rows) > take
    return jsonify({"triggers": [trigger_dict(t) for t in page],
                    "next_cursor": _encode_cursor(page[-1]) if more else None})


def _list_parameters() -> tuple[int, str]:
    """`take` and `order` of the list, after refusing unknown or repeated parameters with a 400 naming them.

    Why refuse a repeat: `?take=5&take=50` read the first and dropped the other; none of these
    parameters has more than one value, so the caller is told instead of guessed for. Why not
    `type=int`: it turned `take=abc` into the default 20 without a word, and read "١" as 1.
    """
    unknown = sorted(set(request.args) - set(LIST_PARAMETERS))
    if unknown:
        raise ApiError(400, "invalid_filter", f"Unknown parameter '{unknown[0]}'. Parameters: "
                       f"{', '.join(LIST_PARAMETERS)}.", [{"field": name, "reason": "unknown parameter"}
                                                          for name in unknown[:20]])
    try:
        args = single_values(request.args)
    except RepeatedParameter as exc:
        raise ApiError(400, "invalid_filter", exc.message, [{"field": exc.name, "reason": "repeated parameter"}]) from None
    raw_take = (args.get("take") or "").strip() or str(DEFAULT_TAKE)  # empty means the default, as on runs
    take = ascii_whole(raw_take, MAX_TAKE)
    if take is None or take < 1:
        raise ApiError(400, "invalid_take", f"take must be a whole number from 1 to {MAX_TAKE} (digits 0-9; "
                       f"default {DEFAULT_TAKE}), got '{raw_take[:40]}'.",
                       [{"field": "take", "reason": f"not a whole number from 1 to {MAX_TAKE}"}])
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "invalid_order", "order must be 'asc' (oldest first) or 'desc' (newest first).",
                       [{"field": "order", "reason": "not asc or desc"}])
    return take, order


def _encode_cursor(trigger: Trigger) -> str:
    return cursors.encode(CURSOR_SALT, trigger.created_at, trigger.id)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        return cursors.decode(CURSOR_SALT, cursor)
    except cursors.CursorError:
        raise ApiError(400, "invalid_cursor", "cursor is not one this API returned; "
                       "pass next_cursor from the previous page unchanged.",
                       [{"field": "cursor", "reason": "not a cursor this list gave out"}]) from None


@bp.post("")
def create_trigger():
    data = json_body({"flow_id", "type", "name", "config"}, {"flow_id"})
    if not isinstance(data["flow_id"], str):
        raise ApiError(400, "invalid_flow_id", "flow_id must be a string.")
    flow = load_flow(data["flow_id"], Scope.MANAGE_FLOWS)
    principal = api_principal()
    principal.require(flow.workspace_id, Permission.EDIT_FLOWS)
    node_type = data.get("type", DEFAULT_TYPE)
    try:
        with publish_errors():
            result, node_id = trigger_admin.create(flow, node_type, _config(data), _name(data), principal.user)
    except trigger_admin.TriggerChangeError as exc:
        raise ApiError(400, "invalid_trigger", str(exc)) from None
    db.session.flush()
    trigger = db.session.execute(
        db.select(Trigger).where(Trigger.flow_id == flow.id, Trigger.node_id == node_id,
                                 Trigger.status != TriggerStatus.DELETED)).scalar_one()
    return _changed(result, trigger, 201, result.secrets.get(node_id))


@bp.get("/<trigger_id>")
def get_trigger(trigger_id: str):
    return jsonify(trigger_dict(load_trigger(trigger_id, Scope.READ_FLOWS)))


@bp.patch("/<trigger_id>")
def update_trigger(trigger_id: str):
    trigger = _editable(trigger_id)
    data = json_body({"name", "config"})
    try:
        with publish_errors():
            result = trigger_admin.update(trigger, _config(data), _name(data), api_principal().user)
    except trigger_admin.TriggerChangeError as exc:
        raise ApiError(409, "trigger_changed", str(exc)) from None
    return _changed(result, trigger)


@bp.post("/<trigger_id>/pause")
@bp.post("/<trigger_id>/resume")
def pause_or_resume(trigger_id: str):
    trigger = _editable(trigger_id)
    json_body(set())
    enabled = request.path.endswith("/resume")
    try:
        with publish_errors():
            result = trigger_admin.set_enabled(trigger, enabled, api_principal().user)
    except trigger_admin.TriggerChangeError as exc:
        raise ApiError(400, "cannot_pause", str(exc)) from None
    return _changed(result, trigger)


@bp.delete("/<trigger_id>")
def delete_trigger(trigger_id: str):
    trigger = _editable(trigger_id)
    try:
        with publish_errors():
            result = trigger_admin.delete(trigger, api_principal().user)
    except trigger_admin.TriggerChangeError as exc:
        raise ApiError(409, "trigger_changed", str(exc)) from None
    db.session.commit()
    return jsonify({"id": trigger.id, "deleted": True, "version": result.version.number})


def rotated(trigger: Trigger, signing: bool = False):
    """Give a REST trigger a new secret (or signing secret), commit, and show it this once.

    Shared with the flow-scoped route in `app.blueprints.api`, so both doors answer alike.
    """
    if not trigger_types.of(trigger).has_secret:
        raise ApiError(400, "no_secret", no_secret_message())
    secret = (secret_rotation.rotate_signing_secret if signing else secret_rotation.rotate_secret)(trigger)
    db.session.commit()
    if signing:
        return jsonify({"trigger": trigger_dict(trigger), "signing_secret": secret,
                        "secret_note": "Shown only now. A previous signing secret stays valid for 24 hours."})
    return jsonify({"trigger": trigger_dict(trigger), "secret": secret,
                    "secret_note": "Shown only now; the previous secret no longer works."})


@bp.post("/<trigger_id>/rotate-secret")
@bp.post("/<trigger_id>/signing-secret")
def rotate_secret(trigger_id: str):
    """New secret, or (signing-secret) a new Standard Webhooks signing secret; each shown once."""
    trigger = _editable(trigger_id)
    json_body(set())
    return rotated(trigger, signing=request.path.endswith("/signing-secret"))


@bp.post("/<trigger_id>/invoke")
def invoke_trigger(trigger_id: str):
    """Queue a run now, for testing: the body's `body` is processed as a request to the trigger's URL."""
    trigger = load_trigger(trigger_id, Scope.TRIGGER)
    api_principal().require(trigger.workspace_id, Permission.RUN_FLOWS)
    if trigger.status is TriggerStatus.PAUSED:
        raise ApiError(409, "trigger_paused", "The trigger is paused; resume it first.")
    data = json_body({"body"})
    adapter = trigger_types.of(trigger)
    body = data.get("body", {})
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "body must be an object, as a request to the trigger would send.",
                       [{"field": "body", "reason": "must be an object"}])
    body = adapter.invoke_body(trigger, body)
    with invoke_errors():
        accepted = accept_invoke(trigger, body, idempotency_header=request.headers.get("Idempotency-Key"),
                                 request_id=request_id())
    run = accepted.run
    answer = {"id": trigger.id, "run_id": run.id, "status": run.status.value, "status_url": records.status_url(run),
              "request_id": request_id()}
    if accepted.session_key:
        answer["session_id"] = accepted.session_key
    return jsonify(answer), 202


@bp.post("/<trigger_id>/setup")
def setup_trigger(trigger_id: str):
    """Check the trigger and its flow; safe to call any time, changes nothing."""
    trigger = load_trigger(trigger_id, Scope.READ_FLOWS)
    json_body(set())
    problems = setup_problems(trigger)
    return jsonify({"id": trigger.id, "ready": not any(p["severity"] == "error" for p in problems),
                    "problems": problems})
