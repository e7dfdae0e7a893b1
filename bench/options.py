"""The command line and the report header of `stack_bench`: its options, and what the table says it measured.

Why apart from stack_bench.py: the measuring itself is long enough; how a run was asked for and
how its table is described are read separately (and keep each file short).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import later_rows  # bench/ is on sys.path as the script's folder
import openai_stream
import wrk

ROOT = Path(__file__).resolve().parent.parent
TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
PARTS = ("stack", "stream", "schedule", "canvas")

# flag, type, default, help: every option of `stack_bench.py --help`.
OPTIONS = (
    ("--rounds", int, 3, "rounds per measure (median reported); also stream rounds and canvas loads"),
    ("--backlog", int, 10000, "queued runs per backlog round"),
    ("--duration", float, 5, "seconds per measured wrk run"),
    ("--backlog-rounds", int, 0, "rounds of the backlog rows, the longest part (default: --rounds)"),
    ("--backends", str, "sqlite,postgres", "comma-separated: sqlite,postgres"),
    ("--only", str, ",".join(PARTS), "comma-separated parts to run (default: all)"),
    ("--skip", str, "", "comma-separated parts to leave out"),
    ("--stream-requests", int, 20, "streamed requests per model and round, one at a time"),
    ("--schedules", int, 200, "active schedule triggers, each every 60 s"),
    ("--schedule-seconds", float, 60, "the measured window of planned fires"),
    ("--schedule-warmup", float, 10, "seconds of fires left out before the window"),
    ("--canvas-nodes", int, 200, "nodes in the flow the canvas opens"),
)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description,
                                     epilog="Parts: stack (start-up, REST, async, memory, backlog), stream (OpenAI "
                                            "endpoint first token), schedule (schedule lag), canvas (browser, once). "
                                            "--compare COMMIT measures that commit against this checkout instead, "
                                            "with its own options: `stack_bench.py --compare COMMIT --help`.")
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=text)
    args = parser.parse_args(argv)
    args.backends = _names(args.backends)
    only, skip = set(_names(args.only)), set(_names(args.skip))
    args.parts = [part for part in PARTS if part in only - skip]
    unknown = (set(args.backends) - set(TITLES)) | ((only | skip) - set(PARTS))
    if unknown:
        parser.error(f"unknown backends or parts: {sorted(unknown)}")
    if not args.parts or not args.backends:
        parser.error("nothing to run: no part or no backend left")
    numbers = (args.rounds, args.backlog, args.duration, args.stream_requests, args.schedules,
               args.schedule_seconds, args.canvas_nodes)
    if min(numbers) <= 0 or args.schedule_warmup < 0 or args.backlog_rounds < 0 or args.canvas_nodes < 2:
        parser.error("values must be positive (--canvas-nodes at least 2, --schedule-warmup may be 0)")
    return args


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


def part_notes(args, canvas_title: str | None) -> list[str]:
    """How the later rows were measured, for the reader of the table (the stack rows are in BENCHMARKS.md)."""
    notes = []
    if "stream" in args.parts:
        notes.append(f"Streaming rows: bench/openai_stream.py's two models on this stack's gunicorn, "
                     f"{args.rounds} round(s) of {args.stream_requests} streamed requests per model, one at a time, "
                     f"after {openai_stream.WARMUP_REQUESTS} warm-up requests; the stand-in provider on loopback "
                     f"streams {openai_stream.Provider.tokens} tokens {openai_stream.Provider.delay * 1000:g} ms "
                     f"apart, the first at once; p50/p95 per round, median (min–max) of the rounds. The LLM node "
                     f"may reach 127.0.0.1 for it (HTTP_NODE_ALLOWED_NETWORKS).")
    if "schedule" in args.parts:
        notes.append(f"Schedule rows: measured last, on the same stack (2 workers, the scheduler): "
                     f"{args.schedules} schedule triggers every {later_rows.SCHEDULE_INTERVAL} s with fires spread "
                     f"evenly ({args.schedules / later_rows.SCHEDULE_INTERVAL:.1f}/s); fires planned in one "
                     f"{args.schedule_seconds:g} s window after {args.schedule_warmup:g} s, so no rounds and no "
                     f"spread. `bench/schedule_lag.py` runs the longer 1000-schedule, 150 s version.")
    if canvas_title:
        notes.append(f"Canvas rows: one browser measure, not per backend, on the {canvas_title} stack's web server: "
                     f"{args.rounds} load(s) of a {args.canvas_nodes}-node flow in Chromium, median (min–max).")
    return notes


def header(args, argv: list[str] | None, version: str, busy: float, minutes: float) -> list[str]:
    """The lines above the table: the machine, the code, the options and how long it took."""
    given = " ".join(sys.argv[1:] if argv is None else argv)
    command = f"make bench BENCH_ARGS='{given}'" if given else "make bench"
    cores = f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})"
    backlog_rounds = args.backlog_rounds or args.rounds
    load = (f", wrk {args.duration:g} s after a {wrk.WARMUP_SECONDS} s warm-up, backlog {args.backlog}"
            f" ({backlog_rounds} round{'s' if backlog_rounds > 1 else ''})" if "stack" in args.parts else "")
    return [f"Stack benchmark, {dt.date.today().isoformat()}: {cores}, "
            f"Python {platform.python_version()}, {platform.platform()}; {version}; CPU busy before the start "
            f"{busy:.0f}%; parts: {', '.join(args.parts)}; {args.rounds} rounds{load}; took {minutes:.1f} min.",
            f"Command: `{command}`"]
