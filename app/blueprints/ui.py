"""The pages people use: flows, a flow with its versions, triggers and runs, and a run's steps.

Views stay thin; htmx requests get the partial alone (a run's status fragment polls itself
until the run ends, then stops).
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

import flows as engine  # the flow engine; `flows` here is the page that lists flows
from app.blueprints.loaders import load_flow, load_flow_trigger, load_version, principal
from app.blueprints.ui_base import bp, can_edit, current_workspace
from app.errors import request_id
from app.extensions import db
from app.models import Flow, Run, Trigger, Workspace
from app.permissions import Permission
from app.services.versions import publishing
from app.services.runs import records
from app.services.scheduling import schedule_info
from app.services.scheduling import schedules
from app.services.versions.canvas_data import canvas_data
from app.services.versions.presenters import live_triggers, trigger_url
from app.services.runs.run_start import run_now as start_run_now
from app.services.runs.start_request import NotPublished, published_version
from app.json_body import BodyError, parse_json_value
from app.services.triggers import secret_rotation
from app.services.versions.archived import RUN_MESSAGE, SAVE_MESSAGE, FlowArchived
from app.services.versions.version_diff import diff_versions
from app.trigger_types import MANUAL, no_secret_message
from app.trigger_types import registry as trigger_types
from flows import schedule as fire_times

@bp.get("/")
def index():
    return redirect(url_for("ui.flows"))


@bp.post("/workspace")
def switch_workspace():
    workspace_id = request.form.get("workspace_id", "")
    if not principal().can(workspace_id, Permission.VIEW):
        abort(404, "No such workspace among yours.")
    session["workspace_id"] = workspace_id
    return redirect(url_for("ui.flows"))


@bp.post("/workspace/timezone")
def workspace_timezone():
    """Set the current workspace's time zone (the default of its schedules)."""
    workspace_id = current_workspace(Permission.MANAGE_WORKSPACE)
    name = (request.form.get("timezone") or "").strip()
    try:
        fire_times.zone(name)
    except fire_times.ScheduleError as exc:
        flash(str(exc), "error")
        return redirect(url_for("ui.flows"))
    db.session.get(Workspace, workspace_id).timezone = name
    schedules.resync_workspace(workspace_id)
    db.session.commit()
    flash(f"Time zone set to {name}; schedules without their own time zone follow it.", "info")
    return redirect(url_for("ui.flows"))


@bp.post("/flows/new")
def new_flow():
    """Create an empty flow in the current workspace and open its canvas."""
    workspace_id = current_workspace(Permission.EDIT_FLOWS)
    name = (request.form.get("name") or "").strip()
    if not name or len(name) > 200:
        flash("Give the flow a name (at most 200 characters).", "error")
        return redirect(url_for("ui.flows"))
    flow = publishing.create_empty_flow(db.session.get(Workspace, workspace_id), name)
    db.session.commit()
    return redirect(url_for("ui.flow_detail", flow_id=flow.id))


@bp.get("/flows/<flow_id>")
def flow_detail(flow_id: str):
    """The canvas of the flow's latest version, with its triggers, runs and versions below."""
    flow = load_flow(flow_id)
    version = publishing.latest_version(flow)
    editable = can_edit(flow)
    return render_template(
        "flows/detail.html", flow=flow, version=version, triggers=live_triggers(flow), trigger_url=trigger_url,
        trigger_adapter=trigger_types.of,
        schedule_info=schedule_info.describe,
        recent_runs=_recent_runs(flow), inputs=_start_inputs(version),
        can_edit=editable, new_secrets=session.pop("new_secrets", {}),
        # An archived flow's graph is frozen until it is restored: its canvas opens read-only.
        canvas=canvas_data(flow, version, readonly=flow.archived_at is not None, can_edit=editable,
                           can_run=principal().can(flow.workspace_id, Permission.RUN_FLOWS)),
    )


@bp.get("/flows/<flow_id>/triggers")
def triggers_section(flow_id: str):
    """The triggers list alone, reloaded by htmx after the canvas publishes a new version."""
    flow = load_flow(flow_id)
    return render_template("partials/_triggers.html", flow=flow, triggers=live_triggers(flow), trigger_url=trigger_url,
                           trigger_adapter=trigger_types.of,
                           schedule_info=schedule_info.describe,
                           inputs=_start_inputs(publishing.latest_version(flow)), can_edit=can_edit(flow),
                           new_secrets={})


def _start_inputs(version) -> list[dict]:
    """The start node's declared inputs, which the Run-now forms are built from."""
    start = engine.Graph(version.document).start_node() if version else None
    return ((start or {}).get("config") or {}).get("inputs", [])


def _recent_runs(flow: Flow, limit: int = 25) -> list[Run]:
    return db.session.execute(
        db.select(Run).where(Run.flow_id == flow.id).order_by(Run.created_at.desc()).limit(limit)
    ).scalars().all()


@bp.get("/flows/<flow_id>/versions/<int:number>")
def version_detail(flow_id: str, number: int):
    flow = load_flow(flow_id)
    version = load_version(flow, number)
    editable = can_edit(flow)
    return render_template("flows/version.html", flow=flow, version=version, can_edit=editable,
                           document_json=json.dumps(version.document, indent=2, ensure_ascii=False),
                           canvas=canvas_data(flow, version, readonly=True, can_edit=editable,
                                              can_run=principal().can(flow.workspace_id, Permission.RUN_FLOWS)))


@bp.get("/flows/<flow_id>/versions")
def versions_panel(flow_id: str):
    """The version history (who, when, what changed), as a fragment for the canvas side panel."""
    flow = load_flow(flow_id)
    return render_template("partials/_versions.html", flow=flow, can_edit=can_edit(flow),
                           history=_history(flow))


def _history(flow: Flow) -> list[tuple]:
    versions = list(flow.versions)
    previous = [None] + [v.document for v in versions[:-1]]
    return [(v, diff_versions(before, v.document).describe()) for v, before in zip(versions, previous)][::-1]


@bp.get("/flows/<flow_id>/triggers/<node_id>/panel")
def trigger_panel(flow_id: str, node_id: str):
    """A trigger's URL, copy button and ready-to-paste calls, as a fragment for the side panel."""
    flow = load_flow(flow_id)
    return _render_trigger_panel(flow, load_flow_trigger(flow, node_id), secret=None)


def _render_trigger_panel(flow: Flow, trigger: Trigger, secret: str | None = None,
                          signing_secret: str | None = None):
    adapter = trigger_types.of(trigger)
    version = publishing.latest_version(flow)
    snippets = adapter.examples(trigger, version.document if version else None, secret=secret)
    return render_template("partials/_trigger_panel.html", flow=flow, trigger=trigger, adapter=adapter,
                           url=adapter.url(trigger), secret=secret, signing_secret=signing_secret,
                           snippets=snippets, can_edit=can_edit(flow))


@bp.post("/flows/<flow_id>/versions/<int:number>/rollback")
def rollback(flow_id: str, number: int):
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    load_version(flow, number)  # a 404 for a number no version has, as on the API, before any query uses it
    try:
        result = publishing.rollback(flow, number, current_user)
    except LookupError:
        abort(404, f"This flow has no version {number}.")
    except publishing.InvalidFlow as exc:  # e.g. a credential it uses was deleted since
        reasons = "; ".join(p["message"] for p in exc.problems if p.get("severity") != "warning")
        flash(f"Rollback refused: version {number} cannot run now. {reasons}", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    except publishing.VersionConflict as exc:
        flash(f"Rollback refused: {exc}", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    except FlowArchived:
        flash(f"Rollback refused: {SAVE_MESSAGE}", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    if not result.published:
        flash(result.message)
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    db.session.commit()
    session["new_secrets"] = result.secrets
    flash(f"Version {number} was republished as version {result.version.number}.")
    return redirect(url_for("ui.flow_detail", flow_id=flow.id))


def _rest_trigger_to_change(flow_id: str, node_id: str) -> tuple[Flow, Trigger]:
    """Load a REST trigger whose secrets the user may change (404 / 403 / 400 otherwise)."""
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    trigger = load_flow_trigger(flow, node_id)
    if not trigger_types.of(trigger).has_secret:
        abort(400, no_secret_message())
    return flow, trigger


@bp.post("/flows/<flow_id>/triggers/<node_id>/rotate")
def rotate_secret(flow_id: str, node_id: str):
    flow, trigger = _rest_trigger_to_change(flow_id, node_id)
    secret = secret_rotation.rotate_secret(trigger)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return _render_trigger_panel(flow, trigger, secret=secret)
    session["new_secrets"] = {trigger.node_id: secret}
    flash("A new secret was made; the old one no longer works. Copy it now: it is shown only once.")
    return redirect(url_for("ui.flow_detail", flow_id=flow.id))


@bp.post("/flows/<flow_id>/triggers/<node_id>/signing-secret")
def rotate_signing_secret(flow_id: str, node_id: str):
    """Make (or rotate) the Standard Webhooks signing secret; the panel shows it once."""
    flow, trigger = _rest_trigger_to_change(flow_id, node_id)
    secret = secret_rotation.rotate_signing_secret(trigger)
    db.session.commit()
    return _render_trigger_panel(flow, trigger, signing_secret=secret)


@bp.post("/flows/<flow_id>/triggers/<node_id>/run")
def run_now(flow_id: str, node_id: str):
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.RUN_FLOWS)
    trigger = load_flow_trigger(flow, node_id)
    if trigger_types.of(trigger).entry_point != MANUAL:  # the others have their own door, filter and limits
        flash("Not run: only a Run-now trigger can be started from this page; this trigger starts the flow "
              "when its URL is called or its schedule fires.", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    try:
        body = _form_inputs(published_version(flow).start_config.get("inputs", []))
        run = start_run_now(flow, trigger, body, request_id()).run
    except NotPublished:
        flash("Not run: the flow has no published version; save it first.", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    except FlowArchived:
        flash(f"Not run: {RUN_MESSAGE}", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    except BodyError as exc:
        flash(f"Not run: {exc.message}", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    except records.QueueUnavailable:
        flash("Not run: the run queue is unavailable. Try again in a few seconds.", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    return redirect(url_for("ui.run_detail", run_id=run.id))


# What a typed Run-now field must hold, in the words the form's hints use.
_TYPED_WORDS = {"number": "a number", "integer": "a whole number",
                "object": 'a set of named values written as JSON, like {"name": "value"}',
                "array": 'a list written as JSON, like ["one", "two"]'}


def _holds(kind: str, value: object) -> bool:
    """True when a parsed Run-now field is of its declared kind (checked here to say so in words)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, {"number": (int, float), "integer": int, "object": dict, "array": list}[kind])


def _form_inputs(declared: list[dict]) -> dict:
    """Read the Run-now form: blank fields are left out (defaults apply); typed fields are parsed."""
    body = {}
    for item in declared:
        name = item.get("name")
        raw = request.form.get(f"input-{name}", "")
        if item.get("type") == "boolean":
            if f"input-{name}" in request.form:
                body[name] = raw in ("on", "true", "1")
            continue
        if raw == "":
            continue
        body[name] = _typed_value(name, item["type"], raw) if item.get("type") in _TYPED_WORDS else raw
    return body


def _typed_value(name: str, kind: str, raw: str) -> object:
    """Parse a typed field under the API's JSON rules (no NaN, bounded numbers and nesting); BodyError in words."""
    try:
        value = parse_json_value(raw)
    except BodyError:
        value = None
    if not _holds(kind, value):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise BodyError("invalid_inputs", f"{name}: '{shown}' is not {_TYPED_WORDS[kind]}.")
    return value

