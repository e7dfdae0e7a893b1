"""The JSON management API under /api/v1 (API key or logged-in session).

Every view: authenticate, load the object within the caller's workspaces (404 otherwise), check
the role, allow-list the body's fields, call one service, commit, answer.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

import flows
from app.auth import api_principal
from app.blueprints.api_support import json_body as _body
from app.blueprints.loaders import load_flow, load_flow_trigger, load_run, load_version
from app.blueprints.common import invoke_errors, publish_errors
from app.blueprints.triggers_api import rotated
from app.errors import ApiError, request_id
from app.extensions import csrf, db
from app.models import Flow, Scope, Workspace
from app.services.manage import flow_list, flow_settings
from app.services.versions import publishing
from app.services.runs import run_query
from app.services.runs import records
from app.services.runs.run_start import run_now
from app.services.triggers.trigger_request import idempotency_header
from app.services.runs.replay import replay, trigger_request
from app.services.versions.presenters import flow_dict, version_dict
from app.json_body import parse_json_object
from app.models.types import iso
from app.permissions import Permission
from app.trigger_types import MANUAL
from app.trigger_types import registry as trigger_types

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # API-key calls need no CSRF token; session calls are checked in api_principal()


def _published(result: publishing.PublishResult, status: int):
    body = flow_dict(result.flow, result.version)
    body["published"] = result.published
    body["warnings"] = result.warnings  # suspicious but runnable: the canvas shows them, nothing was refused
    if result.message:
        body["message"] = result.message
    if result.secrets:
        body["secrets"] = result.secrets
        body["secrets_note"] = "Trigger secrets are shown only now; store them safely."
    return jsonify(body), status


def _accepted(run, replayed: bool = False):
    body = {"run_id": run.id, "status": run.status.value, "status_url": records.status_url(run),
            "request_id": request_id()}
    if not replayed:
        return jsonify(body), 202
    body.update(replayed=True, original_request_id=run.request_id)  # as a trigger's URL answers a retry
    return jsonify(body), 202, {"Idempotent-Replayed": "true"}


def _run_now(flow, trigger):
    """Run now with the request's JSON inputs; a retry with the same Idempotency-Key gets the first run."""
    with invoke_errors():
        key = idempotency_header(request.headers.get("Idempotency-Key"))
        body = parse_json_object(request.get_data(cache=True))
        started = run_now(flow, trigger, body, request_id(), idempotency_key=key)
    return _accepted(started.run, started.replayed)


@bp.get("/node-types")
def node_types():
    api_principal()
    return jsonify({"node_types": trigger_types.palette(flows.registry.palette())})


@bp.post("/flows/validate")
def validate_flow():
    """Check a document without saving it: the canvas shows these problems (errors, then warnings) as the user draws.

    Credentials are checked in the flow's workspace (`flow_id`), else `workspace_id`, else the caller's default.
    """
    principal = api_principal()
    data = _body({"document", "flow_id", "workspace_id"}, {"document"})
    if data.get("flow_id") is not None:
        workspace_id = load_flow(_text(data, "flow_id")).workspace_id
    else:
        workspace_id = data.get("workspace_id") or principal.default_workspace_id
        if not isinstance(workspace_id, str) or principal.role(workspace_id) is None:
            raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    principal.require(workspace_id, Permission.VIEW)
    errors, warnings = publishing.check_document(workspace_id, data["document"])
    return jsonify({"problems": errors + warnings})


def _text(data: dict, name: str) -> str:
    if not isinstance(data[name], str):
        raise ApiError(400, f"invalid_{name}", f"{name} must be text.", [{"field": name, "reason": "not text"}])
    return data[name]


@bp.get("/flows")
def list_flows():
    """The flows, newest change first: `q` searches names and descriptions, `archived=true` lists archived ones."""
    principal = api_principal(Scope.READ_FLOWS)
    archived = request.args.get("archived", "false").lower()
    if archived not in ("true", "false", "1", "0"):
        raise ApiError(400, "invalid_filter", "archived must be true or false.",
                       [{"field": "archived", "reason": "not true or false"}])
    q = request.args.get("q", "")
    if len(q) > flow_list.MAX_QUERY:
        raise ApiError(400, "invalid_filter", f"q may be at most {flow_list.MAX_QUERY} characters.",
                       [{"field": "q", "reason": "too long"}])
    rows = flow_list.search_flows(principal.workspace_ids, q, archived in ("true", "1"), principal.flow_ids)
    return jsonify({"flows": [{"id": f.id, "workspace_id": f.workspace_id, "name": f.name, "description": f.description,
                               "version": f.latest_version, "archived_at": iso(f.archived_at)} for f in rows]})


@bp.post("/flows")
def create_flow():
    principal = api_principal(Scope.MANAGE_FLOWS)
    if principal.flow_ids is not None:
        raise ApiError(403, "forbidden", "This API key is limited to some flows, so it cannot create flows.")
    data = _body({"document", "name", "workspace_id"}, {"document"})
    workspace_id = data.get("workspace_id") or principal.default_workspace_id
    if not isinstance(workspace_id, str) or principal.role(workspace_id) is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    principal.require(workspace_id, Permission.EDIT_FLOWS)
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ApiError(400, "invalid_name", "name must be a non-empty string.", [{"field": "name", "reason": "invalid"}])
    with publish_errors():
        result = publishing.create_flow(db.session.get(Workspace, workspace_id), data["document"], principal.user, name)
    db.session.commit()
    return _published(result, 201)


@bp.get("/flows/<flow_id>")
def get_flow(flow_id: str):
    flow = load_flow(flow_id)
    return jsonify(flow_dict(flow, publishing.latest_version(flow)))


@bp.put("/flows/<flow_id>")
def save_flow(flow_id: str):
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    principal = api_principal()
    principal.require(flow.workspace_id, Permission.EDIT_FLOWS)
    data = _body({"document", "base_version"}, {"document"})
    base = data.get("base_version")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise ApiError(400, "invalid_base_version", "base_version must be an integer version number.")
    with publish_errors():
        result = publishing.save_flow(flow, data["document"], principal.user, base)
    db.session.commit()
    return _published(result, 200)


@bp.patch("/flows/<flow_id>")
def update_flow_settings(flow_id: str):
    """Change a flow's name, description or run time limit (not its graph: that is a save)."""
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    api_principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    data = _body({"name", "description", "run_timeout_seconds"})
    try:
        flow_settings.apply_flow_settings(flow, data)
    except flow_settings.SettingsError as exc:
        raise ApiError(400, f"invalid_{exc.field}", exc.message, [{"field": exc.field, "reason": exc.message}]) from None
    db.session.commit()
    return jsonify(flow_dict(flow, publishing.latest_version(flow)))


@bp.get("/flows/<flow_id>/versions")
def list_versions(flow_id: str):
    flow = load_flow(flow_id)
    return jsonify({"versions": [version_dict(v) for v in reversed(flow.versions)]})


@bp.get("/flows/<flow_id>/versions/<int:number>")
def get_version(flow_id: str, number: int):
    return jsonify(version_dict(load_version(load_flow(flow_id), number), with_document=True))


@bp.post("/flows/<flow_id>/rollback")
def rollback(flow_id: str):
    """Republish version K as a new version: 201 with the new version, or 200 when there was nothing to publish.

    Rolling back to a version the same as the live one publishes nothing. That is not a refusal
    (the caller wanted version K's flow live, and it is), so it is a success, but not a 201: no
    version was created. It answers as a save that changes nothing does (PUT, 200): the live
    version, `published: false`, and a `message` saying so in words.
    """
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    principal = api_principal()
    principal.require(flow.workspace_id, Permission.EDIT_FLOWS)
    number = _body({"version"}, {"version"})["version"]
    if not isinstance(number, int) or isinstance(number, bool):
        raise ApiError(400, "invalid_version", "version must be an integer.", [{"field": "version", "reason": "not an integer"}])
    load_version(flow, number)
    with publish_errors():
        result = publishing.rollback(flow, number, principal.user)
    db.session.commit()
    return _published(result, 201 if result.published else 200)


@bp.post("/flows/<flow_id>/triggers/<node_id>/rotate-secret")
def rotate_secret(flow_id: str, node_id: str):
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    api_principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    _body(set())
    return rotated(load_flow_trigger(flow, node_id))


@bp.post("/flows/<flow_id>/triggers/<node_id>/run")
def run_trigger(flow_id: str, node_id: str):
    """Run now: start the latest version from a manual trigger node with the given inputs."""
    flow = load_flow(flow_id, Scope.TRIGGER)
    api_principal().require(flow.workspace_id, Permission.RUN_FLOWS)
    trigger = load_flow_trigger(flow, node_id)
    if trigger_types.of(trigger).entry_point != MANUAL:
        raise ApiError(400, "not_manual", "Only manual trigger nodes can be run from here; call a REST trigger's URL instead.")
    return _run_now(flow, trigger)


@bp.post("/flows/<flow_id>/run")
def run_flow(flow_id: str):
    """Run now from the canvas: start the latest version at its start node with the given inputs."""
    flow = load_flow(flow_id, Scope.TRIGGER)
    api_principal().require(flow.workspace_id, Permission.RUN_FLOWS)
    return _run_now(flow, None)


def _run_page(workspace_ids: list[str], flow: Flow | None = None):
    """Answer a runs query: filters and paging as in the runs page, 400 naming a bad parameter."""
    args = request.args.copy()  # repeated names reach run_query.parse, which says what they mean
    if flow is not None:
        if any(value not in ("", flow.id) for value in args.getlist("flow")):
            raise ApiError(400, "invalid_filter", "flow must be left out here: this list is already one flow's.",
                           [{"field": "flow", "reason": "conflicts with the URL"}])
        args["flow"] = flow.id
    try:
        query = run_query.parse(args)
        page = run_query.find(query, workspace_ids, api_principal().flow_ids)
    except run_query.FilterError as exc:
        raise ApiError(400, "invalid_filter", exc.message, [{"field": exc.field, "reason": exc.message}]) from None
    return jsonify({"runs": [records.run_summary(r) for r in page.runs], "next_cursor": page.next_cursor,
                    "has_more": page.next_cursor is not None})


@bp.get("/runs")
def list_all_runs():
    """Runs across the caller's workspaces, filtered (status, trigger, version, session, out_id...)."""
    return _run_page(api_principal(Scope.READ_RUNS).workspace_ids)


@bp.get("/flows/<flow_id>/runs")
def list_runs(flow_id: str):
    flow = load_flow(flow_id, Scope.READ_RUNS)
    return _run_page([flow.workspace_id], flow)


@bp.get("/runs/<run_id>")
def get_run(run_id: str):
    run = load_run(run_id)
    data = records.run_detail(run)
    data["trigger_request"] = trigger_request(run)
    return jsonify(data)


@bp.post("/runs/<run_id>/cancel")
def cancel_run(run_id: str):
    """Cancel a run: at once if it is still queued, else before its next step."""
    run = load_run(run_id, Scope.TRIGGER)
    api_principal().require(run.workspace_id, Permission.RUN_FLOWS)
    _body(set())
    if not records.request_cancel(run):
        raise ApiError(409, "run_finished", f"The run already ended as {run.status.value}; nothing to cancel.")
    db.session.refresh(run)
    return jsonify(records.run_summary(run)), 202


@bp.post("/runs/<run_id>/replay")
def replay_run(run_id: str):
    """Start a new run with this run's inputs on the flow's current version (400 if they no longer fit)."""
    run = load_run(run_id, Scope.TRIGGER)
    api_principal().require(run.workspace_id, Permission.RUN_FLOWS)
    _body(set())
    with invoke_errors():
        new_run = replay(run, request_id())
    return _accepted(new_run)
