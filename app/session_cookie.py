"""Flask's signed session cookie, with its signer built once instead of on every request.

Why: Flask builds a new itsdangerous serializer each time it opens or saves a session, i.e.
twice per request, even for a trigger call that sends no cookie; that was a measurable share
of such a request's CPU. The serializer holds only the keys and settings (no per-use state),
so one is shared by the threads, and it is rebuilt whenever the secret key or its fallbacks
change. Signing, expiry and the cookie itself are Flask's, unchanged.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """`SecureCookieSessionInterface` that reuses its serializer while the keys stay the same."""

    def __init__(self) -> None:
        self._built: tuple[tuple, object] | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = self._built = (keys, super().get_signing_serializer(app))
        return built[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
