"""Create runs, queue them, and describe them for answers.

The outbox order is the point: the run row is committed before its id is enqueued, so a run
that a caller was told about always exists, even if Redis fails right after.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from app.urls import public_url
from redis.exceptions import RedisError
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.services.runs import lifecycle
from app.extensions import db
from app.models import Flow, FlowVersion, Run, RunStatus, Trigger
from app.models.types import iso, new_id, utcnow
from app.queueing.jobs import OUTCOME_FIELDS, announce_finished, enqueue_run, new_job_id, wait_finished

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """Redis refused the job; the run was marked canceled so nobody waits for it."""


def record_run(*, flow: Flow, version: FlowVersion, trigger: Trigger | None, node: dict,
               inputs: dict, trigger_payload: dict, request_id: str | None, fields: dict | None = None,
               before_commit: Callable[[Run], None] | None = None, run_id: str | None = None,
               trigger_type: str | None = None) -> Run:
    """Commit a queued run of `version` entered at `node` (and its companions), without queueing it.

    Called by `app.services.runs.run_start.start` only, inside the write gate; it then calls
    `queue_run` after the commit, so Redis is never talked to while the gate is held.
    `before_commit` adds rows that must commit with the run or not at all (an idempotency key, a
    body fingerprint); whatever else the caller added to the session (a schedule's claim)
    commits with the run too. The other arguments are `run_row`'s.
    """
    row = run_row(flow=flow, version=version, trigger=trigger, node=node, inputs=inputs,
                  trigger_payload=trigger_payload, request_id=request_id, fields=fields, run_id=run_id,
                  trigger_type=trigger_type)
    db.session.flush()  # rows the caller added (a session, a schedule's claim) go first: the run refers to them
    db.session.connection().execute(INSERT_RUN, row)  # see `attached_run`
    run = attached_run(row)
    if before_commit is not None:
        before_commit(run)
    db.session.commit()
    return run


def run_row(*, flow: Flow, version: FlowVersion, trigger: Trigger | None, node: dict, inputs: dict,
            trigger_payload: dict, request_id: str | None, fields: dict | None = None,
            run_id: str | None = None, trigger_type: str | None = None) -> dict:
    """The row of a new run of `version` entered at `node`: every column, as INSERT_RUN takes it.

    `fields` sets the run's request columns (session_id, out_id, idempotency_key, event_at,
    discard_at, planned_at; `refusal`, the reason a run is recorded as failed). A run whose
    discard time has already passed is `discarded` and never queued. `version` needs only `id`
    and `number`. `trigger_type` names a run without a trigger node (Run now by default, a draft
    test); a trigger's runs record its type.
    """
    now = utcnow()
    values = {
        "id": run_id or new_id(), "workspace_id": flow.workspace_id, "flow_id": flow.id,
        "flow_version_id": version.id, "version_number": version.number,
        "trigger_id": trigger.id if trigger else None, "trigger_node_id": node["id"],
        "trigger_type": node["type"] if trigger else (trigger_type or "manual"), "inputs": inputs,
        "trigger_payload": trigger_payload, "request_id": request_id, "created_at": now, **(fields or {}),
    }
    values["job_id"] = new_job_id(values["id"])
    values.update(lifecycle.arrival_values(values.get("discard_at"), now, values.pop("refusal", None)))
    return _with_defaults(values)


def _with_defaults(values: dict) -> dict:
    """Fill in every column's plain default, so the row and its in-memory copy agree."""
    row = dict(values)
    for column in Run.__table__.columns:
        if column.key not in row:
            default = column.default
            row[column.key] = default.arg if default is not None and default.is_scalar else None
    return row


_RUN_CLASS = Run.__mapper__.class_manager
# Built once and run on the session's connection (same transaction): `Session.execute` added its
# ORM layer (events, compile state) around a statement that needs none; runs are not a table
# the lookup cache watches (`lookup_cache.WATCHED`), the one listener of session statements.
INSERT_RUN = insert(Run.__table__)


def attached_run(row: dict) -> Run:
    """Return the Run for a row just inserted with Core, tracked by the session like a loaded one.

    Why Core for the insert: on the trigger's hot path the unit of work's bookkeeping for one new
    row cost more than the insert itself. The copy lets callers use the run as before (refresh
    it, read its columns, link rows to it) without a query to load it back. It is filled the way
    a query fills a loaded row (straight into its state), not through `Run(**row)`, whose 40-odd
    attribute change events cost 5x as much for values that are already the database's.
    """
    run = _RUN_CLASS.new_instance()
    run.__dict__.update(row)
    make_transient_to_detached(run)
    db.session.add(run)
    return run


def queue_run(run: Run, flow: Flow, on_refused: Callable[[Run], None] | None = None) -> None:
    """Enqueue a committed run (a discarded one is never queued).

    When Redis refuses the job, mark the run canceled (after `on_refused`, in the same commit)
    and raise QueueUnavailable. If the database fails too, the run stays committed and queued:
    that is an accepted run (the sweeper queues it once Redis is back), so no error is raised,
    and the caller answers as for any queued run instead of saying nothing was saved.
    """
    if run.status is RunStatus.DISCARDED:
        log.info("run_id=%s state=discarded reason=discard-time-passed", run.id)  # logged once, after its commit
        return
    try:
        enqueue_run(run.id, run.job_id, flow.run_timeout_seconds)
    except RedisError as exc:
        if not _cancel_unqueued(run, on_refused):
            log.error("run_id=%s state=queued reason=queue-and-database-unavailable; the sweeper queues it", run.id)
            return
        log.error("run_id=%s state=canceled reason=queue-unavailable error=%s", run.id, exc)
        raise QueueUnavailable(str(exc)) from exc


def _cancel_unqueued(run: Run, on_refused: Callable[[Run], None] | None) -> bool:
    """Mark a run the queue refused canceled; False when the database failed (the run stays queued)."""
    try:
        if on_refused is not None:
            on_refused(run)
        lifecycle.cancel_unqueued(run.id, run.job_id, utcnow())
        db.session.commit()
    except SQLAlchemyError:
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        return False
    _refresh_outcome(run)
    return True


POLL_SECONDS = 0.1


def wait_until_final(run: Run, timeout: float) -> bool:
    """Wait up to `timeout` s for the run to end; True when it did (the run is refreshed).

    The worker's announcement in Redis wakes us at once, and usually carries the final columns
    as the worker committed them, which are used without a query; a bare or oversized one sends
    us to the database. If Redis fails while we wait, the database (the truth) is polled for the
    rest of the time, so an accepted run is never answered with an error just because the
    wake-up channel broke.
    """
    if run.status.is_final:  # e.g. an idempotent replay of a finished run, or a run discarded on arrival
        return True
    deadline = time.monotonic() + timeout
    try:
        announced = wait_finished(run.id, timeout)
        if announced is not None and _take_outcome(run, announced):
            return True
    except RedisError as exc:
        log.warning("run_id=%s wait channel failed (%s); polling the database", run.id, exc)
    while True:
        _refresh_outcome(run)
        if run.status.is_final:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


_FINAL_BY_VALUE = {status.value: status for status in RunStatus if status.is_final}


def _take_outcome(run: Run, announced: dict) -> bool:
    """Set the run's final columns from a complete announcement (False when it is not one)."""
    status = _FINAL_BY_VALUE.get(announced.get("status"))
    if status is None or len(announced) != len(OUTCOME_FIELDS):
        return False
    for name, value in announced.items():
        set_committed_value(run, name, status if name == "status" else value)
    return True


# Only what an answer shows (the columns an announcement carries): reloading the whole row
# re-parsed the request's headers and body.
_OUTCOME = select(*(Run.__table__.c[name] for name in OUTCOME_FIELDS)).where(Run.__table__.c.id == bindparam("id"))


def _refresh_outcome(run: Run) -> None:
    """Load the run's status and result as committed now, without marking the object changed."""
    row = db.session.execute(_OUTCOME, {"id": run.id}).one()  # read committed: each poll sees new commits
    for name, value in row._mapping.items():
        set_committed_value(run, name, value)


def request_cancel(run: Run) -> bool:
    """Cancel a queued or waiting run now, or ask a running one to stop before its next step; False if it ended."""
    done = lifecycle.cancel(run.id, utcnow())
    db.session.commit()
    if done == "canceled":
        announce_finished(run.id, RunStatus.CANCELED.value)
    return done is not None


def status_url(run: Run) -> str:
    return public_url("api.get_run", run_id=run.id)


def run_summary(run: Run) -> dict:
    return {
        "id": run.id,
        "flow_id": run.flow_id,
        "version": run.version_number if run.version_number > 0 else None,  # a tested draft has no version
        "draft": run.version_number < 0,
        "trigger_node_id": run.trigger_node_id,
        "trigger_type": run.trigger_type,
        "status": run.status.value,
        "error": run.error,
        "error_node_id": run.error_node_id,
        "created_at": iso(run.created_at),
        "planned_at": iso(run.planned_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_ms": run.duration_ms,
        "session_id": run.session.key if run.session_id else None,
        "conversation_id": run.session_id,
        "out_id": run.out_id,
        "idempotency_key": run.idempotency_key,
        "event_at": iso(run.event_at),
        "discard_at": iso(run.discard_at),
        "resume_at": iso(run.resume_at),  # set while a delay node keeps the run waiting
    }


def run_detail(run: Run) -> dict:
    data = run_summary(run)
    data.update({
        "inputs": run.inputs,
        "output": run.output,
        "request_id": run.request_id,
        "trigger": run.trigger_payload,
        "attempts": run.attempts,
        "steps": [
            {
                "seq": step.seq, "attempt": step.attempt, "node_id": step.node_id, "node_type": step.node_type,
                "status": step.status.value, "input": step.input, "output": step.output, "port": step.port,
                "error": step.error, "started_at": iso(step.started_at), "finished_at": iso(step.finished_at),
                "duration_ms": step.duration_ms,
            }
            for step in run.steps
        ],
    })
    return data


def is_final(run: Run) -> bool:
    return run.status.is_final


__all__ = ["QueueUnavailable", "RunStatus", "is_final", "queue_run", "record_run", "run_detail", "run_summary",
           "status_url"]
