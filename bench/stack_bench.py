"""Benchmark the whole stack as it runs in production on one machine, on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/stack_bench.py [--rounds 3] [--backlog 10000] [--duration 5]
           [--backlog-rounds N] [--backends sqlite,postgres] [--only stack,stream,schedule,canvas] [--skip PARTS]
           [--stream-requests 20] [--schedules 200] [--schedule-seconds 60]
           [--schedule-warmup 10] [--canvas-nodes 200]
(`make bench` runs it with the defaults; pass options as `make bench BENCH_ARGS='...'`.)
With --compare COMMIT it measures that commit and this checkout interleaved instead and prints ratios
against issue 19's goals: see bench/compare.py (`make bench COMPARE=6ab82bb` is the short form).

For each backend it starts a real redis-server, migrates, seeds a workspace with the example
flow (REST trigger "ops-status", waits for the answer) and an async copy ("ops-async", answers
202), then starts gunicorn (2 workers × 8 threads), 2 RQ workers and the scheduler, and
measures, on that one stack, part by part:
- stack: start-up to the first correct answer (the services restart each round), REST trigger
  latency and throughput and async acceptance and drain (wrk), each process's memory, and how
  fast 1 and 2 fresh workers drain a backlog of --backlog queued runs (--backlog-rounds times,
  by default --rounds: at 10 000 runs this is most of the run's time, ~2 min a round on SQLite
  and more on PostgreSQL, so `--backlog-rounds 1` is the quick way to a shorter run);
- stream: the OpenAI-compatible endpoint's first streamed content chunk (p50, p95) for the
  no-LLM example model `switchboard-assistant` and for `bench-llm` (an LLM node calling a
  stand-in provider on loopback; see bench/openai_stream.py), --stream-requests per model and
  round, one at a time;
- schedule: last on the stack, --schedules schedule triggers (each every 60 s, fires spread
  evenly) and the lag from the planned fire to the run committed and to the run started
  (median, p99) over one --schedule-seconds window after --schedule-warmup seconds (see
  bench/schedule_lag.py for the longer standalone version);
- canvas: once, on the first backend's web server (a browser measure, not a backend one): the
  page load and every node drawn for a --canvas-nodes flow in Chromium, one load per round.
  It needs the playwright package (requirements-dev.txt: run `make test` once) and Chromium;
  without them the table says so instead.
--only keeps the named parts, --skip drops them (comma-separated: stack,stream,schedule,canvas).

PostgreSQL runs only when postgresql://postgres@127.0.0.1:5432/postgres answers; it uses its own
database "switchboard_bench", created and dropped here. Prints one markdown table (median of the
rounds, min–max in brackets, the issue's targets marked) and writes it to
bench/results/latest.md (raw values in latest.json).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import later_rows  # bench/ is on sys.path as the script's folder
import openai_stream
import options
import report
import wrk
from options import TITLES
from stack import Stack, first_answer, machine_busy, postgres_available, recreate_postgres_database, say, wait_drained

MB = 1_000_000


class BackendBench:
    """All measurements of one backend; values land in `self.values` as they are taken."""

    def __init__(self, name: str, args, wrk_path: str | None, notes: list[str], provider_url: str | None = None,
                 canvas: bool = False):
        self.name, self.args, self.wrk_path, self.notes = name, args, wrk_path, notes
        self.provider_url, self.canvas = provider_url, canvas  # the stand-in LLM provider; measure the canvas here
        self.values: dict[str, object] = {}
        self.stack: Stack | None = None
        self.data = None
        self.failed = False

    def note(self, text: str) -> None:
        self.notes.append(f"{TITLES[self.name]}: {text}")
        say(f"{self.name}: note: {text}")

    def run(self) -> None:
        """The parts in an order that keeps them apart: the schedules fire until the stack stops, so last."""
        from appdata import EXPECTED_TEXT, BenchApp

        parts = self.args.parts
        workdir = Path(tempfile.mkdtemp(prefix=f"switchboard-bench-{self.name}-"))
        try:
            database_url = (recreate_postgres_database() if self.name == "postgres"
                            else f"sqlite:///{workdir / 'switchboard.db'}")
            self.stack = stack = Stack(workdir, database_url)
            if "stream" in parts:
                later_rows.prepare_stream(stack.env)
            stack.start_redis()
            stack.migrate()
            self.data = data = BenchApp(stack.env)
            data.seed()
            if "stream" in parts:
                later_rows.seed_stream(data, self.provider_url)
            canvas_flow = later_rows.seed_canvas(data, self.args.canvas_nodes) if self.canvas else None
            wait_url = data.hook_url(stack.base_url, "ops-status")
            starts = []
            for round_no in range(self.args.rounds if "stack" in parts else 1):
                if round_no:
                    stack.stop_services()
                began = time.monotonic()
                stack.start_services(workers=2)
                first_answer(wait_url, data.token, EXPECTED_TEXT)
                starts.append(time.monotonic() - began)
                say(f"{self.name}: start → first correct answer {starts[-1]:.2f} s")
            self.values["start"] = starts
            stack.wait_workers_listening()
            if "stack" in parts:
                time.sleep(1)
                idle = stack.memory()
                self.load_rows(wait_url, data.hook_url(stack.base_url, "ops-async"))
                self.record_memory(idle, stack.memory())
            if "stream" in parts:
                self.later("streaming rows", lambda: later_rows.stream_values(
                    stack.base_url, data.token, self.args.rounds, self.args.stream_requests))
            if canvas_flow:
                self.later("canvas rows", lambda: later_rows.canvas_values(
                    stack.base_url, canvas_flow, self.args.canvas_nodes, self.args.rounds))
            if "stack" in parts:
                self.backlog_rows()
            if "schedule" in parts:
                self.later("schedule rows", lambda: later_rows.schedule_values(
                    stack, data, self.args.schedules, self.args.schedule_warmup, self.args.schedule_seconds))
                runs = self.values.get("schedule_runs", "")
                if runs and runs.split(" of ")[0] != runs.split(" of ")[1]:
                    self.note(f"schedule rows: {runs} planned fires had a run (each should have exactly one)")
        finally:
            self.close(workdir)

    def later(self, label: str, measure) -> None:
        """Measure one of the later parts; a failure is noted and fails the run, the other parts go on."""
        began = time.monotonic()
        try:
            self.values.update(measure())
            say(f"{self.name}: {label} measured in {time.monotonic() - began:.0f} s")
        except Exception as exc:  # noqa: BLE001  (report it with what was measured)
            self.failed = True
            self.note(f"{label} failed: {type(exc).__name__}: {exc}")

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
        for _ in range(self.args.backlog_rounds or self.args.rounds):
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


def measure_backends(args, wrk_path: str | None, notes: list[str], provider_url: str | None,
                     canvas_wanted: bool) -> tuple[dict, str | None, bool]:
    """Run every backend's bench; returns the values per backend title, where the canvas ran, and failure."""
    results, canvas_title = {}, None
    backends = args.backends if canvas_wanted or set(args.parts) - {"canvas"} else []  # else nothing to measure
    failed = not backends
    for name in backends:
        if name == "postgres" and (why := postgres_available()):
            notes.append(f"PostgreSQL skipped: postgresql://postgres@127.0.0.1:5432/postgres unavailable ({why})")
            say(notes[-1])
            continue
        say(f"{name}: starting ({', '.join(args.parts)})")
        canvas_here = canvas_wanted and canvas_title is None
        canvas_title = TITLES[name] if canvas_here else canvas_title
        bench = BackendBench(name, args, wrk_path, notes, provider_url, canvas=canvas_here)
        try:
            bench.run()
        except Exception as exc:  # noqa: BLE001  (report what was measured, then fail)
            failed = True
            notes.append(f"{TITLES[name]}: stopped early: {type(exc).__name__}: {exc}")
            say(notes[-1])
        failed = failed or bench.failed
        results[TITLES[name]] = bench.values
    return results, canvas_title, failed


def write_report(args, header: list[str], results: dict, notes: list[str]) -> None:
    """Print the table and keep it (and the raw values) in bench/results/latest.{md,json}."""
    labels = report.Labels(schedules=args.schedules, schedule_seconds=args.schedule_seconds,
                           canvas_nodes=args.canvas_nodes)
    text = "\n".join([
        *header,
        "",
        report.table(results, args.backlog, labels) if results else "(nothing measured)",
        *([""] + [f"- {note}" for note in notes] if notes else []),
    ])
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    (out / "latest.json").write_text(json.dumps({"header": "\n".join(header), "backlog": args.backlog,
                                                 "parts": args.parts, "results": results, "notes": notes},
                                                indent=1, default=str) + "\n")
    print("\n" + text, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(arg == "--compare" or arg.startswith("--compare=") for arg in argv):
        import compare  # two commits interleaved, as ratios: its own options and table

        return compare.main(argv)
    args = options.parse_args(argv, __doc__.splitlines()[0])
    wrk_path = wrk.ensure_wrk() if "stack" in args.parts else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop children, remove temp
    import logging

    logging.basicConfig(level=logging.WARNING)  # before create_app, so the in-process app logs quietly
    busy = machine_busy()
    began, version = time.monotonic(), options.code_version()
    notes: list[str] = []
    canvas_wanted = "canvas" in args.parts
    if canvas_wanted and (why := later_rows.canvas_unavailable()):
        notes.append(f"Canvas rows not measured: {why}.")
        say(notes[-1])
        canvas_wanted = False
    provider, provider_url = (openai_stream.start_provider(openai_stream.Provider.tokens, openai_stream.Provider.delay)
                              if "stream" in args.parts else (None, None))
    try:
        results, canvas_title, failed = measure_backends(args, wrk_path, notes, provider_url, canvas_wanted)
    finally:
        if provider:
            provider.shutdown()
    notes[:0] = options.part_notes(args, canvas_title)
    if options.code_version() != version:
        notes.append(f"the code changed during the run (now {options.code_version()}): figures mix two versions")
    minutes = (time.monotonic() - began) / 60
    write_report(args, options.header(args, argv, version, busy, minutes), results, notes)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
