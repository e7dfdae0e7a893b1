"""End a user's sessions: every browser session and every remember-me cookie, on every process.

Why a token in the user row instead of a server-side session list: Flask keeps sessions in a
signed cookie, so there is nothing on the server to delete. Every cookie instead carries the
user's `session_token` (see `User.get_id`), and the user loader refuses a cookie whose token is
not the current one. Replacing the token therefore ends every session at once, including a
cookie copied elsewhere; the caller re-logs-in the current browser when it should stay.
"""

from __future__ import annotations

import hmac

from app.digits import MAX_INTEGER, ascii_whole
from app.extensions import db
from app.models import User
from app.models.identity import new_session_token


def end_sessions(user: User) -> None:
    """Refuse every cookie issued to `user` so far (the caller commits)."""
    user.session_token = new_session_token()


def load_session_user(session_id: str) -> User | None:
    """The user a session or remember-me cookie names, or None when its token was replaced.

    Cookies from before tokens existed carry a bare id and are refused: that user logs in again.
    The id must be ASCII digits that fit the column (`ascii_whole`): a crafted cookie is nobody.
    """
    raw_id, _, token = str(session_id).partition(":")
    user_id = ascii_whole(raw_id, MAX_INTEGER)
    if not token or user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user
