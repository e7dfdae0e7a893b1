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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--token-delay-ms", type=float, default=20)
    args = parser.parse_args()
    Provider.tokens, Provider.delay = args.tokens, args.token_delay_ms / 1000
    provider = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    provider_url = f"http://127.0.0.1:{provider.server_address[1]}/v1"

    with tempfile.TemporaryDirectory(prefix="sb-openai-bench-") as workdir:
        stack = Stack(Path(workdir), f"sqlite:///{Path(workdir) / 'bench.db'}")
        stack.env["HTTP_NODE_ALLOWED_NETWORKS"] = "127.0.0.1/32"
        try:
            stack.start_redis()
            stack.migrate()
            bench = BenchApp(stack.env)
            token = seed(bench, provider_url)
            stack.start_services()
            stack.wait_workers_listening()
            wait_up(stack.base_url, token)
            results = {}
            for model in ("switchboard-assistant", "bench-llm"):
                for _ in range(3):  # warm-up: imports, connections, caches
                    chat(stack.base_url, token, model, True)
                streamed = [chat(stack.base_url, token, model, True) for _ in range(args.requests)]
                whole = [chat(stack.base_url, token, model, False)[1] for _ in range(args.requests)]
                results[model] = ([s[0] for s in streamed], [s[1] for s in streamed], whole)
        finally:
            stack.stop()
            provider.shutdown()
    print_table(results, args)


def seed(bench: BenchApp, provider_url: str) -> str:
    from app.extensions import db
    from app.services import publishing
    from app.services.accounts import get_or_create_workspace
    from app.services.api_keys import create_api_key

    with bench.app.app_context():
        workspace = get_or_create_workspace("Bench")
        publishing.create_flow(workspace, json.loads(EXAMPLE.read_text()), None)
        publishing.create_flow(workspace, llm_flow(provider_url), None)
        _, token = create_api_key(workspace, "bench")
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


def print_table(results: dict, args) -> None:
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    print(f"\n{args.requests} requests per row, one at a time; stand-in provider: {args.tokens} tokens, "
          f"{args.token_delay_ms:g} ms apart\n")
    print("| model | first content chunk p50 | p95 | streamed to [DONE] p50 | non-streamed p50 | p95 |")
    print("|---|---|---|---|---|---|")
    for model, (firsts, ends, whole) in results.items():
        print(f"| {model} | {ms(statistics.median(firsts))} | {ms(percentile(firsts, 0.95))} | "
              f"{ms(statistics.median(ends))} | {ms(statistics.median(whole))} | {ms(percentile(whole, 0.95))} |")


if __name__ == "__main__":
    main()
