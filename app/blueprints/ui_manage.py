"""The flows list and whole-flow actions on pages: search, archived view, duplicate, archive, restore, import.

Why forms that redirect: each action changes a whole flow and lands the user where its result is
(the copy's canvas, the list without the archived flow); htmx only swaps the list while searching.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.blueprints.loaders import load_flow, principal
from app.blueprints.ui_base import bp, current_workspace
from app.extensions import db
from app.models import Workspace
from app.permissions import Permission
from app.services.manage import archive, flow_list, transfer
from app.services.manage.duplicate import copy_name, duplicate
from app.services.versions import publishing
from app.services.versions.presenters import live_triggers

COMMON_TIMEZONES = sorted(name for name in available_timezones() if "/" in name or name == "UTC")


@bp.get("/flows")
def flows():
    """The current workspace's flows with their traffic; `q` searches, `archived=1` shows the archived ones."""
    caller = principal()
    workspace = db.session.get(Workspace, caller.default_workspace_id) if caller.default_workspace_id else None
    q = request.args.get("q", "")[:flow_list.MAX_QUERY]
    archived = request.args.get("archived") in ("1", "true")
    rows = flow_list.search_flows([workspace.id], q, archived) if workspace else []
    context = dict(flows=rows, traffic=flow_list.traffic([f.id for f in rows]), q=q, archived=archived,
                   workspace=workspace)
    if request.headers.get("HX-Request"):
        return render_template("partials/_flows_table.html", **context)
    workspaces = [db.session.get(Workspace, ws_id) for ws_id in caller.workspace_ids]
    return render_template("flows/list.html", workspaces=workspaces, common_timezones=COMMON_TIMEZONES, **context)


@bp.post("/flows/<flow_id>/duplicate")
def duplicate_flow(flow_id: str):
    """Copy the flow and open the copy; its new trigger secrets are shown once on its page."""
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    try:
        copied, result = duplicate(flow, copy_name(flow), current_user)
    except publishing.InvalidFlow as exc:
        db.session.rollback()
        flash(f"Not duplicated: the latest version has {len(exc.problems)} problem(s); fix them first.", "error")
        return redirect(url_for("ui.flow_detail", flow_id=flow.id))
    db.session.commit()
    if result is not None and result.secrets:
        session["new_secrets"] = result.secrets
    with_triggers = ", with new trigger URLs and secrets" if live_triggers(copied) else ""  # an empty flow has none
    flash(f"“{flow.name}” was duplicated as “{copied.name}”{with_triggers}.")
    return redirect(url_for("ui.flow_detail", flow_id=copied.id))


@bp.post("/flows/<flow_id>/archive")
def archive_flow(flow_id: str):
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    archive.archive(flow)
    db.session.commit()
    flash(f"“{flow.name}” was archived: its triggers are off and its schedules stopped. "
          "Its runs stay readable; restore it from the archived flows.")
    return redirect(url_for("ui.flows"))


@bp.post("/flows/<flow_id>/restore")
def restore_flow(flow_id: str):
    flow = load_flow(flow_id)
    principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    archive.restore(flow)
    db.session.commit()
    flash(f"“{flow.name}” was restored: its triggers answer again and its schedules fire from now on.")
    return redirect(url_for("ui.flow_detail", flow_id=flow.id))


@bp.post("/flows/import")
def import_flow():
    """Create a flow from an uploaded file; a refused file creates nothing and says why (each problem)."""
    workspace_id = current_workspace(Permission.EDIT_FLOWS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a flow file (.json) to import.", "error")
        return redirect(url_for("ui.flows"))
    try:
        data = transfer.read_file(upload.read(transfer.MAX_FILE_BYTES + 1))
        result = transfer.import_flow(db.session.get(Workspace, workspace_id), data, current_user)
    except transfer.ImportRefused as exc:
        db.session.rollback()
        flash(f"Not imported: {exc.message}", "error")
        for problem in exc.problems[:20]:
            flash(problem.get("message", str(problem)), "error")
        return redirect(url_for("ui.flows"))
    db.session.commit()
    session["new_secrets"] = result.secrets
    flash(f"Imported “{result.flow.name}” as a new flow (version 1).")
    return redirect(url_for("ui.flow_detail", flow_id=result.flow.id))
