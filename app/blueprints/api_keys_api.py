"""Workspace API keys under /api/v1/api-keys: list, create (shown once), revoke.

Only the workspace's owners (logged in) or keys with `flows:manage` may manage keys, and a key
can only create keys no more powerful than itself.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.auth import Principal, api_principal
from app.blueprints.api_support import json_body
from app.blueprints.loaders import load_api_key
from app.errors import ApiError
from app.extensions import csrf, db
from app.models import ApiKey, Role, Scope, Workspace
from app.services.workspaces.api_keys import (KeyRequestError, api_key_dict, checked_key_settings, create_api_key,
                                              revoke_api_key)

bp = Blueprint("api_keys_api", __name__, url_prefix="/api/v1/api-keys")
csrf.exempt(bp)  # session callers are CSRF-checked in api_principal()


def _manager(workspace_id: str | None = None) -> tuple[Principal, str]:
    principal = api_principal(Scope.MANAGE_FLOWS)
    workspace_id = workspace_id or principal.default_workspace_id
    if workspace_id is None or principal.role(workspace_id) is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    if principal.api_key is None and principal.role(workspace_id) is not Role.OWNER:
        raise ApiError(403, "forbidden", "Only the workspace's owners manage API keys.")
    return principal, workspace_id


@bp.get("")
def list_keys():
    _, workspace_id = _manager()
    rows = db.session.execute(db.select(ApiKey).where(ApiKey.workspace_id == workspace_id)
                              .order_by(ApiKey.created_at.desc())).scalars()
    return jsonify({"api_keys": [api_key_dict(k) for k in rows]})


@bp.post("")
def create_key():
    data = json_body({"name", "scopes", "flow_ids", "workspace_id"}, {"name"})
    principal, workspace_id = _manager(data.get("workspace_id"))
    workspace = db.session.get(Workspace, workspace_id)
    try:
        name, scopes, flow_ids = checked_key_settings(workspace, data["name"], data.get("scopes"),
                                                      data.get("flow_ids"), limit_to=principal.api_key)
    except KeyRequestError as exc:
        raise ApiError(400, "invalid_api_key_settings", str(exc)) from None
    key, token = create_api_key(workspace, name, scopes, flow_ids, principal.user)
    db.session.commit()
    return jsonify({"api_key": api_key_dict(key), "token": token,
                    "token_note": "Shown only now; store it safely. Only its hash is kept."}), 201


@bp.delete("/<key_id>")
def revoke_key(key_id: str):
    principal, workspace_id = _manager()
    key = load_api_key(key_id, principal.workspace_ids)
    _manager(key.workspace_id)
    if revoke_api_key(key):
        db.session.commit()
    return jsonify({"api_key": api_key_dict(key)})
