"""The web server at its edges, against the real gunicorn server: a refused body, a locked database.

A 413 must leave the connection usable (it says keep-alive); a SQLite database locked by another
process must give a quick 503 with Retry-After while /healthz keeps answering and /readyz names
the database, and everything must work again once the lock goes.
"""

from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, local_path

LIMIT = 1024 * 1024  # MAX_BODY_BYTES's default, which the live server runs with


def _connection(live_server: str) -> http.client.HTTPConnection:
    address = urlsplit(live_server)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=60)


@pytest.mark.parametrize("path", ["/hooks/nobody/nothing", "/api/v1/flows", "/v1/chat/completions", "/login"])
@pytest.mark.parametrize("excess", [1, 70 * 1024, LIMIT])
def test_after_a_413_the_same_connection_serves_the_next_request(live_server, path, excess):
    connection = _connection(live_server)
    try:
        connection.request("POST", path, body=b"x" * (LIMIT + excess), headers={"Content-Type": "application/json"})
        refused = connection.getresponse()
        refused.read()
        assert refused.status == 413
        assert refused.getheader("Connection", "").lower() == "keep-alive"
        sock = connection.sock
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        assert answer.status == 200 and answer.read() == b'{"status":"ok"}\n'
        assert connection.sock is sock, "the server closed a connection it said it would keep"
    finally:
        connection.close()


def _call(live_server: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request on its own connection: (status, headers, body, seconds taken)."""
    connection = _connection(live_server)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read(), time.monotonic() - started
    finally:
        connection.close()


class _in_parallel:
    """Run `call` in `count` threads at once; `wait()` returns their results."""

    def __init__(self, call, count: int):
        self.results: list = []
        self.threads = [threading.Thread(target=lambda: self.results.append(call())) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def wait(self) -> list:
        for thread in self.threads:
            thread.join(timeout=90)
        assert len(self.results) == len(self.threads), "a request never answered"
        return self.results


def test_a_database_locked_by_another_process_gets_a_quick_503_and_health_keeps_answering(
        stack, live_server, client, api_key):
    if stack.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL takes concurrent writers itself")
    flow = client.post("/api/v1/flows", json={"document": echo_flow(key="locked", wait_for_response=False)},
                       headers=bearer(api_key)).json
    trigger = next(t for t in flow["triggers"] if t["type"] == "api_trigger")
    path, auth = local_path(trigger["url"]), {**bearer(flow["secrets"][trigger["node_id"]]),
                                              "Content-Type": "application/json"}
    body = b'{"user_message": "while locked"}'
    assert _call(live_server, "POST", path, body, auth)[0] == 202  # warm: the trigger works before the lock

    locker = sqlite3.connect(stack.instance_path / "test.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        answers = _in_parallel(lambda: _call(live_server, "POST", path, body, auth), 3)
        health = _call(live_server, "GET", "/healthz")
        assert health[0] == 200 and health[3] < 1.0, health
        ready = _call(live_server, "GET", "/readyz")
        assert ready[0] == 503 and ready[3] < 3.0 and b"database" in ready[2], ready
        flood = _in_parallel(lambda: _call(live_server, "POST", path, body, auth), 8)  # twice the server's threads
        results = answers.wait() + flood.wait()
        for status, headers, text, seconds in results:
            assert status == 503 and headers.get("Retry-After"), (status, text)
            assert b"database" in text and seconds < 12, (text, seconds)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert _call(live_server, "GET", "/readyz")[0] == 200
    assert _call(live_server, "POST", path, body, auth)[0] == 202
