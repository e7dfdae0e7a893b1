"""Read and parse each published flow version once per process, not on every request or run.

Both the trigger endpoint (`latest`: the flow's newest version) and the worker (`by_id`: the
version a run recorded) read versions through here, so each process keeps one parsed copy.

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


_by_id: OrderedDict[str, PublishedVersion] = OrderedDict()
_latest: dict[tuple[str, int], str] = {}  # (flow id, version number) -> version id
_lock = threading.Lock()


def latest(flow: Flow) -> PublishedVersion | None:
    """Return the flow's latest published version (parsed), or None when nothing is published."""
    if not flow.latest_version:
        return None
    key = (flow.id, flow.latest_version)
    with _lock:
        found = _cached(_latest.get(key))
    if found is not None:
        return found
    return _load(FlowVersion.flow_id == flow.id, FlowVersion.number == flow.latest_version)


def by_id(version_id: str) -> PublishedVersion | None:
    """Return the published version with this id (parsed), or None if there is none."""
    with _lock:
        found = _cached(version_id)
    return found if found is not None else _load(FlowVersion.id == version_id)


def _cached(version_id: str | None) -> PublishedVersion | None:
    found = _by_id.get(version_id) if version_id else None
    if found is not None:
        _by_id.move_to_end(version_id)
    return found


def _load(*where) -> PublishedVersion | None:
    row = db.session.execute(
        db.select(FlowVersion.id, FlowVersion.flow_id, FlowVersion.number, FlowVersion.document).where(*where)
    ).one_or_none()
    if row is None:
        return None
    graph = flows.Graph(row.document)
    start_config = (graph.start_node() or {}).get("config") or {}
    version = PublishedVersion(id=row.id, flow_id=row.flow_id, number=row.number, graph=graph,
                               start_config=start_config,
                               declared=frozenset(item["name"] for item in flows.declared_inputs(start_config)))
    with _lock:
        _by_id[version.id] = version
        _latest[(version.flow_id, version.number)] = version.id
        while len(_by_id) > MAX_VERSIONS:
            gone = _by_id.popitem(last=False)[1]
            _latest.pop((gone.flow_id, gone.number), None)
    return version


def clear() -> None:
    """Forget every parsed version (tests; never needed for correctness)."""
    with _lock:
        _by_id.clear()
        _latest.clear()
