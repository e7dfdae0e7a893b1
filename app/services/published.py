"""Read and parse each published flow version once per process, not on every trigger request.

Why this is safe: a published version never changes (saving publishes a new number, rollback
republishes an old document as a new number), so what (flow id, version number) parses into can
be kept. Which number is the latest comes from the flow row, read fresh by every request, so a
new version is used by the very next request in every process. Nothing mutable (trigger status,
secrets, the latest number) is cached here.

The cached graph and start config are shared between threads: callers read them, never change
them (`flows.validate_inputs` copies defaults before filling them in).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import flows
from app.extensions import db
from app.models import Flow, FlowVersion

MAX_VERSIONS = 256  # per process; a version's parsed form is a few kB


@dataclass(frozen=True)
class PublishedVersion:
    """What a trigger request needs of a version: its identity, graph and start node settings."""

    id: str
    flow_id: str
    number: int
    graph: flows.Graph
    start_config: dict
    declared: frozenset[str]  # the start node's declared input names


_cache: OrderedDict[tuple[str, int], PublishedVersion] = OrderedDict()
_lock = threading.Lock()


def latest(flow: Flow) -> PublishedVersion | None:
    """Return the flow's latest published version (parsed), or None when nothing is published."""
    if not flow.latest_version:
        return None
    key = (flow.id, flow.latest_version)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    row = db.session.execute(
        db.select(FlowVersion.id, FlowVersion.document).where(FlowVersion.flow_id == flow.id,
                                                              FlowVersion.number == flow.latest_version)
    ).one_or_none()
    if row is None:
        return None
    graph = flows.Graph(row.document)
    start_config = (graph.start_node() or {}).get("config") or {}
    version = PublishedVersion(id=row.id, flow_id=flow.id, number=flow.latest_version, graph=graph,
                               start_config=start_config,
                               declared=frozenset(item["name"] for item in flows.declared_inputs(start_config)))
    with _lock:
        _cache[key] = version
        while len(_cache) > MAX_VERSIONS:
            _cache.popitem(last=False)
    return version


def clear() -> None:
    """Forget every parsed version (tests; never needed for correctness)."""
    with _lock:
        _cache.clear()
