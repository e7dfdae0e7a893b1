"""The table of `--compare`: each measure for the other commit and this one, their ratio and issue 19's goal.

Why goals on ratios: absolute figures on a shared 2-core machine move with the neighbours; two commits
measured in turns in one run share the noise, so "this / other" is what a claim can rest on. A goal
is judged on the ratio of the medians of the rounds; the async drain is judged on every round.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
from pathlib import Path

import wrk

# key, label, unit, goal on the ratio this/other (op, limit) or "every" for a yes/no per round.
ROWS = (
    ("cpu_ms", "CPU per sync run, c=16 (web + workers + Redis process trees)", "ms", ("<=", 0.4)),
    ("cpu_web_ms", "… of which web", "ms", None),
    ("cpu_workers_ms", "… of which workers (RQ family, scheduler included)", "ms", None),
    ("cpu_redis_ms", "… of which redis-server", "ms", None),
    ("cpu_postgres_ms", "PostgreSQL backends' CPU per sync run (not in the total above)", "ms", None),
    ("c16_rps", "sync (wait for response), c=16: runs/s", "/s", (">=", 2.5)),
    ("c16_p50", "sync, c=16: p50", "ms", None),
    ("c16_p99", "sync, c=16: p99", "ms", None),
    ("c1_p50", "sync, c=1: p50", "ms", ("<=", 0.5)),
    ("c1_rps", "sync, c=1: runs/s", "/s", None),
    ("async_rps", "async (202), c=16: accepted/s", "/s", (">=", 3)),
    ("async_p99", "async, c=16: p99", "ms", None),
    ("async_done_rps", "async: finished/s (first accepted → last finished)", "/s", None),
    ("async_drained", "async: every accepted run succeeded, finish rate ≥ accept rate", "yes", "every"),
    ("async_cpu_ms", "CPU per async run (load window and drain)", "ms", None),
    ("redis_cmds", "Redis commands per sync run (INFO commandstats)", "n", None),
    ("roundtrips_web", "Redis round trips per sync run, web", "n", None),
    ("roundtrips_workers", "Redis round trips per sync run, workers", "n", None),
    ("sql_web", "SQL statements per sync run, web", "n", None),
    ("commits_web", "commits per sync run, web", "n", None),
    ("sql_workers", "SQL statements per sync run, workers", "n", None),
    ("commits_workers", "commits per sync run, workers", "n", None),
    ("idle_cpu", "the idle stack's own CPU (web + workers + Redis), % of one core", "%", None),
    ("start", "start → first correct answer", "s", None),
)
SUFFIX = {"ms": " ms", "s": " s", "/s": "/s", "n": "", "yes": "", "%": " %"}


def seconds_between(first: str, last: str) -> float:
    return max((dt.datetime.fromisoformat(last) - dt.datetime.fromisoformat(first)).total_seconds(), 1e-3)


def number(value: float, unit: str) -> str:
    if unit == "n" or value < 10:
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def cell(values: list | None, unit: str) -> str:
    if not values:
        return "—"
    if unit == "yes":
        return f"yes in {sum(map(bool, values))} of {len(values)}"
    median = statistics.median(values)
    spread = f" ({number(min(values), unit)}–{number(max(values), unit)})" if len(values) > 1 else ""
    return f"{number(median, unit)}{SUFFIX[unit]}{spread}"


def judged(goal, other: list | None, this: list | None) -> tuple[str, str, str]:
    """The ratio cell, the goal cell and the verdict of one row."""
    if goal == "every":
        return "", "every round", ("met" if this and all(this) else "**not met**") if this else ""
    if not other or not this:
        return "—", "", ""
    base = statistics.median(other)
    ratio = statistics.median(this) / base if base else float("inf")
    if goal is None:
        return f"{ratio:.2f}×", "", ""
    op, limit = goal
    met = ratio <= limit if op == "<=" else ratio >= limit
    return f"{ratio:.2f}×", f"{op.replace('<=', '≤').replace('>=', '≥')} {limit:g}×", \
        "met" if met else "**not met**"


def table(sides: dict) -> str:
    """`sides` maps a label to its Side (values: key -> list of rounds); the first is the other commit."""
    (other_label, other), (this_label, this) = list(sides.items())
    lines = [f"| measure | {other_label} | {this_label} | ratio | goal | met? |", "|---|---|---|---|---|---|"]
    for key, label, unit, goal in ROWS:
        if key not in other.values and key not in this.values:
            continue
        ratio, goal_text, verdict = judged(goal, other.values.get(key), this.values.get(key))
        lines.append(f"| {label} | {cell(other.values.get(key), unit)} | {cell(this.values.get(key), unit)} | "
                     f"{ratio} | {goal_text} | {verdict} |")
    return "\n".join(lines)


def header(args, argv: list[str], other: str, this_label: str, busy: float, minutes: float) -> list[str]:
    given = " ".join(argv)
    cores = f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})"
    return [f"Compare, {dt.date.today().isoformat()}: {cores}, Python {platform.python_version()}, "
            f"{platform.platform()}; other = commit {other}, this = {this_label.removeprefix('this ')} "
            f"(+ = uncommitted changes); {args.rounds} round(s) per side in ABBA order; wrk {args.duration:g} s "
            f"after a {wrk.WARMUP_SECONDS} s warm-up (the async run has none); CPU busy before the start "
            f"{busy:.0f}%; took {minutes:.1f} min.",
            f"Command: `make bench BENCH_ARGS='{given}'`"]


def write(folder: Path, header_lines: list[str], results: dict, notes: list[str]) -> str:
    """Print-ready text of every backend's table; kept with the raw rounds in compare.{md,json}."""
    parts = [*header_lines]
    for backend, sides in results.items():
        parts += ["", f"**{'SQLite' if backend == 'sqlite' else 'PostgreSQL'}**", "", table(sides)]
        for side in sides.values():
            top = side.values.get("redis_top")
            if top:
                parts.append(f"- {side.label}: Redis commands per sync run, most called (last round): {top[-1]}")
            parts += [f"- {side.label}: {note}" for note in side.values.get("notes", [])]
    parts += [f"- {note}" for note in notes]
    text = "\n".join(parts)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compare.md").write_text(text + "\n")
    raw = {backend: {label: side.values for label, side in sides.items()} for backend, sides in results.items()}
    (folder / "compare.json").write_text(json.dumps({"header": header_lines, "results": raw, "notes": notes},
                                                    indent=1, default=str) + "\n")
    return text
