"""Password reset links: made by an owner for a member, by mail on "Forgot your password?", or by the CLI.

Why links and not temporary passwords: the person sets their own password, nobody else learns
it, and using the link ends every session and remember-me cookie the account had (a stolen
cookie dies with the old password). A link works once, expires (RESET_LINK_HOURS), and making a
new one retires the previous one. Only its SHA-256 is stored.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import update

from app.config import settings
from app.extensions import db
from app.models import Membership, PasswordReset, User
from app.models.types import new_id, utcnow
from app.services.audit import Action, Actor, record
from app.services.workspaces import mail
from app.services.workspaces.links import RESET_PREFIX, LinkError, checked_password, find_by_token, new_link
from app.services.workspaces.sessions import end_sessions
from app.services.workspaces.tokens import hash_token

INVALID_RESET = "This password reset link is no longer valid — ask for a new one."
# "Forgot your password?" mails one link per account in this time, so nobody can flood an inbox.
FORGOT_MAIL_INTERVAL = timedelta(minutes=5)


def make_link(user: User, created_by: User | None, workspace_id: str | None = None,
              actor: Actor | None = None, now: datetime | None = None) -> tuple[PasswordReset, str]:
    """A new reset link for `user` (older open ones stop working); audited in `workspace_id` or all theirs."""
    now = now or utcnow()
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session="fetch"))
    token, token_hash = new_link(RESET_PREFIX)
    reset = PasswordReset(id=new_id(), user_id=user.id, token_hash=token_hash, created_at=now,
                          created_by_id=created_by.id if created_by else None,
                          expires_at=now + timedelta(hours=settings().reset_link_hours))
    db.session.add(reset)
    workspaces = [workspace_id] if workspace_id else [m.workspace_id for m in user.memberships]
    for ws_id in workspaces:
        record(ws_id, Action.PASSWORD_RESET_LINK, target_type="user", target_id=str(user.id),
               target_label=user.display_name, actor=actor)
    return reset, token


def open_reset(token: str, now: datetime | None = None) -> PasswordReset | None:
    reset = find_by_token(PasswordReset, token)
    return reset if reset is not None and reset.is_open(now or utcnow()) else None


def use_link(reset: PasswordReset, password: object, again: object) -> User:
    """Set the new password and end every session of the account; the link is claimed once."""
    password = checked_password(password, again)
    now = utcnow()
    claimed = db.session.execute(update(PasswordReset).where(
        PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now
    ).values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise LinkError(INVALID_RESET, 410, "link_invalid")
    db.session.expire(reset)  # read the stamp back, as the session keeps rows across commits
    user = db.session.get(User, reset.user_id)
    user.set_password(password)
    end_sessions(user)
    return user


def forgot_password(email: str, link_for) -> tuple[str, str, str] | None:
    """A reset mail (to, subject, text) if `email` has an account, else None, after the same work.

    Why the caller sends it on a thread after its commit (`send_later`): talking to the mail
    server takes long, and only known emails get a mail, so sending inside the request would tell
    by the answer's timing which emails have accounts. `link_for(token)` builds the absolute link.
    """
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        hash_token(new_link(RESET_PREFIX)[0])  # the same hashing work as for a real link
        return None
    if not db.session.execute(db.select(Membership.user_id).where(Membership.user_id == user.id)).first():
        return None
    if _recently_mailed(user):
        return None
    _, token = make_link(user, None, actor=Actor(label=f"{user.display_name} (forgot their password)",
                                                 user_id=user.id))
    text = (f"Someone (hopefully you) asked to reset the Switchboard password of {user.email}.\n\n"
            f"Set a new password here (the link works once, for {settings().reset_link_hours} hours):\n"
            f"{link_for(token)}\n\nIf it was not you, ignore this mail; your password stays as it is.\n")
    return user.email, "Reset your Switchboard password", text


def _recently_mailed(user: User) -> bool:
    """Whether a self-service link went to this account within FORGOT_MAIL_INTERVAL."""
    since = utcnow() - FORGOT_MAIL_INTERVAL
    return db.session.execute(db.select(PasswordReset.id).where(
        PasswordReset.user_id == user.id, PasswordReset.created_by_id.is_(None),
        PasswordReset.created_at > since)).first() is not None


def send_later(to: str, subject: str, text: str) -> threading.Thread:
    """Send on a thread (call it after the commit that made the link); failures are only logged."""
    from flask import current_app

    app = current_app._get_current_object()

    def send():
        with app.app_context():
            problem = mail.send_link_mail(to, subject, text)
            if problem:
                mail.log.warning("reset mail not sent: %s", problem)

    thread = threading.Thread(target=send, name="reset-mail", daemon=True)
    thread.start()
    return thread
