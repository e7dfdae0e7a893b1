"""Benchmark the whole stack as it runs in production on one machine, on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/stack_bench.py [--rounds 3] [--backlog 10000] [--duration 5]
                                             [--backends sqlite,postgres]
(`make bench` runs it with the defaults.) For each backend it starts a real redis-server,
migrates, seeds a workspace with the example flow (REST trigger "ops-status", waits for the
answer) and an async copy ("ops-async", answers 202), then starts gunicorn (2 workers × 8
threads), 2 RQ workers and the scheduler, and measures with wrk: start-up to the first correct
answer, REST trigger latency and throughput, async acceptance and drain, how fast 1 and 2
workers drain a backlog, and each process's memory. PostgreSQL runs only when
postgresql://postgres@127.0.0.1:5432/postgres answers; it uses its own database
"switchboard_bench", created and dropped here. Prints one markdown table (median of the rounds,
min–max in brackets, the issue's targets marked) and writes it to bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import report  # bench/ is on sys.path as the script's folder
import wrk
from stack import Stack, postgres_available, recreate_postgres_database

TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
MB = 1_000_000


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def first_answer(url: str, token: str, expected_text: str, timeout: float = 90) -> None:
    """POST until the trigger answers 200 with a succeeded run and the expected text."""
    body = json.dumps({"user_message": "what is the status of db?", "service": "db"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=40) as response:
                answer = json.load(response)
            if answer.get("status") == "succeeded" and (answer.get("output") or {}).get("text") == expected_text:
                return
            raise RuntimeError(f"the trigger answered a wrong result: {answer}")
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise RuntimeError(f"the trigger answered {exc.code}: {exc.read()[:500]!r}") from exc
        except OSError:  # not listening yet, or reset while gunicorn starts
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no correct answer from {url} within {timeout:.0f} s")


def wait_drained(data, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while data.pending():
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs still queued or running after {timeout:.0f} s")
        time.sleep(0.1)


class BackendBench:
    """All measurements of one backend; values land in `self.values` as they are taken."""

    def __init__(self, name: str, args, wrk_path: str, notes: list[str]):
        self.name, self.args, self.wrk_path, self.notes = name, args, wrk_path, notes
        self.values: dict[str, object] = {}
        self.stack: Stack | None = None
        self.data = None

    def note(self, text: str) -> None:
        self.notes.append(f"{TITLES[self.name]}: {text}")
        say(f"{self.name}: note: {text}")

    def run(self) -> None:
        from appdata import EXPECTED_TEXT, BenchApp

        workdir = Path(tempfile.mkdtemp(prefix=f"switchboard-bench-{self.name}-"))
        try:
            database_url = (recreate_postgres_database() if self.name == "postgres"
                            else f"sqlite:///{workdir / 'switchboard.db'}")
            self.stack = stack = Stack(workdir, database_url)
            stack.start_redis()
            stack.migrate()
            self.data = data = BenchApp(stack.env)
            data.seed()
            wait_url = data.hook_url(stack.base_url, "ops-status")
            starts = []
            for round_no in range(self.args.rounds):
                if round_no:
                    stack.stop_services()
                began = time.monotonic()
                stack.start_services(workers=2)
                first_answer(wait_url, data.token, EXPECTED_TEXT)
                starts.append(time.monotonic() - began)
                say(f"{self.name}: start → first correct answer {starts[-1]:.2f} s")
            self.values["start"] = starts
            stack.wait_workers_listening()
            time.sleep(1)
            idle = stack.memory()
            self.load_rows(wait_url, data.hook_url(stack.base_url, "ops-async"))
            self.record_memory(idle, stack.memory())
            self.backlog_rows()
        finally:
            self.close(workdir)

    def close(self, workdir: Path) -> None:
        for step in (lambda: self.data and self.data.close(), lambda: self.stack and self.stack.stop(),
                     lambda: self.name == "postgres" and recreate_postgres_database(drop_only=True)):
            try:
                step()
            except Exception as exc:  # noqa: BLE001  (clean up the rest regardless)
                say(f"{self.name}: clean-up step failed: {exc}")
        shutil.rmtree(workdir, ignore_errors=True)

    def _wrk(self, url: str, script: Path, threads: int, connections: int) -> tuple[wrk.WrkResult, dt.datetime]:
        """A warm-up, then the measured run; returns it with the moment it began (runs created since)."""
        from app.models.types import utcnow

        wrk.run(self.wrk_path, url, script, threads, connections, wrk.WARMUP_SECONDS)
        if self.data.pending():  # the async warm-up leaves a queue: let it drain before measuring
            wait_drained(self.data, timeout=600)
        since = utcnow()
        result = wrk.run(self.wrk_path, url, script, threads, connections, self.args.duration)
        return result, since

    def _check(self, label: str, results: list[wrk.WrkResult], since) -> None:
        bad = sum(r.non_2xx + r.socket_errors for r in results)
        if bad:
            self.note(f"{label}: {bad} non-2xx answers or socket errors in the measured runs")
        statuses = self.data.window(since)["statuses"]
        if {"queued", "running"} & set(statuses):  # a request wrk cut off committed its run after the drain
            wait_drained(self.data, timeout=120)
            statuses = self.data.window(since)["statuses"]
        if set(statuses) - {"succeeded"}:
            self.note(f"{label}: runs ended {statuses}")

    def load_rows(self, wait_url: str, async_url: str) -> None:
        from appdata import BODY

        folder = self.stack.workdir
        wait_script = wrk.write_post_script(folder, "wait", self.data.token, BODY)
        async_script = wrk.write_post_script(folder, "async", self.data.token, BODY)
        for key, threads, connections in (("c1", 1, 1), ("c16", 2, 16)):
            results, since = [], None
            for _ in range(self.args.rounds):
                result, began = self._wrk(wait_url, wait_script, threads, connections)
                results.append(result)
                since = since or began
                wait_drained(self.data, timeout=120)  # requests cut off when wrk stopped still finish
                say(f"{self.name}: wait {key}: {results[-1].rps:.0f}/s p50 {results[-1].p50_ms:.2f} ms "
                    f"p99 {results[-1].p99_ms:.2f} ms")
            self.values.update({f"{key}_rps": [r.rps for r in results], f"{key}_p50": [r.p50_ms for r in results],
                                f"{key}_p99": [r.p99_ms for r in results]})
            self._check(f"wait {key}", results, since)
        results, runs, drains, done_rates = [], [], [], []
        for _ in range(self.args.rounds):
            result, since = self._wrk(async_url, async_script, 2, 16)  # drains the warm-up first
            results.append(result)
            ended = time.monotonic()
            wait_drained(self.data, timeout=900)
            drains.append(time.monotonic() - ended)
            window = self.data.window(since)
            runs.append(window["total"])
            done_rates.append(window["total"] / (window["last_finished"] - window["first_created"]).total_seconds())
            self._check("async", results[-1:], since)
            say(f"{self.name}: async: {results[-1].rps:.0f}/s accepted, p99 {results[-1].p99_ms:.2f} ms, "
                f"{runs[-1]} runs drained {drains[-1]:.1f} s after the load, {done_rates[-1]:.0f} runs/s finished")
        self.values.update({"async_rps": [r.rps for r in results], "async_p50": [r.p50_ms for r in results],
                            "async_p99": [r.p99_ms for r in results], "async_runs": runs,
                            "async_drain": drains, "async_done_rps": done_rates})

    def backlog_rows(self) -> None:
        count = self.args.backlog
        self.stack.stop_workers()
        rates = {1: [], 2: []}
        for _ in range(self.args.rounds):
            for workers in (1, 2):
                made = time.monotonic()
                began = self.data.create_backlog(count)
                made = time.monotonic() - made
                for _ in range(workers):
                    self.stack.start_worker()
                wait_drained(self.data, timeout=max(600, count / 5))
                window = self.data.window(began)
                self.stack.stop_workers()
                if window["total"] != count or set(window["statuses"]) - {"succeeded"}:
                    self.note(f"backlog with {workers} worker(s): {window['total']} runs, {window['statuses']}")
                seconds = (window["last_finished"] - window["first_started"]).total_seconds()
                rates[workers].append(count / seconds)
                say(f"{self.name}: backlog {count} (made in {made:.1f} s), {workers} worker(s): "
                    f"{seconds:.1f} s, {rates[workers][-1]:.0f} runs/s")
        self.values.update({"backlog1": rates[1], "backlog2": rates[2],
                            "backlog_ratio": [two / one for one, two in zip(rates[1], rates[2])]})

    def record_memory(self, idle: dict, after: dict) -> None:
        for role in idle:
            self.values[f"rss_{role}"] = (idle[role][0] / MB, after.get(role, (0, 0))[0] / MB)
            self.values[f"pss_{role}"] = (idle[role][1] / MB, after.get(role, (0, 0))[1] / MB)
        self.values["rss_total"] = tuple(sum(v[0] for v in snap.values()) / MB for snap in (idle, after))
        self.values["pss_total"] = tuple(sum(v[1] for v in snap.values()) / MB for snap in (idle, after))


def code_version() -> str:
    """The commit measured, and whether app/ or flows/ differ from it (read-only git, no index refresh)."""
    import subprocess

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("diff-index", "--quiet", "HEAD", "--", "app", "flows", "worker.py", "wsgi.py").returncode
    except OSError:
        return "code version unknown (no git)"
    if head.returncode != 0:
        return "code version unknown (not a git checkout)"
    return f"commit {head.stdout.strip()}" + (" with uncommitted changes in app/flows" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measure (median reported)")
    parser.add_argument("--backlog", type=int, default=10000, help="queued runs per backlog round")
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured wrk run")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(backends) - set(TITLES)
    if unknown or args.rounds < 1 or args.backlog < 1 or args.duration <= 0:
        parser.error(f"bad option (unknown backends: {sorted(unknown)})" if unknown else "values must be positive")
    wrk_path = wrk.ensure_wrk()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop children, remove temp
    import logging

    logging.basicConfig(level=logging.WARNING)  # before create_app, so the in-process app logs quietly
    import psutil

    busy = psutil.cpu_percent(interval=2)  # the load average counts kernel threads here; CPU use does not lie
    if busy > 20:
        say(f"warning: other processes use {busy:.0f}% of the CPU; figures will be lower than on a quiet machine")
    began, version = time.monotonic(), code_version()
    results, notes, failed = {}, [], False
    for name in backends:
        if name == "postgres" and (why := postgres_available()):
            notes.append(f"PostgreSQL skipped: postgresql://postgres@127.0.0.1:5432/postgres unavailable ({why})")
            say(notes[-1])
            continue
        say(f"{name}: starting")
        bench = BackendBench(name, args, wrk_path, notes)
        try:
            bench.run()
        except Exception as exc:  # noqa: BLE001  (report what was measured, then fail)
            failed = True
            notes.append(f"{TITLES[name]}: stopped early: {type(exc).__name__}: {exc}")
            say(notes[-1])
        results[TITLES[name]] = bench.values
    minutes = (time.monotonic() - began) / 60
    if code_version() != version:
        notes.append(f"the code changed during the run (now {code_version()}): figures mix two versions")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    command = f"make bench BENCH_ARGS='{given}'" if given else "make bench"
    cores = f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})"
    text = "\n".join([
        (f"Stack benchmark, {dt.date.today().isoformat()}: {cores}, "
         f"Python {platform.python_version()}, {platform.platform()}; {version}; CPU busy before the start "
         f"{busy:.0f}%; {args.rounds} rounds, wrk "
         f"{args.duration:g} s after a {wrk.WARMUP_SECONDS} s warm-up, backlog {args.backlog}; "
         f"took {minutes:.1f} min."),
        f"Command: `{command}`",
        "",
        report.table(results, args.backlog) if results else "(no backend ran)",
        *([""] + [f"- {note}" for note in notes] if notes else []),
    ])
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    (out / "latest.json").write_text(json.dumps({"header": text.split("\n\n", 1)[0], "backlog": args.backlog,
                                                 "results": results, "notes": notes}, indent=1, default=str) + "\n")
    print("\n" + text, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
