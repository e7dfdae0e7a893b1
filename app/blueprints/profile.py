"""The signed-in user's profile (/settings/profile): name, password, "sign out everywhere".

Every form here concerns only the user themself, so there is no workspace permission to check:
being logged in is the permission. Password changes keep this browser signed in and end every
other session; "sign out everywhere" ends this one too.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db
from app.services.workspaces.login import LoginLocked
from app.services.workspaces.passwords import MIN_PASSWORD_LENGTH
from app.services.workspaces.profile import (MAX_NAME_LENGTH, ProfileError, change_name,
                                             change_password)
from app.services.workspaces.sessions import end_sessions

bp = Blueprint("profile", __name__, url_prefix="/settings")


@bp.before_request
@login_required
def require_login():
    """Every profile page needs a logged-in user."""


def _page(status: int = 200, errors: dict | None = None, name: str | None = None, headers: dict | None = None):
    return render_template("settings/profile.html", errors=errors or {},
                           name=current_user.name if name is None else name, min_password=MIN_PASSWORD_LENGTH,
                           max_name=MAX_NAME_LENGTH), status, headers or {}


@bp.get("/profile")
def page():
    return _page()


@bp.post("/profile/name")
def rename():
    name = request.form.get("name", "")
    try:
        change_name(current_user, name)
    except ProfileError as exc:
        return _page(400, {exc.field: str(exc)}, name=name[:MAX_NAME_LENGTH])
    db.session.commit()
    flash("Your name is saved." if current_user.name else "Your name is cleared; teammates see your email.")
    return redirect(url_for("profile.page"))


@bp.post("/profile/password")
def password():
    form = request.form
    had_remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    try:
        change_password(current_user, form.get("current_password", ""), form.get("new_password", ""),
                        form.get("repeat_password", ""), request.remote_addr)
    except ProfileError as exc:
        db.session.rollback()
        return _page(400, {exc.field: str(exc)})
    except LoginLocked as locked:
        return _page(429, {"current_password": str(locked)}, headers={"Retry-After": str(locked.retry_after)})
    db.session.commit()
    user = current_user._get_current_object()
    login_user(user, remember=had_remember)  # this browser stays; every other session has ended
    flash("Your password is changed. Every other browser and device signed in as you has been signed out.")
    return redirect(url_for("profile.page"))


@bp.post("/profile/sign-out-everywhere")
def sign_out_everywhere():
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("You are signed out everywhere: on this browser and on every other browser and device.")
    return redirect(url_for("auth.login"))
