"""The shared session signer signs and checks exactly as Flask's own, and follows a key change."""

from __future__ import annotations

from flask import Flask, session

from app.session_cookie import SessionInterface


def _app(key: str, fallbacks: list[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.secret_key = key
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks or []
    app.session_interface = SessionInterface()

    @app.get("/set")
    def set_value():
        session["who"] = "ada"
        return "ok"

    @app.get("/get")
    def get_value():
        return session.get("who", "nobody")

    return app


def test_a_cookie_it_signed_reads_back_and_a_changed_key_is_used_at_once():
    app = _app("first-key")
    client = app.test_client()
    client.get("/set")
    assert client.get("/get").text == "ada"
    cookie = client.get_cookie("session").value

    app.secret_key = "second-key"  # rotated without a fallback: the old cookie is refused
    assert client.get("/get").text == "nobody"
    app.config["SECRET_KEY_FALLBACKS"] = ["first-key"]  # with the old key as a fallback: read again
    assert client.get("/get").text == "ada"

    other = _app("first-key").test_client()  # Flask's own interface reads what ours signed
    other.application.session_interface = Flask.session_interface
    other.set_cookie("session", cookie)
    assert other.get("/get").text == "ada"
