"""Test a draft: run the editor's unsaved document on a worker, like any run, without publishing it.

Why a hidden version and not a run of "no version": the worker runs what a run's
`flow_version_id` points at (parsed once per process, because versions never change), so a draft
is stored as a `flow_versions` row with `draft=True` and a negative number (-1, -2, …). Such rows
never show as versions (`Flow.versions` leaves them out) and an identical draft tested again
reuses its row. The run takes the one start path (`run_start.start`) at the start node, like Run
now, with trigger type TEST, so stats and summaries can leave test runs out of the flow's traffic.

The order is the contract: the document is checked exactly as publishing checks it and the
inputs as Run now checks them before anything is written, so a refused test leaves no draft row,
no pinned inputs and no run behind. The draft row and the pinned inputs commit with the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

import flows
from app.extensions import db
from app.json_body import BodyError
from app.models import Flow, FlowVersion, Run, User
from app.models.types import new_id
from app.services.runs import idempotency
from app.services.runs.run_start import start
from app.services.runs.start_request import StartRequest
from app.services.triggers.trigger_body import inputs_from_body
from app.services.versions import publishing
from app.services.versions.archived import refuse_if_archived
from app.services.versions.parsed_versions import PublishedVersion
from app.trigger_types import TEST

ATTEMPTS = 3  # two tests of a new draft at the same moment: the loser takes the next number


@dataclass
class _Draft:
    """The draft a test runs: its row id and number once chosen (inside the run's transaction)."""

    document: dict
    fingerprint: str
    user_id: int | None
    version_id: str = ""
    number: int = 0


def start_test(flow: Flow, document, inputs, *, user: User | None, request_id: str | None) -> Run:
    """Start a test run of `document` with `inputs`; raise InvalidFlow or BodyError, writing nothing.

    Raises what `run_start.start` raises too (QueueUnavailable: the run is recorded canceled), and
    FlowArchived first of all: an archived flow's doors are all off, the test door too.
    """
    refuse_if_archived(flow)
    publishing.refuse_unless_runnable(flow.workspace_id, document)  # the publish gate, credentials included
    if not isinstance(inputs, dict):
        raise BodyError("invalid_inputs", "inputs must be a JSON object: the start node's inputs by name.",
                        [{"field": "inputs", "reason": "not an object"}])
    graph = flows.Graph(document)
    start_config = (graph.start_node() or {}).get("config") or {}
    validated = inputs_from_body(inputs, start_config)
    draft = _Draft(document=document, fingerprint=publishing.fingerprint(document),
                   user_id=user.id if user else None)
    version = PublishedVersion(id="", flow_id=flow.id, number=0, graph=graph, start_config=start_config,
                               declared=frozenset(i["name"] for i in flows.declared_inputs(start_config)))
    attempt = 1
    while True:
        request = StartRequest(flow=flow, version=version, trigger=None, source=TEST, inputs=validated,
                               request_id=request_id, trigger_type=TEST)
        request.prepare = lambda _run_id, request=request: _prepare(request, draft, inputs)
        try:
            return start(request).run
        except idempotency.KeyInFlight:  # another test took the same draft number at the same moment
            if attempt >= ATTEMPTS:
                raise
            attempt += 1


def _prepare(request: StartRequest, draft: _Draft, inputs: dict) -> bool:
    """Inside the run's transaction: choose (or reuse) the draft row and pin the inputs."""
    flow = request.flow
    # Tests of one flow choose their draft number one at a time (PostgreSQL: a row lock held to the
    # commit; SQLite: its single writer), so concurrent tests never race for the same number.
    db.session.execute(db.select(Flow.id).where(Flow.id == flow.id).with_for_update())
    existing = db.session.execute(
        db.select(FlowVersion.id, FlowVersion.number).where(
            FlowVersion.flow_id == flow.id, FlowVersion.draft.is_(True),
            FlowVersion.fingerprint == draft.fingerprint)
    ).first()
    if existing is not None:
        draft.version_id, draft.number = existing.id, existing.number
    else:
        lowest = db.session.execute(
            db.select(func.min(FlowVersion.number)).where(FlowVersion.flow_id == flow.id, FlowVersion.draft.is_(True))
        ).scalar()
        draft.version_id, draft.number = new_id(), min(lowest or 0, 0) - 1
        db.session.add(FlowVersion(id=draft.version_id, flow_id=flow.id, number=draft.number, draft=True,
                                   document=draft.document, fingerprint=draft.fingerprint, note="tested draft",
                                   created_by_id=draft.user_id))
    flow.test_inputs = inputs
    version = request.version
    request.version = PublishedVersion(id=draft.version_id, flow_id=flow.id, number=draft.number,
                                       graph=version.graph, start_config=version.start_config,
                                       declared=version.declared)
    return True

