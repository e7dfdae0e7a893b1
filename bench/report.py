"""Turn per-round measurements into one markdown table with the issue's targets marked.

Why a median with the spread: this 2-core machine is shared, so a single round can be thrown
off by a neighbour; the median says what is typical and min–max says how much to trust it.
A target is judged on the median. Only the issue's targets are marked; the streaming, schedule
and canvas rows have none. A row nobody measured (a part left out with --only/--skip, or a
backend that stopped early) is left out rather than printed as a line of dashes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from stack import MEMORY_ROLES  # bench/ is on sys.path as the scripts' folder


@dataclass(frozen=True)
class Target:
    op: str  # "<=" or ">="
    limit: float

    def met(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str  # "ms", "s", "/s", "x", "MB", "" (a count)
    target: Target | None = None


@dataclass(frozen=True)
class Labels:
    """The settings the schedule and canvas rows name in their labels (the rest go in the notes)."""

    schedules: int = 200
    schedule_seconds: float = 60
    canvas_nodes: int = 200


def later_rows(labels: Labels) -> list[Row]:
    """The rows later issues added: streaming first token, schedule lag, canvas load (no targets)."""
    schedule = f"schedule lag ({labels.schedules} schedules, one {labels.schedule_seconds:g} s window)"
    canvas = f"canvas, {labels.canvas_nodes}-node flow (Chromium, measured once)"
    return [
        Row("stream_assistant_p50", "streaming, switchboard-assistant (no LLM): first content chunk p50", "ms"),
        Row("stream_assistant_p95", "streaming, switchboard-assistant (no LLM): first content chunk p95", "ms"),
        Row("stream_llm_p50", "streaming, bench-llm (LLM node, stand-in provider): first content chunk p50", "ms"),
        Row("stream_llm_p95", "streaming, bench-llm (LLM node, stand-in provider): first content chunk p95", "ms"),
        Row("stream_llm_done_p50", "streaming, bench-llm: streamed to [DONE] p50", "ms"),
        Row("schedule_fired_p50", f"{schedule}: planned fire → run committed, median", "ms"),
        Row("schedule_fired_p99", f"{schedule}: planned fire → run committed, p99", "ms"),
        Row("schedule_started_p50", f"{schedule}: planned fire → run started, median", "ms"),
        Row("schedule_started_p99", f"{schedule}: planned fire → run started, p99", "ms"),
        Row("schedule_runs", f"{schedule}: runs for planned fires", ""),
        Row("canvas_loaded", f"{canvas}: page load event", "ms"),
        Row("canvas_drawn", f"{canvas}: every node in view drawn", "ms"),
        Row("canvas_clicked", f"{canvas}: click a node, side panel shows it", "ms"),
    ]


def rows(backlog: int, labels: Labels | None = None) -> list[Row]:
    """Every row of the table, in order; keys are what `stack_bench` records values under."""
    memory = [Row(f"{kind.lower()}_{role}", f"{kind} {role}: idle → after load", "MB")
              for role in MEMORY_ROLES for kind in ("RSS", "PSS")]
    return [
        Row("start", "start → first correct trigger answer", "s", Target("<=", 3)),
        Row("c1_rps", "wait for response, c=1: runs/s", "/s"),
        Row("c1_p50", "wait for response, c=1: p50", "ms", Target("<=", 5)),
        Row("c1_p99", "wait for response, c=1: p99", "ms", Target("<=", 20)),
        Row("c16_rps", "wait for response, c=16: runs/s", "/s", Target(">=", 300)),
        Row("c16_p50", "wait for response, c=16: p50", "ms"),
        Row("c16_p99", "wait for response, c=16: p99", "ms"),
        Row("async_rps", "async (202), c=16: accepted/s", "/s", Target(">=", 1000)),
        Row("async_p50", "async (202), c=16: p50", "ms"),
        Row("async_p99", "async (202), c=16: p99", "ms", Target("<=", 30)),
        Row("async_runs", "async (202), c=16: runs accepted per round", ""),
        Row("async_drain", "async: drain time after the load stopped", "s"),
        Row("async_done_rps", "async: runs/s finished (first accepted → last finished)", "/s"),
        Row("backlog1", f"backlog of {backlog} queued runs, 1 worker: runs/s", "/s"),
        Row("backlog2", f"backlog of {backlog} queued runs, 2 workers: runs/s", "/s", Target(">=", 400)),
        Row("backlog_ratio", "backlog scaling: 2 workers / 1 worker", "x"),
        *memory,
        Row("rss_total", "RSS whole stack (sum of the above): idle → after load", "MB", Target("<=", 250)),
        Row("pss_total", "PSS whole stack (shared pages counted once): idle → after load", "MB", Target("<=", 250)),
        *later_rows(labels or Labels()),
    ]


def _number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"
    if unit == "s":
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:.0f}"


def _suffix(unit: str) -> str:
    return {"ms": " ms", "s": " s", "/s": "/s", "x": "×", "MB": " MB", "": ""}[unit]


def cell(values, unit: str) -> str:
    """Median (min–max) of a list of rounds; memory is a pair (idle, after load); text passes through."""
    if values is None or isinstance(values, str):  # not measured, or a note in place of figures
        return "—" if values is None else values
    if isinstance(values, tuple):
        return " → ".join(_number(value, unit) for value in values) + _suffix(unit)
    median = statistics.median(values)
    if len(values) == 1:
        return f"{_number(median, unit)}{_suffix(unit)}"
    return (f"{_number(median, unit)}{_suffix(unit)} "
            f"({_number(min(values), unit)}–{_number(max(values), unit)})")


def verdict(row: Row, values) -> str:
    if row.target is None or values is None or isinstance(values, str):
        return ""
    value = values[0] if isinstance(values, tuple) else statistics.median(values)  # memory: judge idle
    return "met" if row.target.met(value) else "**not met**"


def table(results: dict[str, dict], backlog: int, labels: Labels | None = None) -> str:
    """`results` maps a backend's title to {row key: list of rounds | (idle, after) | text}."""
    titles = list(results)
    header = "| measure | target | " + " | ".join(f"{title} | met?" for title in titles) + " |"
    lines = [header, "|---|---|" + "---|---|" * len(titles)]
    for row in rows(backlog, labels):
        if all(results[title].get(row.key) is None for title in titles):
            continue
        target = f"{row.target.op.replace('<=', '≤').replace('>=', '≥')} {row.target.limit:g}" \
                 f"{_suffix(row.unit)}" if row.target else ""
        cells = []
        for title in titles:
            values = results[title].get(row.key)
            cells += [cell(values, row.unit), verdict(row, values)]
        lines.append(f"| {row.label} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
