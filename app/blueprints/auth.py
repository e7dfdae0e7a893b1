"""Log in and out with a password (Flask-Login session, CSRF-protected form).

Logging out ends every session of the user, not only this browser's: the audit that prompted it
found cookies copied before logout still worked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.services.workspaces.login import LoginLocked, authenticate
from app.services.workspaces.sessions import end_sessions

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


def _safe_next(target: str | None) -> str:
    """Follow ?next= only within this site, so the login page cannot be used to redirect away.

    A target with a control character (a line break would split the Location header) or a space
    is no page of ours either: the flows page instead.
    """
    if (target and target.startswith("/") and not target.startswith("//") and target.isprintable()
            and " " not in target and not urlsplit(target).netloc):
        return target
    return url_for("ui.flows")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in; wrong answers are throttled (slower, then 429 with Retry-After) by `authenticate`."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200
    try:
        user = authenticate(form.email.data, form.password.data, request.remote_addr)
    except LoginLocked as locked:
        return (render_template("auth/login.html", form=form, locked=str(locked)), 429,
                {"Retry-After": str(locked.retry_after)})
    if user is None:
        form.password.errors.append("Wrong email or password.")
        return render_template("auth/login.html", form=form), 401
    target = _safe_next(request.args.get("next"))  # before logging in: nothing after it may fail
    login_user(user, remember=form.remember.data)
    return redirect(target)


@bp.post("/logout")
@login_required
def logout():
    """Log out here and everywhere: a copied session or remember-me cookie is refused from now on."""
    end_sessions(current_user)
    db.session.commit()
    logout_user()  # also clears the remember-me cookie of this browser
    flash("You are logged out, on this browser and everywhere else.")
    return redirect(url_for("auth.login"))
