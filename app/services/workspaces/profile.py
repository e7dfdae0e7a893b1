"""A user's own name and password, and the rules a new password must meet.

Why changing the password ends the other sessions: whoever learned the old password may already
be logged in somewhere; a new password that left them there would protect nothing. The caller
commits and logs the current browser in again (see `app.blueprints.profile`).
"""

from __future__ import annotations

import unicodedata

from app.models import User
from app.services.workspaces.login import authenticate
from app.services.workspaces.passwords import MAX_PASSWORD_LENGTH, new_password_problem
from app.services.workspaces.sessions import end_sessions

MAX_NAME_LENGTH = 200


class ProfileError(ValueError):
    """A field the user must fix; `field` says which, the message says how."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _unreadable(text: str) -> bool:
    """Control characters, or U+FFFD: what the server put where the browser sent bytes that were not text."""
    return "\ufffd" in text or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def change_name(user: User, name: str) -> None:
    """Set the name teammates see; empty means "show my email"."""
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise ProfileError("name", f"A name can be at most {MAX_NAME_LENGTH} characters; this one has {len(name)}.")
    if _unreadable(name):
        raise ProfileError("name", "The name contains characters that are not text; type it again.")
    user.name = name


def change_password(user: User, current: str, new: str, repeated: str, address: str | None) -> None:
    """Set a new password and end every session of the user (the caller commits, then re-logs-in).

    The current password is checked like a login -- throttled, a wrong one counted -- so a session
    left open on a shared computer is no way to guess it. Raises ProfileError or LoginLocked.
    """
    if not current:
        raise ProfileError("current_password", "Type your current password.")
    if len(current) > MAX_PASSWORD_LENGTH or authenticate(user.email, current, address) is None:
        raise ProfileError("current_password", "That is not your current password.")
    problem = new_password_problem(new, repeated)
    if problem:
        raise ProfileError("new_password", problem)
    user.set_password(new)
    end_sessions(user)
