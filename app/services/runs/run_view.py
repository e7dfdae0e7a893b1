"""Shape a run for its page: the timeline bars, to scale, and the names people know its steps by.

Why computed here and not in the template: the arithmetic (offsets and widths as percentages of
the run's span, a minimum width so a 1 ms step stays visible) is easier to read and test in Python,
and the page names steps and settings as the canvas does (never by internal ids or setting keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import flows
from flows.available import node_display_name, result_schema

from app.models import Run, RunStep
from app.services.versions import parsed_versions
from app.words import REQUEST_SOURCE_WORDS
from app.models.types import utcnow

MIN_WIDTH_PCT = 0.6


@dataclass
class Bar:
    step: RunStep
    left_pct: float
    width_pct: float
    duration_ms: float | None
    running: bool


@dataclass
class Timeline:
    bars: list[Bar]
    span_ms: float
    run_left_pct: float = 0.0  # the run itself (start to end), drawn above its steps
    run_width_pct: float = 100.0

    @property
    def ticks(self) -> list[tuple[float, str]]:
        """Four labelled marks along the axis (0 %, 25 %, 50 %, 75 %, 100 %)."""
        return [(pct, _ms(self.span_ms * pct / 100)) for pct in (0, 25, 50, 75, 100)]


def timeline(run: Run, now: datetime | None = None) -> Timeline:
    """One bar per step attempt, placed on the run's own time axis (start to end, or now while it runs)."""
    now = now or utcnow()
    steps = list(run.steps)
    if not steps:
        return Timeline([], 0.0)
    origin = min([s.started_at for s in steps] + ([run.started_at] if run.started_at else []))
    ends = [s.finished_at or now for s in steps] + ([run.finished_at] if run.finished_at else [])
    span = max((max(ends) - origin).total_seconds() * 1000, 1.0)
    run_start = ((run.started_at - origin).total_seconds() * 1000) if run.started_at else 0.0
    run_end = ((run.finished_at or now) - origin).total_seconds() * 1000
    bars = []
    for step in steps:
        start = (step.started_at - origin).total_seconds() * 1000
        end = ((step.finished_at or now) - origin).total_seconds() * 1000
        left = min(max(start / span * 100, 0.0), 100 - MIN_WIDTH_PCT)
        width = min(max((end - start) / span * 100, MIN_WIDTH_PCT), 100 - left)
        bars.append(Bar(step, round(left, 2), round(width, 2), step.duration_ms, step.finished_at is None))
    run_left = min(max(run_start / span * 100, 0.0), 100 - MIN_WIDTH_PCT)
    run_width = min(max((run_end - run_start) / span * 100, MIN_WIDTH_PCT), 100 - run_left)
    return Timeline(bars, span, round(run_left, 2), round(run_width, 2))


def _ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def step_names(run: Run) -> dict[str, str]:
    """Each node of the run's version by the name the canvas shows (its name, else its type's title);
    a step whose node is not in the document is named by its type's title."""
    nodes = run.version.document.get("nodes") if isinstance(run.version.document, dict) else None
    names = {node["id"]: node_display_name(node) for node in nodes or []
             if isinstance(node, dict) and isinstance(node.get("id"), str)}
    for step in run.steps:
        if step.node_id not in names:
            names[step.node_id] = node_display_name({"id": step.node_id, "type": step.node_type})
    return names


MAX_PORT_CHARS = 60  # a switch case's value can be 1,000 characters; the Port column is narrow


def port_words(run: Run) -> dict[str, dict[str, str]]:
    """node id -> {port: the name people know it by} for each port a step of the run left by.

    "yes" reads as its branch's label, "case_1" as 'is "billing"', "error" as "Error path" and the
    plain "out" as nothing (`NodeType.port_label`), from the config the run's version had.
    """
    nodes = run.version.document.get("nodes") if isinstance(run.version.document, dict) else None
    configs = {node["id"]: node for node in nodes or [] if isinstance(node, dict) and isinstance(node.get("id"), str)}
    words: dict[str, dict[str, str]] = {}
    for step in run.steps:
        if not step.port:
            continue
        node = configs.get(step.node_id) or {}
        node_type = flows.registry.get(node.get("type") or step.node_type)
        label = node_type.port_label(node.get("config"), step.port) if node_type else step.port
        if len(label) > MAX_PORT_CHARS:
            label = label[:MAX_PORT_CHARS - 1] + "…"
        words.setdefault(step.node_id, {})[step.port] = label
    return words


def setting_words() -> dict[str, dict]:
    """Per node type, its config schema: a step's "Settings used" is read through it, so every setting,
    nested ones too, is named and its choices said as the form on the canvas shows them
    ("Retry › Attempts", "Branch 1 › Conditions › Condition 1 › Test: is equal to"), never by its key."""
    return {node_type.type: node_type.config_schema for node_type in flows.registry.types()
            if isinstance(node_type.config_schema, dict)}


def result_words(run: Run, names: dict[str, str]) -> dict[str, dict]:
    """node id -> how its step's Result is named: the value picker's titles for the node's values
    ("Request id", "Time taken (ms)"), times marked as times (`flows.available.result_schema`), from
    the run's version, so a result reads as the values a person picks later in the flow. `names`:
    `step_names(run)`, which the page has already. The version's graph is the one parsed once per
    process (`parsed_versions`): a running run's page is fetched every second."""
    published = parsed_versions.by_id(run.flow_version_id)
    graph = published.graph if published is not None else flows.Graph(run.version.document)
    words = {}
    for node_id in {step.node_id for step in run.steps}:
        schema = result_schema(graph, node_id) if node_id in graph.nodes else None
        if schema is None:
            continue
        properties = schema["properties"]
        if graph.node_type(node_id).is_trigger:  # which door and which trigger, as the facts above say them
            properties["type"] = {**properties.get("type", {}), "x-enum-titles": REQUEST_SOURCE_WORDS}
            properties["node_id"] = {**properties.get("node_id", {}), "x-enum-titles": names}
        words[node_id] = schema
    return words
