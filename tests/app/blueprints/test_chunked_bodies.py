"""A chunked body (no Content-Length) over MAX_BODY_BYTES is a 413, as one with a Content-Length is.

Werkzeug used to stop reading such a body at the limit and report its end, so each endpoint
parsed the first MiB and answered 400 invalid_json ("Unterminated string…") about a body the
caller never sent. Checked with the test client (which streams a body as a server that ends
chunked bodies itself does) at every body-taking endpoint, and against the real gunicorn server.
"""

from __future__ import annotations

import http.client
import io
import json
from urllib.parse import urlsplit

import pytest

from tests.app.body_endpoints import body_endpoints
from tests.app.trigger_helpers import run_rows

LIVE_LIMIT = 1024 * 1024  # MAX_BODY_BYTES's default, which the live server runs with


def _padded(endpoint, size: int) -> bytes:
    """The endpoint's body with a good value, padded with spaces (still the same JSON) to `size` bytes."""
    body = endpoint.body('"hi there"')
    return body + b" " * (size - len(body))


def _send_chunked(client, endpoint, body: bytes):
    """Send `body` with no Content-Length, the way a WSGI server hands over a chunked request."""
    return client.open(endpoint.path, method=endpoint.method, input_stream=io.BytesIO(body),
                       headers={**endpoint.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


@pytest.fixture
def endpoints(client, api_key):
    return body_endpoints(client, api_key)


def test_an_over_limit_chunked_body_is_413_at_every_body_endpoint(client, app, endpoints):
    limit = app.config["MAX_CONTENT_LENGTH"]
    runs_before = len(run_rows(app))
    for endpoint in endpoints:
        for excess in (1, 70 * 1024):
            answer = _send_chunked(client, endpoint, endpoint.body('"' + "x" * (limit + excess) + '"'))
            assert answer.status_code == 413, (endpoint.path, answer.get_data(as_text=True)[:300])
            assert answer.json["error"]["code"] == "body_too_large", endpoint.path
    assert len(run_rows(app)) == runs_before


def test_a_chunked_body_of_exactly_the_limit_is_read_whole(client, app, endpoints):
    limit = app.config["MAX_CONTENT_LENGTH"]
    hook, chat = endpoints[0], endpoints[-1]
    answer = _send_chunked(client, hook, _padded(hook, limit))
    assert answer.status_code == 200 and "hi there" in str(answer.json["output"]), answer.json
    answer = _send_chunked(client, chat, _padded(chat, limit))
    assert answer.status_code == 200 and answer.json["choices"][0]["message"]["content"] == "hi there", answer.json


def _chunked_over_gunicorn(live_server: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    address = urlsplit(live_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        pieces = (body[start:start + 64 * 1024] for start in range(0, len(body), 64 * 1024))
        connection.request("POST", path, body=pieces, encode_chunked=True,
                           headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("which", ["hook", "validate", "chat"])
def test_gunicorn_answers_413_to_an_over_limit_chunked_body(client, app, endpoints, live_server, which):
    endpoint = {"hook": endpoints[0], "chat": endpoints[-1],
                "validate": next(e for e in endpoints if e.path == "/api/v1/flows/validate")}[which]
    status, answer = _chunked_over_gunicorn(live_server, endpoint.path, endpoint.body('"' + "x" * LIVE_LIMIT + '"'),
                                            endpoint.headers)
    assert status == 413 and answer["error"]["code"] == "body_too_large", answer
    status, answer = _chunked_over_gunicorn(live_server, endpoint.path, _padded(endpoint, 4096), endpoint.headers)
    assert status in (200, 400) and answer.get("error", {}).get("code") != "body_too_large", answer
