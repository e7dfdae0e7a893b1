"""Schedule and workspace endpoints of the JSON API (/api/v1), on the API blueprint.

Why the preview lives on the server: the canvas shows the next fire times while the user edits,
and they must be the times the clock will use (croniter, zoneinfo, DST rules), so the browser
holds no scheduling rule of its own.
"""

from __future__ import annotations

from flask import jsonify

from app.auth import api_principal
from app.blueprints.api import _body, bp
from app.errors import ApiError
from app.extensions import db
from app.models import Scope, Workspace
from app.permissions import Permission
from app.services.scheduling import schedule_info
from app.services.scheduling import schedules
from flows import schedule as fire_times


def _workspace_dict(workspace: Workspace) -> dict:
    return {"id": workspace.id, "name": workspace.name, "timezone": workspace.timezone}


def _load_workspace(workspace_id: str) -> Workspace:
    principal = api_principal()
    workspace = db.session.get(Workspace, workspace_id) if workspace_id in principal.workspace_ids else None
    if workspace is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    return workspace


@bp.get("/workspaces")
def list_workspaces():
    principal = api_principal()
    rows = db.session.execute(db.select(Workspace).where(Workspace.id.in_(principal.workspace_ids))
                              .order_by(Workspace.name)).scalars()
    return jsonify({"workspaces": [_workspace_dict(w) for w in rows]})


@bp.get("/workspaces/<workspace_id>")
def get_workspace(workspace_id: str):
    return jsonify(_workspace_dict(_load_workspace(workspace_id)))


@bp.patch("/workspaces/<workspace_id>")
def update_workspace(workspace_id: str):
    """Set the workspace's time zone; schedules without their own zone are re-planned at once."""
    workspace = _load_workspace(workspace_id)
    api_principal(Scope.MANAGE_FLOWS).require(workspace.id, Permission.MANAGE_WORKSPACE)
    data = _body({"timezone"}, {"timezone"})
    try:
        fire_times.zone(data["timezone"])
    except fire_times.ScheduleError as exc:
        raise ApiError(400, "invalid_timezone", str(exc), [{"field": "timezone", "reason": "unknown time zone"}]) from None
    workspace.timezone = data["timezone"]
    schedules.resync_workspace(workspace.id)
    db.session.commit()
    return jsonify(_workspace_dict(workspace))


@bp.post("/schedules/preview")
def preview_schedule():
    """The next fire times of a schedule trigger's config, before (or without) saving it."""
    principal = api_principal()
    data = _body({"config", "workspace_id", "count"}, {"config"})
    config, count = data["config"], data.get("count", 5)
    if not isinstance(config, dict):
        raise ApiError(400, "invalid_config", "config must be a JSON object: the schedule trigger's settings.",
                       [{"field": "config", "reason": "not an object"}])
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
        raise ApiError(400, "invalid_count", "count must be a whole number from 1 to 50.",
                       [{"field": "count", "reason": "out of range"}])
    workspace_id = data.get("workspace_id") or principal.default_workspace_id
    workspace = _load_workspace(workspace_id) if isinstance(workspace_id, str) else None
    try:
        answer = schedule_info.preview(config, workspace.timezone if workspace else "UTC", count=count)
    except fire_times.ScheduleError as exc:
        raise ApiError(400, "invalid_schedule", str(exc), [{"field": exc.path, "reason": str(exc)}]) from None
    return jsonify(answer)
