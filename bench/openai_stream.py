"""Benchmark the OpenAI-compatible endpoint: time to the first streamed token, and whole answers.

Usage: .venv/bin/python bench/openai_stream.py [--requests 40] [--token-delay-ms 20] [--tokens 20]

Starts the stack as `stack_bench` does (redis-server, gunicorn 2×8, two workers, the scheduler;
SQLite), plus a stand-in OpenAI-compatible provider on loopback that streams `--tokens` tokens
`--token-delay-ms` apart after a 0 ms think time. Two models are measured, one request at a time:
- `switchboard-assistant` (the shipped example, no LLM node): the reply arrives as one chunk;
- `bench-llm` (start → LLM node on the stand-in → reply): tokens stream from the provider
  through the worker, the run's Redis event stream and the SSE answer.
For each: time to the first content chunk (p50, p95), time to [DONE], and a non-streamed
completion's latency. The provider's own first token is sent at once, so "first token" is our
overhead: accept and commit the run, queue, worker claim, the LLM node's connection, the event
stream, and the web process's read. Prints a markdown table.

Why importable functions: `stack_bench` measures the same two models against the stack its REST
rows ran on (no second start-up), with `start_provider`, `seed_flows` and `measure`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appdata import BenchApp  # noqa: E402  (bench/ is on sys.path as the script's folder)
from stack import Stack  # noqa: E402

EXAMPLE = ROOT / "flows" / "examples" / "openai_assistant.json"


class Provider(BaseHTTPRequestHandler):
    """A stand-in chat-completions provider that streams fixed tokens at a fixed pace."""

    protocol_version = "HTTP/1.1"
    tokens, delay = 20, 0.02

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        words = [f"word{i} " for i in range(self.tokens)]
        if not body.get("stream"):
            answer = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(words)},
                                   "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 5, "completion_tokens": self.tokens, "total_tokens": 5 + self.tokens}}
            raw = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for index, word in enumerate(words):
            if index:
                time.sleep(self.delay)
            chunk = {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": self.tokens,
                                          "total_tokens": 5 + self.tokens}}
        self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()
        self.close_connection = True


def llm_flow(provider_url: str) -> dict:
    return {"schema_version": 1, "name": "Bench LLM", "nodes": [
        {"id": "openai", "type": "openai_trigger", "config": {"key": "bench-llm"}, "position": {"x": 0, "y": 0}},
        {"id": "start", "type": "start", "position": {"x": 200, "y": 0}, "config": {
            "message_input": "message", "inputs": [{"name": "message", "type": "string", "required": True}]}},
        {"id": "llm", "type": "llm", "position": {"x": 400, "y": 0}, "config": {
            "base_url": provider_url, "model": "bench", "stream": True,
            "messages": [{"role": "user", "content": "{{ inputs.message }}"}]}},
        {"id": "reply", "type": "reply", "position": {"x": 600, "y": 0}, "config": {"text": "{{ nodes.llm.text }}"}},
    ], "edges": [
        {"id": "e1", "source": "openai", "source_port": "out", "target": "start", "target_port": "in"},
        {"id": "e2", "source": "start", "source_port": "out", "target": "llm", "target_port": "in"},
        {"id": "e3", "source": "llm", "source_port": "out", "target": "reply", "target_port": "in"},
    ]}


def chat(base: str, token: str, model: str, stream: bool) -> tuple[float | None, float]:
    """Send one chat request; return (seconds to the first content chunk, seconds to the end)."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    body = json.dumps({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hello there"}]})
    started = time.perf_counter()
    connection.request("POST", "/v1/chat/completions", body=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{model}: HTTP {response.status} {response.read()[:300]!r}")
    first = None
    if not stream:
        json.loads(response.read())
        return None, time.perf_counter() - started
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            break
        event = json.loads(line[6:])
        if "error" in event:
            raise RuntimeError(f"{model}: {event['error']}")
        if first is None and event.get("choices") and event["choices"][0]["delta"].get("content"):
            first = time.perf_counter() - started
    connection.close()
    return first, time.perf_counter() - started


MODELS = ("switchboard-assistant", "bench-llm")  # the no-LLM example, then start → LLM node → reply
WARMUP_REQUESTS = 3  # per model: imports, connections, caches


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def start_provider(tokens: int, delay_seconds: float) -> tuple[ThreadingHTTPServer, str]:
    """Serve the stand-in provider on a free loopback port in a daemon thread; returns it and its /v1 URL.

    Stop it with `server.shutdown()`. The pace is class-wide: one provider per process.
    """
    Provider.tokens, Provider.delay = tokens, delay_seconds
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def allow_provider(env: dict) -> None:
    """Let the LLM node reach the stand-in on loopback (blocked by default, as it should be in production)."""
    env["HTTP_NODE_ALLOWED_NETWORKS"] = "127.0.0.1/32"


def seed_flows(bench: BenchApp, provider_url: str) -> None:
    """Publish both models' flows in workspace "Bench" (its API keys may call them)."""
    from app.extensions import db
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace

    with bench.app.app_context():
        workspace = get_or_create_workspace("Bench")
        publishing.create_flow(workspace, json.loads(EXAMPLE.read_text()), None)
        publishing.create_flow(workspace, llm_flow(provider_url), None)
        db.session.commit()


def seed(bench: BenchApp, provider_url: str) -> str:
    """Both flows and an API key of workspace "Bench"; returns the key."""
    from app.extensions import db
    from app.services.workspaces.accounts import get_or_create_workspace
    from app.services.workspaces.api_keys import create_api_key

    seed_flows(bench, provider_url)
    with bench.app.app_context():
        _, token = create_api_key(get_or_create_workspace("Bench"), "bench")
        db.session.commit()
    return token


def wait_up(base: str, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chat(base, token, "switchboard-assistant", False)
            return
        except (OSError, RuntimeError):
            time.sleep(0.2)
    raise RuntimeError("the stack did not answer")


def measure(base: str, token: str, model: str, requests: int, non_streamed: bool = True,
            warmup: int = WARMUP_REQUESTS) -> dict[str, list[float]]:
    """`warmup` unmeasured requests, then `requests` streamed (and optionally as many non-streamed), one at a time.

    Returns seconds per request: "first" (first content chunk), "end" ([DONE]) and "whole"
    (non-streamed answers; empty when `non_streamed` is False).
    """
    for _ in range(warmup):
        chat(base, token, model, True)
    streamed = [chat(base, token, model, True) for _ in range(requests)]
    whole = [chat(base, token, model, False)[1] for _ in range(requests)] if non_streamed else []
    if any(first is None for first, _ in streamed):
        raise RuntimeError(f"{model}: a streamed answer had no content chunk")
    return {"first": [s[0] for s in streamed], "end": [s[1] for s in streamed], "whole": whole}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="measured requests per model and kind")
    parser.add_argument("--tokens", type=int, default=20, help="tokens the stand-in provider streams")
    parser.add_argument("--token-delay-ms", type=float, default=20, help="pause between the provider's tokens")
    args = parser.parse_args(argv)
    provider, provider_url = start_provider(args.tokens, args.token_delay_ms / 1000)
    with tempfile.TemporaryDirectory(prefix="sb-openai-bench-") as workdir:
        stack = Stack(Path(workdir), f"sqlite:///{Path(workdir) / 'bench.db'}")
        allow_provider(stack.env)
        try:
            stack.start_redis()
            stack.migrate()
            bench = BenchApp(stack.env)
            token = seed(bench, provider_url)
            stack.start_services()
            stack.wait_workers_listening()
            wait_up(stack.base_url, token)
            results = {model: measure(stack.base_url, token, model, args.requests) for model in MODELS}
        finally:
            stack.stop()
            provider.shutdown()
    print_table(results, args)
    return 0


def print_table(results: dict, args) -> None:
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    print(f"\n{args.requests} requests per row, one at a time; stand-in provider: {args.tokens} tokens, "
          f"{args.token_delay_ms:g} ms apart\n")
    print("| model | first content chunk p50 | p95 | streamed to [DONE] p50 | non-streamed p50 | p95 |")
    print("|---|---|---|---|---|---|")
    for model, got in results.items():
        firsts, ends, whole = got["first"], got["end"], got["whole"]
        print(f"| {model} | {ms(statistics.median(firsts))} | {ms(percentile(firsts, 0.95))} | "
              f"{ms(statistics.median(ends))} | {ms(statistics.median(whole))} | {ms(percentile(whole, 0.95))} |")


if __name__ == "__main__":
    raise SystemExit(main())
