"""What invitations, reset links and the first-start page share: link tokens, field checks, write locks.

Why a lock helper: "the last owner cannot be demoted" and "only the first visitor creates the
owner" are read-then-write rules; two requests that both read before either writes would both
pass. On PostgreSQL the rows the rule reads are locked (`SELECT … FOR UPDATE`, or the table for
the first user, who has no row yet); SQLite has one writer at a time, so a no-op write taken
*before* the read makes the second request wait and then read what the first one committed
(taking it after the read would fail the second with a stale snapshot instead of a clear answer).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from app.extensions import db
from app.models import Role
from app.services.workspaces.passwords import new_password_problem
from app.services.workspaces.tokens import hash_token, new_token

INVITATION_PREFIX = "sbi_"
RESET_PREFIX = "sbr_"
MAX_TOKEN = 100  # a real token is 47 characters; anything much longer is answered without a query
MAX_EMAIL = 320
MAX_NAME = 200
# No spaces, controls or U+FFFD (what an undecodable byte, e.g. a lone surrogate, becomes in a form).
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f\ufffd]+@[^@\s\x00-\x1f\x7f\ufffd]+\.[^@\s\x00-\x1f\x7f\ufffd]+$")
ROLE_WORDS = {
    Role.OWNER: "Everything, including members, API keys and workspace settings.",
    Role.EDITOR: "Create, change, publish and run flows; manage credentials.",
    Role.VIEWER: "See flows, runs and conversations; change nothing.",
}


class LinkError(Exception):
    """A request about members or links that cannot be done; the message says what to fix."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def new_link(prefix: str) -> tuple[str, str]:
    """A fresh link token and the hash that is stored (the token itself is never kept)."""
    token = new_token(prefix)
    return token, hash_token(token)


def find_by_token(model, token: str):
    """The row of `model` whose stored hash matches `token`, or None; absurd tokens cost no query."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        return None
    return db.session.execute(db.select(model).where(model.token_hash == hash_token(token))).scalar_one_or_none()


def checked_email(raw: object) -> str:
    email = raw.strip().lower() if isinstance(raw, str) else ""
    if not email:
        raise LinkError("Enter an email address.", code="invalid_email")
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise LinkError("Enter an email address such as name@example.com (at most 320 characters).",
                        code="invalid_email")
    return email


def checked_role(raw: object) -> Role:
    try:
        return Role(raw)
    except (ValueError, TypeError):
        raise LinkError("Choose a role: owner, editor or viewer.", code="invalid_role") from None


def checked_name(raw: object) -> str:
    name = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not name or len(name) > MAX_NAME:
        raise LinkError(f"Enter your name (at most {MAX_NAME} characters).", code="invalid_name")
    return name


def checked_password(password: object, again: object) -> str:
    problem = new_password_problem(password, again)
    if problem:
        raise LinkError(problem, code="invalid_password")
    return password


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def lock_workspace(workspace_id: str) -> None:
    """Hold the workspace row until commit, so owner-count rules see every concurrent change."""
    if _sqlite():
        db.session.execute(text("UPDATE workspaces SET id = id WHERE id = :id"), {"id": workspace_id})
    else:
        db.session.execute(text("SELECT id FROM workspaces WHERE id = :id FOR UPDATE"), {"id": workspace_id})


def lock_users() -> None:
    """Hold off every other new user until commit (for "the first user only")."""
    if _sqlite():
        db.session.execute(text("UPDATE users SET id = id WHERE id < 0"))
    else:
        db.session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
