"""Members and invitations under /api/v1: list, invite, withdraw, change a role, remove. Signed-in owners only.

Same services and rules as the members page; API keys are refused (403) because managing who
may sign in needs a person (see `KEY_PERMISSIONS`). The invitation link is in the 201 answer,
the only time it is shown.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.auth import api_principal
from app.blueprints.api_support import json_body
from app.errors import ApiError
from app.extensions import csrf, db
from app.models import Invitation, Membership, Workspace
from app.permissions import Permission
from app.services.workspaces import invitations, members as member_service
from app.services.workspaces.links import LinkError
from app.urls import public_url

bp = Blueprint("api_members", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # session callers are CSRF-checked in api_principal()


def _workspace() -> Workspace:
    caller = api_principal()
    caller.require(caller.default_workspace_id, Permission.MANAGE_MEMBERS)
    return db.session.get(Workspace, caller.default_workspace_id)


def _refused(exc: LinkError) -> ApiError:
    db.session.rollback()
    return ApiError(exc.status, exc.code, exc.message)


def member_dict(membership: Membership) -> dict:
    user = membership.user
    return {"user_id": user.id, "name": user.name, "email": user.email, "role": membership.role.value,
            "joined_at": membership.created_at.isoformat()}


def invitation_dict(invitation: Invitation) -> dict:
    inviter = invitation.invited_by
    return {"id": invitation.id, "email": invitation.email, "role": invitation.role.value,
            "created_at": invitation.created_at.isoformat(), "expires_at": invitation.expires_at.isoformat(),
            "invited_by": inviter.display_name if inviter else None}


@bp.get("/members")
def list_members():
    workspace = _workspace()
    return jsonify({"members": [member_dict(m) for m in member_service.members(workspace.id)],
                    "invitations": [invitation_dict(i) for i in invitations.pending(workspace.id)]})


@bp.post("/invitations")
def invite():
    workspace = _workspace()  # the role first: a viewer learns nothing from how the body is checked
    data = json_body({"email", "role"}, {"email", "role"})
    caller = api_principal()
    try:
        invitation, token = invitations.invite(workspace, data["email"], data["role"], caller.user)
    except LinkError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return jsonify({"invitation": invitation_dict(invitation), "link": public_url("join.accept", token=token),
                    "link_note": "Shown only now; it works once. Only its hash is kept."}), 201


@bp.delete("/invitations/<invitation_id>")
def withdraw(invitation_id: str):
    workspace = _workspace()
    try:
        invitation = invitations.load_pending(workspace.id, invitation_id)
    except LinkError as exc:
        raise _refused(exc) from None
    invitations.withdraw(invitation)
    db.session.commit()
    return jsonify({"invitation": invitation_dict(invitation), "withdrawn": True})


@bp.patch("/members/<user_id>")
def change_role(user_id: str):
    workspace = _workspace()
    data = json_body({"role"}, {"role"})
    try:
        membership = member_service.change_role(workspace, user_id, data["role"])
    except LinkError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return jsonify({"member": member_dict(membership)})


@bp.delete("/members/<user_id>")
def remove(user_id: str):
    workspace = _workspace()
    try:
        user = member_service.remove(workspace, user_id)
    except LinkError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return jsonify({"removed": {"user_id": user.id, "email": user.email}})
