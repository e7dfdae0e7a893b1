"""Stand-in third parties as real HTTP servers on loopback: an OpenAI-compatible provider and a web service.

Nothing is mocked in-process: the LLM and HTTP request nodes (in the test process or in a
real worker process) connect to these servers over TCP, exactly as they would to a provider.
Each server records the requests it received so tests can check what was sent.

The provider's behaviour is chosen by the model name: ``echo`` (answers with the last user
message and the number of messages), ``slow`` (waits before answering), ``error-401``,
``error-500``, ``bad-json``, ``stream-garbage`` and ``repeat-key`` (answers with the API key it was
sent, raw and percent-encoded, streamed three characters at a time so the key is split over
pieces). Streaming follows OpenAI's SSE format.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import quote


class Recorder:
    """Keep every request a stub received (method, path, headers, parsed body)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def add(self, request: dict) -> None:
        with self.lock:
            self.requests.append(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    recorder: Recorder

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _read(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body,
                   "raw": raw.decode("utf-8", "replace")}
        self.recorder.add(request)
        return request

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: object, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), headers=headers)


class ProviderHandler(_Handler):
    """POST /v1/chat/completions, OpenAI-style."""

    def do_POST(self) -> None:  # noqa: N802
        request = self._read()
        body = request["body"] if isinstance(request["body"], dict) else {}
        model = body.get("model", "")
        if not self.path.endswith("/chat/completions"):
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        if model == "error-401":
            return self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        if model == "error-500":
            return self._json(500, {"error": {"message": "The server had an error"}})
        if model == "bad-json":
            return self._send(200, b"<html>gateway says hi</html>", "text/html")
        if model == "slow":
            time.sleep(3)
        messages = body.get("messages") or []
        last_user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        answer = f"echo: {last_user} ({len(messages)} messages)"
        pieces = [word + " " for word in answer.split(" ")]
        if model == "repeat-key":
            key = request["headers"].get("Authorization", "").split(" ", 1)[-1]
            answer = f"Your key is {key}; sent on, it reads {quote(key, safe='')}. Done."
            pieces = [answer[i:i + 3] for i in range(0, len(answer), 3)]
        usage = {"prompt_tokens": 10 * len(messages), "completion_tokens": len(answer.split()),
                 "total_tokens": 10 * len(messages) + len(answer.split())}
        if not body.get("stream"):
            return self._json(200, {"id": "cmpl-1", "object": "chat.completion", "model": model, "usage": usage,
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": answer}}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if model == "stream-garbage":
            self.wfile.write(b"data: {not json\n\n")
            self.wfile.flush()
            return
        for piece in pieces:
            chunk = {"model": model, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        final = {"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            self.wfile.write(f"data: {json.dumps({'model': model, 'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class ServiceHandler(_Handler):
    """A small web service: /status/<name>, /echo, /fail/<code>, /redirect?to=..., /slow?seconds=, /odd-json, /big, /flaky."""

    flaky_calls = 0

    def do_GET(self) -> None:  # noqa: N802
        self._route(self._read())

    def do_POST(self) -> None:  # noqa: N802
        self._route(self._read())

    def _route(self, request: dict) -> None:
        path, _, query = self.path.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        if path.startswith("/status/"):
            name = path.split("/")[-1]
            return self._json(200, {"service": name, "state": "degraded" if name == "db" else "ok"})
        if path == "/echo":
            return self._json(200, {"method": request["method"], "headers": request["headers"], "body": request["body"],
                                    "query": params})
        if path == "/echo-encoded":  # the credential headers back, as servers tend to: encoded in many ways
            return self._json(int(params.get("status", "200")), _encoded_echo(request["headers"]))
        if path.startswith("/fail/"):
            return self._json(int(path.split("/")[-1]), {"error": "it broke"})
        if path == "/redirect":
            from urllib.parse import unquote
            self.send_response(302)
            self.send_header("Location", unquote(params.get("to", "/echo")))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == "/slow":  # a step that takes a while, e.g. to cancel a run or stop a worker during it
            time.sleep(float(params.get("seconds", "2")))
            return self._json(200, {"text": "slow done"})
        if path == "/odd-json":  # valid JSON that no database column can keep as it is: NUL, lone surrogates
            return self._send(200, b'{"nul": "a\\u0000b", "lone": "x\\ud800y", "key\\u0000": "\\udfff", "ok": "fine"}')
        if path == "/big":
            return self._send(200, b"x" * 5000, "text/plain")
        if path == "/flaky":  # fails twice, then answers
            type(self).flaky_calls += 1
            if type(self).flaky_calls <= 2:
                return self._json(503, {"error": "try again"})
            return self._json(200, {"calls": type(self).flaky_calls})
        return self._json(404, {"error": "not found"})


def _encoded_echo(headers: dict) -> dict:
    """Return each credential-looking header value percent-encoded, JSON-escaped and base64-encoded."""
    import base64
    from urllib.parse import quote, quote_plus

    echoed = {}
    for name, value in headers.items():
        if name.lower() in ("authorization", "x-api-key", "x-custom-key", "x-token"):
            token = value.split(" ", 1)[-1]
            echoed[name] = {"url": quote(value, safe=""), "url_lower": quote(value, safe="").lower(),
                            "form": quote_plus(value), "json_u": "".join(f"\\u{ord(c):04x}" for c in value),
                            "b64": base64.b64encode(value.encode()).decode(),
                            "b64url": base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
                            "decoded": base64.b64decode(token + "==").decode("latin-1") if name == "Authorization"
                            and value.startswith("Basic ") else None,
                            "text": f"redirect to /login?next=%2F&token={quote(token, safe='')}"}
    return echoed


class _QuietServer(ThreadingHTTPServer):
    """Ignore clients that hang up early (a node's timeout or size cap did its job)."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class StubServer:
    """A threaded HTTP server on 127.0.0.1 (or another loopback `host`) with a random port."""

    def __init__(self, handler: type[_Handler], host: str = "127.0.0.1"):
        self.recorder = Recorder()
        handler_class = type(handler.__name__, (handler,), {"recorder": self.recorder, "flaky_calls": 0})
        self.server = _QuietServer((host, 0), handler_class)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[dict]:
        return self.recorder.requests

    def __enter__(self) -> "StubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def provider() -> Iterator[StubServer]:
    with StubServer(ProviderHandler) as server:
        yield server


@contextmanager
def service(host: str = "127.0.0.1") -> Iterator[StubServer]:
    with StubServer(ServiceHandler, host) as server:
        yield server
