"""Own a run while executing it: claim it, keep the lease alive, and fence every write.

Why our own leases: RQ notices a killed worker only after minutes and keeps its state in Redis
alone. A lease row in the database lets the sweeper hand a run to another worker seconds after
its owner stops renewing, and the token check on every write (fencing) guarantees that a worker
which lost its lease — paused, partitioned, or simply slow — can no longer change the run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select

from app.extensions import db
from app.models import Flow, Run, RunStatus
from app.models.runs import DISCARD_MESSAGE
from app.models.types import utcnow

log = logging.getLogger(__name__)
RUNS = Run.__table__
FLOWS = Flow.__table__


class LeaseLost(Exception):
    """Another worker owns the run now; stop without writing anything more."""


# Statements built once: the worker's hot path runs them for every run and step, and building
# the expression tree each time cost more than executing it (see BENCHMARKS.md).
_CLAIM_READ = (
    select(RUNS.c.id, RUNS.c.status, RUNS.c.attempts, RUNS.c.workspace_id, RUNS.c.flow_id, RUNS.c.flow_version_id,
           RUNS.c.version_number, RUNS.c.trigger_node_id, RUNS.c.inputs, RUNS.c.trigger_payload,
           RUNS.c.session_id, RUNS.c.created_at, RUNS.c.started_at, RUNS.c.discard_at, RUNS.c.deadline_at,
           RUNS.c.cancel_requested, FLOWS.c.run_timeout_seconds)
    .join_from(RUNS, FLOWS, FLOWS.c.id == RUNS.c.flow_id)
    .where(RUNS.c.id == bindparam("run_id"))
)
_CLAIM = (
    RUNS.update()
    .where(RUNS.c.id == bindparam("run_id"),
           or_(RUNS.c.status == RunStatus.QUEUED,
               (RUNS.c.status == RunStatus.RUNNING) & (RUNS.c.lease_expires_at < bindparam("now")),
               # a run parked by a delay node, once its time has come (its scheduled job or the sweeper)
               (RUNS.c.status == RunStatus.WAITING) & (RUNS.c.resume_at <= bindparam("now"))))
    .values(status=RunStatus.RUNNING, lease_token=bindparam("token"), lease_expires_at=bindparam("expires"),
            attempts=RUNS.c.attempts + 1,
            started_at=func.coalesce(RUNS.c.started_at, bindparam("started", type_=RUNS.c.started_at.type)),
            deadline_at=func.coalesce(RUNS.c.deadline_at, bindparam("deadline", type_=RUNS.c.deadline_at.type)))
)
_DISCARD = (
    RUNS.update()
    .where(RUNS.c.id == bindparam("run_id"), RUNS.c.status == RunStatus.QUEUED, RUNS.c.started_at.is_(None))
    .values(status=RunStatus.DISCARDED, error=DISCARD_MESSAGE, finished_at=bindparam("now"))
)
_FENCE = (
    RUNS.update()
    .where(RUNS.c.id == bindparam("run_id"), RUNS.c.lease_token == bindparam("token"),
           RUNS.c.status == RunStatus.RUNNING)
    .values(lease_expires_at=bindparam("expires"))
)
_FENCE_RETURNING = _FENCE.returning(RUNS.c.cancel_requested, RUNS.c.deadline_at)
_RUN_FLAGS = select(RUNS.c.cancel_requested, RUNS.c.deadline_at).where(RUNS.c.id == bindparam("run_id"))


@dataclass(frozen=True)
class ClaimedRun:
    """What a worker needs of a run it now owns, read with the claim (no ORM object to keep in sync)."""

    id: str
    token: str
    attempts: int  # including this claim
    workspace_id: str
    flow_id: str
    flow_version_id: str
    version_number: int
    trigger_node_id: str
    inputs: dict
    trigger_payload: dict
    session_id: str | None
    created_at: datetime
    cancel_requested: bool
    deadline_at: datetime


@dataclass(frozen=True)
class NotClaimed:
    """Why a run was not claimed: it is gone (`status` None), final, or another worker owns it."""

    status: RunStatus | None


def claim(run_id: str, lease_seconds: int) -> ClaimedRun | NotClaimed:
    """Take the run if it is queued, its owner's lease expired or its delay is over.

    The claim is written but NOT committed: the caller commits it with its first durable write
    (a checkpoint, or the run's final status). A run of pure nodes thus costs one transaction,
    and a worker that dies before that commit leaves the run `queued`, for the sweeper to queue
    again. A run whose discard time passed while it was queued is marked discarded (committed)
    and never executed.
    """
    now = utcnow()
    row = db.session.execute(_CLAIM_READ, {"run_id": run_id}).first()
    if row is None:
        return NotClaimed(None)
    if row.started_at is None and row.discard_at is not None and row.discard_at <= now:
        # The caller said the event is worthless after this time: never execute it.
        if db.session.execute(_DISCARD, {"run_id": run_id, "now": now}).rowcount == 1:
            db.session.commit()
            log.info("run_id=%s state=discarded reason=discard-time-passed-in-queue", run_id)
            return NotClaimed(RunStatus.DISCARDED)
        db.session.rollback()
        return NotClaimed(row.status)
    token = uuid.uuid4().hex
    started_at = row.started_at or now
    deadline_at = row.deadline_at or started_at + timedelta(seconds=row.run_timeout_seconds)
    result = db.session.execute(_CLAIM, {"run_id": run_id, "now": now, "token": token, "started": started_at,
                                         "deadline": deadline_at,
                                         "expires": now + timedelta(seconds=lease_seconds)})
    if result.rowcount != 1:
        db.session.rollback()
        return NotClaimed(row.status)
    # The WHERE above guarantees the row is still what was read (only a claim changes these).
    return ClaimedRun(
        id=run_id, token=token, attempts=row.attempts + 1, workspace_id=row.workspace_id, flow_id=row.flow_id,
        flow_version_id=row.flow_version_id, version_number=row.version_number,
        trigger_node_id=row.trigger_node_id, inputs=row.inputs or {}, trigger_payload=row.trigger_payload or {},
        session_id=row.session_id, created_at=row.created_at, cancel_requested=bool(row.cancel_requested),
        deadline_at=deadline_at)


def fence(run_id: str, token: str, lease_seconds: int) -> tuple[bool, object]:
    """Renew the lease inside the caller's transaction, or raise LeaseLost (the caller rolls back).

    Returns the run's (cancel_requested, deadline_at) as of this write, read in the same round
    trip where the database supports UPDATE … RETURNING, so checking for a cancel costs nothing.
    """
    params = {"run_id": run_id, "token": token, "expires": utcnow() + timedelta(seconds=lease_seconds)}
    if db.engine.dialect.update_returning:
        row = db.session.execute(_FENCE_RETURNING, params).first()
        if row is None:
            raise LeaseLost(run_id)
        return bool(row[0]), row[1]
    if db.session.execute(_FENCE, params).rowcount != 1:
        raise LeaseLost(run_id)
    row = db.session.execute(_RUN_FLAGS, {"run_id": run_id}).one()
    return bool(row[0]), row[1]


class Heartbeat:
    """Renew the current run's lease from one background thread per worker process.

    Steps renew the lease as they are written; this covers a single node that runs longer than
    a lease. One long-lived thread (not one per run) keeps short runs free of thread start-up
    costs. It uses its own connection, never the job's session, and records a lost lease as soon
    as the token no longer matches.
    """

    _shared: "Heartbeat | None" = None
    _shared_pid: int | None = None
    _lock = threading.Lock()

    def __init__(self, app, lease_seconds: int):
        self.app, self.lease_seconds = app, lease_seconds
        self._current: tuple[str, str, threading.Event] | None = None
        self._thread = threading.Thread(target=self._loop, name="lease-heartbeat", daemon=True)
        self._thread.start()

    @classmethod
    def shared(cls, app, lease_seconds: int) -> "Heartbeat":
        with cls._lock:
            if cls._shared is None or cls._shared_pid != os.getpid():  # a forked work horse needs its own thread
                cls._shared, cls._shared_pid = cls(app, lease_seconds), os.getpid()
            return cls._shared

    @contextmanager
    def watch(self, run_id: str, token: str):
        """Keep (run_id, token) alive while the block runs; yields an Event set if the lease is lost."""
        lost = threading.Event()
        self._current = (run_id, token, lost)
        try:
            yield lost
        finally:
            self._current = None

    def _loop(self) -> None:
        interval = max(1.0, self.lease_seconds / 3)
        while True:
            time.sleep(interval)
            current = self._current
            if current is None:
                continue
            run_id, token, lost = current
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    result = conn.execute(
                        _FENCE, {"run_id": run_id, "token": token,
                                 "expires": utcnow() + timedelta(seconds=self.lease_seconds)})
                if result.rowcount != 1:
                    lost.set()
            except Exception as exc:  # a database blip: the next beat tries again before the lease ends
                log.warning("run_id=%s lease renewal failed: %s", run_id, exc)

