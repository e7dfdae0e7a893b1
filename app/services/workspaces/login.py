"""Check an email and password the way that gives a guesser nothing: throttled, and equally slow.

Why a dummy hash: checking a password costs tens of milliseconds (scrypt), so answering "no such
user" without checking would tell, by time alone, which emails have accounts. For an unknown
email the password is checked against a hash made once per method, by the same method and cost
as the users' own (PASSWORD_HASH_METHOD, which `User.set_password` uses), and the answer is the
same "Wrong email or password." after the same time. The throttle (`login_throttle`) runs first.
"""

from __future__ import annotations

import secrets
import threading

from werkzeug.security import check_password_hash, generate_password_hash

from app.config import settings
from app.extensions import db
from app.models import User
from app.services.workspaces import login_throttle
from app.services.workspaces.login_throttle import LoginLocked

__all__ = ["LoginLocked", "authenticate", "dummy_hash", "normalised_email"]

_dummy_lock = threading.Lock()
_dummy_hashes: dict[str, str] = {}  # by method: one process may serve apps configured differently (tests do)


def normalised_email(email: str) -> str:
    return email.strip().lower()


def dummy_hash() -> str:
    """A hash of a random password, by the configured method: what unknown emails are checked against."""
    method = settings().password_hash_method
    made = _dummy_hashes.get(method)
    if made is None:
        with _dummy_lock:
            made = _dummy_hashes.get(method)
            if made is None:
                made = _dummy_hashes[method] = generate_password_hash(secrets.token_urlsafe(24), method)
    return made


def authenticate(email: str, password: str, address: str | None) -> User | None:
    """The user these credentials name, or None; raise LoginLocked while logging in is paused.

    Every attempt counts as a failure against the email and the address until it succeeds; a
    success clears the email's count and takes back its own on the address.
    """
    email = normalised_email(email)
    attempt = login_throttle.start(email, address)
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    matches = check_password_hash(user.password_hash if user is not None else dummy_hash(), password)
    if user is not None and matches:
        login_throttle.succeeded(attempt)
        return user
    login_throttle.failed(attempt)
    return None
