"""Check an email and password the way that gives a guesser nothing: throttled, and equally slow.

Why a dummy hash: checking a password costs tens of milliseconds (scrypt), so answering "no such
user" without checking would tell, by time alone, which emails have accounts. For an unknown
email the password is checked against a hash made once, by the same method and cost as the
users' own (werkzeug's default, which `User.set_password` uses), and the answer is the same
"Wrong email or password." after the same time. The throttle (`login_throttle`) runs first.
"""

from __future__ import annotations

import math
import secrets
import threading
from datetime import timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User
from app.models.types import utcnow
from app.services.workspaces import login_throttle

_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


class LoginLocked(Exception):
    """Logging in is paused for this account or address; the message says until when."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(lockout_words(self.retry_after))


def lockout_words(retry_after: int) -> str:
    """Say in plain words when logging in works again."""
    until = (utcnow() + timedelta(seconds=retry_after)).strftime("%H:%M")
    if retry_after < 60:
        wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
    else:
        minutes = math.ceil(retry_after / 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many failed attempts to log in. For safety, logging in to this account or from your "
            f"network is paused: try again in {wait} (after {until} UTC).")


def normalised_email(email: str) -> str:
    return email.strip().lower()


def dummy_hash() -> str:
    """A hash of a random password, by the current default method: what unknown emails are checked against."""
    global _dummy_hash
    if _dummy_hash is None:
        with _dummy_lock:
            if _dummy_hash is None:
                _dummy_hash = generate_password_hash(secrets.token_urlsafe(24))
    return _dummy_hash


def authenticate(email: str, password: str, address: str | None) -> User | None:
    """The user these credentials name, or None; raise LoginLocked while logging in is paused.

    Counts a failure against the email and the address; a success clears the email's count.
    """
    email = normalised_email(email)
    locked = login_throttle.check(email, address)
    if locked is not None:
        raise LoginLocked(locked.retry_after)
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    matches = check_password_hash(user.password_hash if user is not None else dummy_hash(), password)
    if user is not None and matches:
        login_throttle.record_success(email, address)
        return user
    locked = login_throttle.record_failure(email, address)
    if locked is not None:
        raise LoginLocked(locked.retry_after)
    return None
