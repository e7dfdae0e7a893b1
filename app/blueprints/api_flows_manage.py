"""Managing whole flows through the JSON API (/api/v1), on the API blueprint: duplicate, archive,
restore, export a version, import a file.

Views stay thin: load within the caller's workspaces (404 otherwise), check the role, call one
service in `app.services.manage`, commit, answer. Secrets made for a copy are shown once, as on
any first publish.
"""

from __future__ import annotations

import json

from flask import Response, jsonify, request

from app.auth import api_principal
from app.blueprints.api import _body, _published, bp
from app.blueprints.common import publish_errors
from app.blueprints.loaders import load_flow, load_version
from app.errors import ApiError
from app.extensions import db
from app.models import Flow, Scope, Workspace
from app.permissions import Permission
from app.services.manage import archive, transfer
from app.services.manage.duplicate import copy_name, duplicate
from app.services.manage.flow_settings import SettingsError, check_name
from app.services.versions import publishing
from app.services.versions.presenters import flow_dict


def _editable_flow(flow_id: str) -> Flow:
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    api_principal().require(flow.workspace_id, Permission.EDIT_FLOWS)
    return flow


def _may_create(workspace_id: str) -> Workspace:
    principal = api_principal(Scope.MANAGE_FLOWS)
    if principal.flow_ids is not None:
        raise ApiError(403, "forbidden", "This API key is limited to some flows, so it cannot create flows.")
    principal.require(workspace_id, Permission.EDIT_FLOWS)
    return db.session.get(Workspace, workspace_id)


def settings_error(exc: SettingsError) -> ApiError:
    return ApiError(400, f"invalid_{exc.field}", exc.message, [{"field": exc.field, "reason": exc.message}])


@bp.post("/flows/<flow_id>/duplicate")
def duplicate_flow(flow_id: str):
    """A new flow publishing the latest version's document, with new trigger keys and secrets."""
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    _may_create(flow.workspace_id)
    data = _body({"name"})
    try:
        name = check_name(data["name"]) if "name" in data else copy_name(flow)
    except SettingsError as exc:
        raise settings_error(exc) from None
    with publish_errors():
        copied, result = duplicate(flow, name, api_principal().user)
    db.session.commit()
    if result is None:
        return jsonify(flow_dict(copied, None)), 201
    return _published(result, 201)


@bp.delete("/flows/<flow_id>")
def archive_flow(flow_id: str):
    """Archive: every trigger answers 404 flow_archived and schedules stop; runs stay readable."""
    flow = _editable_flow(flow_id)
    archive.archive(flow)
    db.session.commit()
    return jsonify(flow_dict(flow, publishing.latest_version(flow)))


@bp.post("/flows/<flow_id>/restore")
def restore_flow(flow_id: str):
    flow = _editable_flow(flow_id)
    _body(set())
    archive.restore(flow)
    db.session.commit()
    return jsonify(flow_dict(flow, publishing.latest_version(flow)))


@bp.get("/flows/<flow_id>/versions/<int:number>/export")
def export_version(flow_id: str, number: int):
    """The version as a JSON file download: document, name, description; never a secret."""
    flow = load_flow(flow_id)
    version = load_version(flow, number)
    body = json.dumps(transfer.export_file(flow, version), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{transfer.file_name(flow, version)}"'})


@bp.post("/flows/import")
def import_flow():
    """Create a flow from an exported file (the body); nothing is created when the file is refused."""
    principal = api_principal(Scope.MANAGE_FLOWS)
    workspace_id = request.args.get("workspace_id") or principal.default_workspace_id
    if not isinstance(workspace_id, str) or principal.role(workspace_id) is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    workspace = _may_create(workspace_id)
    try:
        data = transfer.read_file(request.get_data(cache=True), limit=None)
        result = transfer.import_flow(workspace, data, principal.user)
    except transfer.ImportRefused as exc:
        db.session.rollback()
        raise ApiError(400, "invalid_flow_file", exc.message, exc.problems or None) from None
    db.session.commit()
    return _published(result, 201)
