"""The pages about what happened: runs (filtered, live), a run's timeline, conversations, overview.

Views stay thin (load within the user's workspaces, call a service, render); htmx requests get
the partial alone, and a fragment polls itself only while something on it can still change.
Routes are registered on the `ui` blueprint so every page keeps one endpoint namespace.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

import flows
from app.services.versions.archived import RUN_MESSAGE, FlowArchived
from app import trigger_types as trigger_adapters
from app.blueprints.loaders import load_flow, load_run, principal
from app.digits import MAX_INTEGER, ascii_whole
from app.blueprints.ui_base import bp
from app.permissions import Permission
from app.errors import request_id
from app.extensions import db
from app.models import Flow, Run, Trigger
from app.services.runs import charts
from app.services.chat import conversations
from app.services.runs import run_query
from app.services.runs import run_stats
from app.services.runs import records
from app.services.runs.start_request import NotPublished
from app.services.runs.replay import replay, trigger_request
from app.services.runs.run_view import port_words, result_words, setting_words, step_names, timeline
from app.services.versions.presenters import trigger_name
from app.json_body import BodyError
from app.trigger_types import TEST

LIVE_POLL = "every 2s"


@bp.app_template_global("conversation_link")
def conversation_link(session) -> dict:
    """Address a conversation in links by the session id its caller knows (see `conversations.find`)."""
    return conversations.link_args(session)


@bp.app_template_global("run_source")
def run_source(trigger_type) -> str:
    """How a run was started, in words ("REST API", "Run now", "Test run"): the adapters know."""
    return trigger_adapters.registry.source_title(trigger_type)


def _trigger_nodes(workspace_id: str | None, flow: Flow | None) -> list[tuple[str, str]]:
    """The trigger filter's choices: each trigger node by the name the canvas shows (its flow's too)."""
    stmt = db.select(Trigger, Flow.name).join(Flow, Flow.id == Trigger.flow_id).where(
        Trigger.workspace_id == workspace_id).order_by(Flow.name, Trigger.node_id)
    if flow:
        stmt = stmt.where(Trigger.flow_id == flow.id)
    labels: dict[str, list[str]] = {}
    for trigger, flow_name in db.session.execute(stmt).all():
        labels.setdefault(trigger.node_id, []).append(
            trigger_name(trigger) if flow else f"{trigger_name(trigger)} ({flow_name})")
    return [(node_id, " / ".join(dict.fromkeys(names))) for node_id, names in labels.items()]


@bp.app_template_global("run_version")
def run_version(run) -> str:
    """"v3", or "draft" for a test run of a draft (its hidden version's number is negative)."""
    return "draft" if run.version_number < 0 else f"v{run.version_number}"


@bp.app_template_global("test_run")
def test_run(run) -> bool:
    """True for a run of a tested draft: labelled "Test run (draft)" wherever runs are listed."""
    return run.trigger_type == TEST


def _runs_page(flow: Flow | None):
    """The filterable runs list, workspace-wide or for one flow; htmx gets the results alone."""
    workspace_id = flow.workspace_id if flow else principal().default_workspace_id
    args = request.args.copy()  # repeated names reach run_query.parse, which says what they mean
    if flow:
        args["flow"] = flow.id
    error, page = None, None
    try:
        query = run_query.parse(args)  # an unknown filter is named on the page (400), never ignored
        page = run_query.find(query, [workspace_id] if workspace_id else [])
    except run_query.FilterError as exc:
        query, error = run_query.RunQuery(), exc
    template = "partials/_runs_results.html" if request.headers.get("HX-Request") else "runs/list.html"
    flows_in_workspace = db.session.execute(
        db.select(Flow).where(Flow.workspace_id == workspace_id).order_by(Flow.name)).scalars().all()
    list_endpoint = ("ui.flow_runs", {"flow_id": flow.id}) if flow else ("ui.runs_list", {})
    body = render_template(template, flow=flow, query=query, page=page, error=error, raw=args,
                           flows=flows_in_workspace, flow_names={f.id: f.name for f in flows_in_workspace},
                           trigger_types=trigger_adapters.registry.run_sources(),
                           trigger_nodes=_trigger_nodes(workspace_id, flow),
                           statuses=[s.value for s in run_query.RunStatus],
                           list_endpoint=list_endpoint, live_poll=LIVE_POLL)
    return body, 400 if error else 200


@bp.get("/runs")
def runs_list():
    return _runs_page(None)


@bp.get("/flows/<flow_id>/runs")
def flow_runs(flow_id: str):
    """The flow's runs page; the flow page's own polling (htmx, no filters) still gets the small table."""
    flow = load_flow(flow_id)
    if request.headers.get("HX-Request") and not request.args:
        recent = db.session.execute(
            db.select(Run).where(Run.flow_id == flow.id).order_by(Run.created_at.desc()).limit(25)).scalars().all()
        return render_template("partials/_runs_table.html", flow=flow, recent_runs=recent)
    return _runs_page(flow)


@bp.get("/runs/<run_id>")
def run_detail(run_id: str):
    run = load_run(run_id)
    template = "partials/_run_panel.html" if request.headers.get("HX-Request") else "runs/detail.html"
    node_names = {n.get("id"): n.get("name") for n in run.version.document.get("nodes", [])}
    node_titles = {node_type.type: node_type.title for node_type in flows.registry.types()}
    names = step_names(run)
    return render_template(template, run=run, flow=run.flow, node_names=node_names, node_titles=node_titles,
                           step_names=names, port_words=port_words(run), setting_words=setting_words(),
                           result_words=result_words(run, names),
                           timeline=timeline(run),
                           trigger_request=trigger_request(run),
                           live_poll="every 1s")


@bp.post("/runs/<run_id>/cancel")
def cancel_run(run_id: str):
    run = load_run(run_id)
    principal().require(run.workspace_id, Permission.RUN_FLOWS)
    if records.request_cancel(run):
        flash("Cancel requested: a queued run stops at once, a running one before its next step.")
    else:
        flash(f"The run already ended as {run.status.value}; nothing to cancel.", "error")
    return redirect(url_for("ui.run_detail", run_id=run.id))


@bp.post("/runs/<run_id>/replay")
def replay_run(run_id: str):
    """Run the same inputs again on the flow's current version and open the new run."""
    run = load_run(run_id)
    principal().require(run.workspace_id, Permission.RUN_FLOWS)
    try:
        new_run = replay(run, request_id())
    except BodyError as exc:
        flash(f"Not replayed: the current version does not accept these inputs. {exc.message}", "error")
    except NotPublished:
        flash("Not replayed: the flow has no published version.", "error")
    except FlowArchived:
        flash(f"Not replayed: {RUN_MESSAGE}", "error")
    except records.QueueUnavailable:
        flash("Not replayed: the run queue is unavailable. Try again in a few seconds.", "error")
    else:
        flash(f"Replayed run {run.id[:8]} on version {new_run.version_number}.")
        return redirect(url_for("ui.run_detail", run_id=new_run.id))
    return redirect(url_for("ui.run_detail", run_id=run.id))


@bp.get("/conversations")
def conversations_list():
    workspace_id = principal().default_workspace_id
    flow_id = (request.args.get("flow") or "").strip()[:32] or None
    search = (request.args.get("q") or "").strip()[:255] or None
    rows = conversations.list_sessions([workspace_id] if workspace_id else [], flow_id, search)
    flows_in_workspace = db.session.execute(
        db.select(Flow).where(Flow.workspace_id == workspace_id).order_by(Flow.name)).scalars().all()
    return render_template("conversations/list.html", rows=rows, flows=flows_in_workspace, flow_id=flow_id,
                           search=search or "", is_expired=conversations.is_expired)


@bp.get("/conversations/<path:session_id>")
def conversation_detail(session_id: str):
    """A conversation by the session id the caller knows (or our internal id); see `conversations.find`."""
    caller = principal()
    found = conversations.find(caller.workspace_ids, caller.default_workspace_id, session_id,
                               (request.args.get("trigger") or "").strip()[:32] or None, _generation())
    if found.choices:
        return render_template("conversations/choose.html", key=session_id, rows=found.choices,
                               trigger_name=trigger_name,
                               is_expired=conversations.is_expired), 300
    session_row = found.session
    if session_row is None:
        abort(404, "No conversation with this session id exists in this workspace.")
    turns = conversations.turns(session_row)
    template = "partials/_conversation.html" if request.headers.get("HX-Request") else "conversations/detail.html"
    return render_template(template, conversation=session_row, turns=turns, generations=found.generations,
                           flow=db.session.get(Flow, session_row.flow_id),
                           trigger=db.session.get(Trigger, session_row.trigger_id),
                           expired=conversations.is_expired(session_row),
                           live=any(not t.run.status.is_final for t in turns), live_poll=LIVE_POLL)


def _generation() -> int | None:
    """`?generation=` as a number, None when absent; a 400 for anything but ASCII digits ("١" is not 1)."""
    raw = request.args.get("generation", "")
    generation = ascii_whole(raw, MAX_INTEGER)
    if raw and generation is None:
        abort(400, "generation must be a conversation number such as 2 (digits 0-9); leave it out for the latest.")
    return generation


@bp.get("/flows/<flow_id>/overview")
def flow_overview(flow_id: str):
    """Runs per hour by status and median / p95 duration over 24 h, as a fragment of small charts."""
    flow = load_flow(flow_id)
    overview = run_stats.flow_overview(flow.id)
    return render_template("partials/_overview.html", flow=flow, overview=overview,
                           runs_chart=charts.runs_per_hour(overview), duration_chart=charts.durations(overview))

