"""The one rule for a new password, whichever door sets it: profile, invitation, reset link, setup, CLI."""

from __future__ import annotations

import unicodedata

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200  # the login form's limit; longer could never be typed there


def new_password_problem(password: object, repeated: object) -> str | None:
    """What is wrong with a new password, in words, or None when it may be used."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"A password can be at most {MAX_PASSWORD_LENGTH} characters."
    if "\ufffd" in password or any(unicodedata.category(ch) == "Cs" for ch in password):
        return "The password contains characters that are not text; type it again."
    if password != repeated:
        return "The two new passwords differ; type the same one twice."
    return None
