"""Workspace settings pages: API keys (create with scopes and flows, shown once; revoke).

Same rules as the JSON API (`app.services.workspaces.api_keys`): owners manage keys (MANAGE_API_KEYS); the token is shown on
the page that created it and never again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user, login_required

from app.auth import user_principal
from app.blueprints.loaders import load_api_key
from app.extensions import db
from app.models import ALL_SCOPES, ApiKey, Flow, Scope, Workspace
from app.permissions import Permission
from app.services.workspaces.api_keys import KeyRequestError, checked_key_settings, create_api_key, revoke_api_key

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
@login_required
def require_login():
    """Every settings page needs a logged-in user."""


def _workspace() -> Workspace:
    principal = user_principal(current_user)
    workspace_id = principal.default_workspace_id
    if workspace_id is None:
        abort(404, "You are not a member of any workspace.")
    principal.require(workspace_id, Permission.MANAGE_API_KEYS)
    return db.session.get(Workspace, workspace_id)


def _page(workspace: Workspace, token: str | None = None, created: ApiKey | None = None, status: int = 200,
          typed=None):
    keys = db.session.execute(db.select(ApiKey).where(ApiKey.workspace_id == workspace.id)
                              .order_by(ApiKey.created_at.desc())).scalars().all()
    flows = db.session.execute(db.select(Flow).where(Flow.workspace_id == workspace.id)
                               .order_by(Flow.name)).scalars().all()
    return render_template("settings/api_keys.html", workspace=workspace, keys=keys, flows=flows,
                           flow_names={f.id: f.name for f in flows}, scopes=[Scope(s) for s in ALL_SCOPES],
                           token=token, created=created, typed=typed), status


@bp.get("/api-keys")
def api_keys():
    return _page(_workspace())


@bp.post("/api-keys")
def create_key():
    workspace = _workspace()
    scopes = request.form.getlist("scopes")
    flow_ids = request.form.getlist("flow_ids") if request.form.get("limit_flows") == "some" else None
    try:
        if not scopes:  # the service's message names scopes as the API spells them
            raise KeyRequestError("Tick at least one thing the key may do.")
        name, scopes, flow_ids = checked_key_settings(workspace, request.form.get("name", ""), scopes, flow_ids)
    except KeyRequestError as exc:
        flash(str(exc), "error")
        return _page(workspace, status=400, typed=request.form)
    key, token = create_api_key(workspace, name, scopes, flow_ids, current_user)
    db.session.commit()
    return _page(workspace, token=token, created=key, status=201)


@bp.post("/api-keys/<key_id>/revoke")
def revoke_key(key_id: str):
    workspace = _workspace()
    key = load_api_key(key_id, [workspace.id])
    if revoke_api_key(key):
        db.session.commit()
        flash(f"API key {key.name!r} revoked; requests using it now get 401.", "info")
    return _page(workspace)
