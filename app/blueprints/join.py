"""Pages reached without logging in: accept an invitation, first-start setup, password reset links.

Why one plain answer for every dead link: saying "expired" to one link and "unknown" to another
would tell someone guessing links which ones once existed; every link that does not work gets
the same page and status.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from app.extensions import db
from app.services.workspaces import first_start, invitations, password_resets
from app.services.workspaces.links import LinkError, checked_email
from app.services.workspaces.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD
from app.services.workspaces.mail import mail_configured
from app.urls import public_url

bp = Blueprint("join", __name__)


@bp.app_context_processor
def mail_flag():
    return {"mail_configured": mail_configured}


@bp.before_app_request
def first_start_leads_to_setup():
    """On an instance without any user, the login page and the home page lead to /setup.

    One indexed one-row query on those two pages only; not cached, so every web process sees a
    database emptied or restored behind its back.
    """
    if request.method != "GET" or request.endpoint not in ("auth.login", "ui.index"):
        return None
    return None if first_start.has_users() else redirect(url_for("join.setup"))


def _dead_link(message: str = invitations.INVALID_LINK):
    return render_template("auth/link_invalid.html", message=message), 404


def _signed_in_to(user, workspace_id: str, remember: bool = False):
    login_user(user, remember=remember)
    session["workspace_id"] = workspace_id
    return redirect(url_for("ui.flows"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    invitation = invitations.open_invitation(token)
    if invitation is None:
        return _dead_link()
    account = invitations.account_for(invitation)
    signed_in = current_user if current_user.is_authenticated else None
    error, status = None, 200
    if request.method == "POST":
        try:
            if account is None and signed_in is None:
                user = invitations.accept_as_new_user(invitation, request.form.get("name"),
                                                      request.form.get("password"), request.form.get("password2"))
            elif signed_in is not None:
                invitations.accept_as_existing_user(invitation, signed_in)
                user = signed_in
            else:
                raise LinkError("An account with this email exists already: log in first.", 409)
            workspace_id = invitation.workspace_id
            db.session.commit()
            flash(f"Welcome to {invitation.workspace.name}.", "info")
            return _signed_in_to(user, workspace_id)
        except LinkError as exc:
            db.session.rollback()
            if exc.code == "link_invalid":
                return _dead_link()
            error, status = exc.message, exc.status
    return render_template("auth/accept.html", invitation=invitation, account=account, signed_in=signed_in,
                           error=error, min_password=MIN_PASSWORD, name=request.form.get("name", "")[:200]), status


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if first_start.has_users():
        abort(404)
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            user = first_start.create_first_owner(form.get("name"), form.get("email"), form.get("password"),
                                                  form.get("password2"), form.get("workspace"))
            db.session.commit()
        except LinkError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            flash("Your owner account is ready. Invite your teammates under Members.", "info")
            return _signed_in_to(user, user.memberships[0].workspace_id)
    return render_template("auth/setup.html", error=error, min_password=MIN_PASSWORD,
                           form={k: request.form.get(k, "")[:320] for k in ("name", "email", "workspace")}), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    link = password_resets.open_reset(token)
    if link is None:
        return _dead_link(password_resets.INVALID_RESET)
    error, status = None, 200
    if request.method == "POST":
        try:
            user = password_resets.use_link(link, request.form.get("password"), request.form.get("password2"))
            db.session.commit()
        except LinkError as exc:
            db.session.rollback()
            if exc.code == "link_invalid":
                return _dead_link(password_resets.INVALID_RESET)
            error, status = exc.message, exc.status
        else:
            flash("Your new password is set; every other session of your account was signed out.", "info")
            login_user(user)
            return redirect(url_for("ui.flows"))
    return render_template("auth/reset.html", email=link.user.email, error=error, min_password=MIN_PASSWORD), status


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    sent, error, status = False, None, 200
    if request.method == "POST" and mail_configured():
        try:
            email = checked_email(request.form.get("email"))
        except LinkError as exc:
            error, status = exc.message, exc.status
        else:
            pending = password_resets.forgot_password(email, lambda token: public_url("join.reset", token=token))
            db.session.commit()
            if pending:
                password_resets.send_later(*pending)
            sent = True
    return render_template("auth/forgot.html", mail=mail_configured(), sent=sent, error=error), status
