"""Start a run of a flow's published version from one of its trigger nodes (or its start node).

Shared by the REST trigger endpoint and "Run now", so both validate inputs the same way and
both commit the run before queueing it.
"""

from __future__ import annotations

import flows
from app.models import Flow, Run, Trigger
from app.models.types import utcnow
from app.services.publishing import latest_version
from app.services.runs import start_run
from app.services.trigger_body import inputs_from_body


class NotPublished(Exception):
    """The flow has no published version yet, so there is nothing to run."""


def invoke(flow: Flow, trigger: Trigger | None, body: dict, request_id: str, source: str,
           meta: dict | None = None) -> Run:
    """Validate `body` against the latest version's start node, then commit and queue a run.

    With no trigger the run enters at the start node ("Run now" on a flow without a manual
    trigger node). `meta` (request headers, the run replayed...) is kept in the trigger payload
    for the run page. Raises `NotPublished`, `BodyError` for bad inputs, and `QueueUnavailable`
    when Redis refuses the job.
    """
    version = latest_version(flow)
    if version is None:
        raise NotPublished(flow.id)
    graph = flows.Graph(version.document)
    start = graph.start_node() or {}
    inputs = inputs_from_body(body, start.get("config") or {})
    entry = graph.node(trigger.node_id) if trigger else start
    payload = {"type": source, "node_id": entry["id"], "key": trigger.key if trigger else None,
               "received_at": utcnow().isoformat(), "request_id": request_id, **(meta or {})}
    return start_run(flow=flow, version=version, trigger=trigger, node=entry, inputs=inputs,
                     trigger_payload=payload, request_id=request_id)
