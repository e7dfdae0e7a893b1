"""Every answer carries the security headers, and cookies turn Secure over https (proxies only when trusted)."""

from __future__ import annotations

import re

import pytest

from app.errors import ApiError
from tests.app.runsetup import Flows, conversation_of
from tests.app.trigger_helpers import bearer
from tests.conftest import csrf_from

EXPECTED = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def assert_secure_headers(response, where: str) -> str:
    """Check one answer; returns its script nonce."""
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name} is {response.headers.get(name)!r}"
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'", where
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{20,}'", directives["script-src"]), where
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/=]{44}')*", directives["style-src"]), where
    assert "unsafe" not in policy, where
    for directive, value in {"img-src": "'self' data:", "connect-src": "'self'", "font-src": "'self'",
                             "object-src": "'none'", "base-uri": "'self'", "form-action": "'self'",
                             "frame-ancestors": "'none'"}.items():
        assert directives[directive] == value, f"{where}: {directive}"
    return re.search(r"'nonce-([^']+)'", policy).group(1)


@pytest.fixture
def world(app, client, auth, api_key):
    """A workspace with a flow, a run in a conversation and a credential: real ids for every route."""
    flows = Flows(client, api_key)
    flow = flows.publish()
    run_id = flows.call(flow, "hello", sessionId="chat-1")["run_id"]
    credential = client.post("/api/v1/credentials", json={"name": "openai", "kind": "api_key", "value": "sk-x"},
                             headers=bearer(api_key)).json
    trigger = client.get("/api/v1/triggers", headers=bearer(api_key)).json["triggers"][0]
    models = client.get("/v1/models", headers=bearer(api_key)).json["data"]
    return {"flow_id": flow["id"], "number": 1, "a": "1", "b": "1", "run_id": run_id,
            "session_id": conversation_of(app, run_id), "credential_id": credential["id"],
            "trigger_id": trigger["id"], "node_id": trigger["node_id"], "workspace_id": auth.workspace_id,
            "model": models[0]["id"] if models else "none", "filename": "css/app.css", "token": "no-such-link",
            "user_id": "1", "invitation_id": "0" * 32}


def get_urls(app, values: dict) -> list[str]:
    """Every GET route of the app, its path variables filled from `values` (a new route needs no edit here)."""
    with app.test_request_context():
        from flask import url_for

        return sorted({url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
                       for rule in app.url_map.iter_rules() if "GET" in rule.methods})


def test_every_get_route_answers_with_the_headers_signed_in_and_anonymous(app, client, world, api_key):
    urls = get_urls(app, world)
    assert len(urls) >= 35  # the whole map, not a handful
    nonces = set()
    for url in urls:
        for who, headers in (("owner", {}), ("htmx", {"HX-Request": "true"}), ("api key", bearer(api_key))):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, f"{url} as {who}: {response.status_code}"
            nonces.add(assert_secure_headers(response, f"{url} as {who}"))
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code < 500, url
        assert_secure_headers(response, f"{url} anonymous")
    assert len(nonces) == 3 * len(urls)  # a fresh nonce per answer


def test_error_answers_carry_the_headers_too(app, app_with, make_account):
    def refuse_429():
        raise ApiError(429, "rate_limited", "Slow down.", headers={"Retry-After": "30"})

    def crash():
        raise RuntimeError("boom")

    make_account()
    app = app_with()  # a fresh app: routes can only be added before its first request
    for path, view in (("/throttled", refuse_429), ("/api/v1/throttled", refuse_429),
                       ("/crash", crash), ("/api/v1/crash", crash)):
        app.add_url_rule(path, path, view)
    client, anonymous = app.test_client(), app.test_client()
    _log_in(client)
    answers = {
        "page 404": (client.get("/flows/no-such-flow"), 404),
        "api 404": (client.get("/api/v1/flows/no-such-flow"), 404),
        "unknown path": (client.get("/no/such/page"), 404),
        "api 401": (anonymous.get("/api/v1/flows"), 401),
        "metrics 403": (client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}), 403),
        "page 405": (client.get("/logout"), 405),
        "page 429": (client.get("/throttled"), 429),
        "api 429": (client.get("/api/v1/throttled"), 429),
        "page 500": (client.get("/crash"), 500),
        "api 500": (client.get("/api/v1/crash"), 500),
        "csrf 400": (client.post("/credentials", data={"name": "x"}), 400),
        "missing static": (client.get("/static/js/nope.js"), 404),
    }
    for where, (response, status) in answers.items():
        assert response.status_code == status, where
        assert_secure_headers(response, where)
    assert answers["page 429"][0].headers["Retry-After"] == "30"
    assert "Something went wrong on our side" in answers["page 500"][0].get_data(as_text=True)


def test_templates_can_nonce_an_inline_script_with_this_answers_nonce(app, app_with):
    app = app_with()

    @app.get("/nonced")
    def nonced():
        from flask import render_template_string

        return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>{{ csp_nonce() }}')

    response = app.test_client().get("/nonced")
    nonce = assert_secure_headers(response, "nonced")
    assert response.get_data(as_text=True) == f'<script nonce="{nonce}">1</script>{nonce}'


def test_no_template_has_inline_script_handlers_or_style_attributes():
    """What the CSP refuses must not be in a template (a browser would drop it silently)."""
    from pathlib import Path

    forbidden = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|<style|<script(?![^>]*\bsrc=)(?![^>]*type="application/json")""", re.I)
    root = Path(__file__).resolve().parents[2] / "app" / "templates"
    found = []
    for path in sorted(root.rglob("*.html")):
        text = re.sub(r"{#.*?#}", lambda comment: "\n" * comment.group().count("\n"), path.read_text(), flags=re.S)
        found += [f"{path.relative_to(root)}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                  if forbidden.search(line) and "csp_nonce()" not in line]
    assert found == []


def _log_in(client, remember: bool = False, referer: str = "http://localhost/login", **request_args):
    """Log in through the form; over https Flask-WTF wants a same-site Referer, as a browser sends."""
    page = client.get("/login", **request_args)
    request_args["headers"] = {**request_args.get("headers", {}), "Referer": referer}
    data = {"email": "owner@example.com", "password": "correct horse", "csrf_token": csrf_from(page.get_data(as_text=True))}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, **request_args)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _secure(cookie: str) -> bool:
    return "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


SPOOFED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example"}


def test_plain_http_and_spoofed_forwarded_headers_get_no_secure_cookie(app, client, make_account):
    make_account()
    plain = _cookies(_log_in(client, remember=True))
    assert set(plain) >= {"session", "remember_token"} and not any(map(_secure, plain.values()))

    spoofed = _cookies(_log_in(app.test_client(), remember=True, headers=SPOOFED))
    assert set(spoofed) >= {"session", "remember_token"} and not any(map(_secure, spoofed.values()))
    # Untrusted, X-Forwarded-For is not the client's address: a loopback caller still reads /metrics.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200


def test_https_directly_makes_every_cookie_secure(app, make_account):
    make_account()
    cookies = _cookies(_log_in(app.test_client(), remember=True, referer="https://localhost/login",
                                base_url="https://localhost"))
    assert set(cookies) >= {"session", "remember_token"} and all(map(_secure, cookies.values()))


@pytest.fixture
def app_with(stack):
    """Build a second app on the same stack with some settings changed (the way an operator sets them)."""
    from app import create_app

    made = []

    def make(**settings):
        made.append(create_app({"TESTING": True}, instance_path=str(stack.instance_path), settings_overrides=settings))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()


def test_trusted_proxy_forwarded_https_makes_cookies_secure_and_gives_the_client_address(app, app_with, make_account):
    make_account()
    trusting = app_with(trusted_proxies=1)
    forwarded = _cookies(_log_in(trusting.test_client(), remember=True, referer="https://evil.example/login",
                                headers=SPOOFED))
    assert set(forwarded) >= {"session", "remember_token"} and all(map(_secure, forwarded.values()))
    plain = _cookies(_log_in(trusting.test_client(), headers={"X-Forwarded-Proto": "http"}))
    assert not _secure(plain["session"])
    # The forwarded address is now the client's: metrics (loopback only) refuse a remote one.
    client = trusting.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics").status_code == 200


def test_https_public_base_url_forces_secure_even_on_plain_http(app, app_with, make_account):
    make_account()
    forced = app_with(public_base_url="https://switchboard.example.com")
    cookies = _cookies(_log_in(forced.test_client(), remember=True))
    assert all(map(_secure, cookies.values()))


def test_trusted_proxies_must_be_a_whole_number(tmp_path):
    from app.config import ConfigError, Settings

    assert Settings.from_env(tmp_path, {"SECRET_KEY": "k", "TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be an integer"):
        Settings.from_env(tmp_path, {"SECRET_KEY": "k", "TRUSTED_PROXIES": "yes"})


@pytest.fixture
def real_server(stack):
    """Start gunicorn the way the README deploys it (with app.processes.gunicorn_conf); yields a starter."""
    import subprocess
    import sys

    from app.processes.children import free_port, stop_processes, wait_healthy
    from tests.conftest import ROOT

    started = []

    def start(**env) -> str:
        port = free_port()
        started.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:app.processes.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env={**stack.env, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=60, children=started[-1:])
        return f"http://127.0.0.1:{port}"

    yield start
    stop_processes(started, grace_seconds=10)


def _session_cookie(base: str, headers: dict) -> str:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(f"{base}/login", headers=headers), timeout=30) as response:
        return next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("session="))


def test_the_deployed_server_believes_forwarded_https_only_with_trusted_proxies(app, real_server):
    """Gunicorn itself trusts X-Forwarded-Proto from loopback by default; TRUSTED_PROXIES must be the only switch."""
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}
    untrusting = real_server()
    assert not _secure(_session_cookie(untrusting, https))
    trusting = real_server(TRUSTED_PROXIES="1")
    assert _secure(_session_cookie(trusting, {"X-Forwarded-Proto": "https"}))
    assert not _secure(_session_cookie(trusting, {}))
