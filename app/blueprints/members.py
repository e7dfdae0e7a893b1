"""The members page (/settings/members): invite, withdraw, change roles, remove, reset links. Owners only.

Same rules as the JSON API (`api_members`), from the same services. A new invitation or reset
link is shown on the page that made it, to copy; with MAIL_URL set it is also mailed, and a mail
that could not be sent is said in words beside the link (the link still works).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import user_principal
from app.blueprints.loaders import principal
from app.config import settings
from app.extensions import db
from app.models import User, Workspace
from app.permissions import Permission
from app.services.workspaces import invitations, members as member_service, password_resets
from app.services.workspaces.links import ROLE_WORDS, LinkError
from app.services.workspaces.mail import mail_configured, send_link_mail
from app.urls import public_url

bp = Blueprint("members", __name__, url_prefix="/settings/members")


@bp.before_request
@login_required
def require_login():
    """Every members page needs a logged-in user."""


@bp.app_context_processor
def members_link():
    """Whether the nav shows "Members": only to an owner of the workspace being shown."""
    def visible() -> bool:
        if not current_user.is_authenticated:
            return False
        caller = user_principal(current_user)
        return caller.can(caller.default_workspace_id, Permission.MANAGE_MEMBERS)
    return {"members_link_visible": visible}


def _workspace() -> Workspace:
    caller = principal()
    if caller.default_workspace_id is None:
        abort(404, "You are not a member of any workspace.")
    caller.require(caller.default_workspace_id, Permission.MANAGE_MEMBERS)
    return db.session.get(Workspace, caller.default_workspace_id)


def _page(workspace: Workspace, status: int = 200, **shown):
    return render_template("settings/members.html", workspace=workspace, roles=invitations.ROLES,
                           role_words=ROLE_WORDS, members=member_service.members(workspace.id),
                           pending=invitations.pending(workspace.id), mail=mail_configured(),
                           days=settings().invitation_days, **shown), status


@bp.get("")
def page():
    return _page(_workspace())


@bp.post("/invite")
def invite():
    workspace = _workspace()
    try:
        invitation, token = invitations.invite(workspace, request.form.get("email"), request.form.get("role"),
                                               current_user)
    except LinkError as exc:
        return _page(workspace, exc.status, error=exc.message, email=request.form.get("email", "")[:320])
    db.session.commit()
    link = public_url("join.accept", token=token)
    problem = send_link_mail(invitation.email, f"Join {workspace.name} on Switchboard",
                             invitation_text(workspace, invitation, current_user, link))
    return _page(workspace, 201, link=link, link_for=invitation.email, link_kind="invitation",
                 mail_problem=problem)


def invitation_text(workspace: Workspace, invitation, inviter: User, link: str) -> str:
    return (f"{inviter.display_name} invites you to the workspace {workspace.name} on Switchboard as "
            f"{invitation.role.value}.\n\nAccept here (the link works once, for {settings().invitation_days} "
            f"days):\n{link}\n")


@bp.post("/invitations/<invitation_id>/withdraw")
def withdraw(invitation_id: str):
    workspace = _workspace()
    try:
        invitation = invitations.load_pending(workspace.id, invitation_id)
    except LinkError as exc:
        abort(exc.status, exc.message)
    invitations.withdraw(invitation)
    db.session.commit()
    flash(f"The invitation for {invitation.email} was withdrawn; its link no longer works.", "info")
    return redirect(url_for("members.page"))


@bp.post("/<user_id>/role")
def change_role(user_id: str):
    workspace = _workspace()
    try:
        membership = member_service.change_role(workspace, user_id, request.form.get("role"))
    except LinkError as exc:
        db.session.rollback()
        return _page(workspace, exc.status, error=exc.message)
    db.session.commit()
    flash(f"{membership.user.display_name} is now {membership.role.value}.", "info")
    return redirect(url_for("members.page"))


@bp.post("/<user_id>/remove")
def remove(user_id: str):
    workspace = _workspace()
    try:
        user = member_service.remove(workspace, user_id)
    except LinkError as exc:
        db.session.rollback()
        return _page(workspace, exc.status, error=exc.message)
    db.session.commit()
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(f"{user.display_name} was removed from {workspace.name} and signed out everywhere.", "info")
    return redirect(url_for("members.page"))


@bp.post("/<user_id>/reset-link")
def reset_link(user_id: str):
    workspace = _workspace()
    try:
        user = member_service.load_member(workspace.id, user_id).user
    except LinkError as exc:
        abort(exc.status, exc.message)
    _, token = password_resets.make_link(user, current_user, workspace.id)
    db.session.commit()
    link = public_url("join.reset", token=token)
    problem = send_link_mail(user.email, "Set a new Switchboard password",
                             f"{current_user.display_name} made you a link to set a new Switchboard password "
                             f"(it works once, for {settings().reset_link_hours} hours):\n{link}\n")
    return _page(workspace, 201, link=link, link_for=user.email, link_kind="reset", mail_problem=problem)
