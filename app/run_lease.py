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


class ClaimLost(LeaseLost):
    """The run was taken, canceled or ended by someone else before this worker's claim was written."""


# Statements built once: the worker's hot path runs them for every run and step, and building
# the expression tree each time cost more than executing it (see BENCHMARKS.md).
_READ = (
    select(RUNS.c.id, RUNS.c.status, RUNS.c.attempts, RUNS.c.workspace_id, RUNS.c.flow_id, RUNS.c.flow_version_id,
           RUNS.c.version_number, RUNS.c.trigger_node_id, RUNS.c.inputs, RUNS.c.trigger_payload,
           RUNS.c.session_id, RUNS.c.created_at, RUNS.c.started_at, RUNS.c.discard_at, RUNS.c.deadline_at,
           RUNS.c.cancel_requested, RUNS.c.lease_expires_at, RUNS.c.resume_at, FLOWS.c.run_timeout_seconds)
    .join_from(RUNS, FLOWS, FLOWS.c.id == RUNS.c.flow_id)
    .where(RUNS.c.id == bindparam("run_id"))
)
_CLAIMABLE = (
    RUNS.c.id == bindparam("run_id"),
    or_(RUNS.c.status == RunStatus.QUEUED,
        (RUNS.c.status == RunStatus.RUNNING) & (RUNS.c.lease_expires_at < bindparam("now")),
        # a run parked by a delay node, once its time has come (its scheduled job or the sweeper)
        (RUNS.c.status == RunStatus.WAITING) & (RUNS.c.resume_at <= bindparam("now"))),
)
_CLAIM_VALUES = {
    "attempts": RUNS.c.attempts + 1,
    "started_at": func.coalesce(RUNS.c.started_at, bindparam("started", type_=RUNS.c.started_at.type)),
    "deadline_at": func.coalesce(RUNS.c.deadline_at, bindparam("deadline", type_=RUNS.c.deadline_at.type)),
}
_TAKE = RUNS.update().where(*_CLAIMABLE).values(
    status=RunStatus.RUNNING, lease_token=bindparam("token"), lease_expires_at=bindparam("expires"), **_CLAIM_VALUES)
# A run that ended before its claim was ever written: claim and end it in one statement.
_TAKE_FINISHED = RUNS.update().where(*_CLAIMABLE).values(
    status=bindparam("status"), output=bindparam("output"), error=bindparam("error"),
    error_node_id=bindparam("error_node_id"), finished_at=bindparam("finished_at"), lease_token=None,
    lease_expires_at=None, **_CLAIM_VALUES)
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


@dataclass
class Claim:
    """A run this worker is executing: what it needs of the run, and the lease it writes.

    Read without writing anything (`load_claim`); the claim itself is written by `take()` or,
    for a run that ends without ever needing it, with the run's final status (`take_finished`).
    """

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
    started_at: datetime
    cancel_requested: bool
    deadline_at: datetime
    read_at: datetime
    taken: bool = False  # the claim was written (in this transaction or an earlier one)

    def params(self, lease_seconds: int = 0) -> dict:
        return {"run_id": self.id, "now": self.read_at, "token": self.token, "started": self.started_at,
                "deadline": self.deadline_at, "expires": utcnow() + timedelta(seconds=lease_seconds)}


@dataclass(frozen=True)
class NotClaimed:
    """Why a run is not ours to execute: it is gone (`status` None), final, or another worker owns it."""

    status: RunStatus | None


def load_claim(run_id: str) -> Claim | NotClaimed:
    """Read the run this worker is asked to execute; write nothing unless its discard time passed.

    Why the claim is not written here: a run of pure nodes touches nothing outside the run, so
    the worker executes it from this read and writes the claim with its steps and final status
    in one transaction (`take_finished`); a checkpointed node takes the claim before it runs
    (`take`). Nobody can write steps into a `queued` run (every write is fenced on a claim's
    token), so what was read stays valid until the claim is written, and if someone else claims,
    cancels or ends the run meanwhile, writing the claim fails and nothing is written.
    A run whose discard time passed while it was queued is marked discarded and never executed.
    """
    now = utcnow()
    row = db.session.execute(_READ, {"run_id": run_id}).first()
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
    claimable = (row.status is RunStatus.QUEUED
                 or (row.status is RunStatus.RUNNING and row.lease_expires_at is not None and row.lease_expires_at < now)
                 or (row.status is RunStatus.WAITING and row.resume_at is not None and row.resume_at <= now))
    if not claimable:
        db.session.rollback()
        return NotClaimed(row.status)
    started_at = row.started_at or now
    return Claim(
        id=run_id, token=uuid.uuid4().hex, attempts=row.attempts + 1, workspace_id=row.workspace_id,
        flow_id=row.flow_id, flow_version_id=row.flow_version_id, version_number=row.version_number,
        trigger_node_id=row.trigger_node_id, inputs=row.inputs or {}, trigger_payload=row.trigger_payload or {},
        session_id=row.session_id, created_at=row.created_at, started_at=started_at,
        cancel_requested=bool(row.cancel_requested),
        deadline_at=row.deadline_at or started_at + timedelta(seconds=row.run_timeout_seconds),
        read_at=now, taken=False)


def take(claim: Claim, lease_seconds: int) -> None:
    """Write the claim in the current transaction (the caller commits), or raise ClaimLost."""
    if db.session.execute(_TAKE, claim.params(lease_seconds)).rowcount != 1:
        db.session.rollback()
        raise ClaimLost(claim.id)
    claim.taken = True


def take_finished(claim: Claim, values: dict) -> None:
    """Write the claim and the run's final `values` in one statement (the caller commits), or raise ClaimLost."""
    if db.session.execute(_TAKE_FINISHED, {**claim.params(), **values}).rowcount != 1:
        db.session.rollback()
        raise ClaimLost(claim.id)
    claim.taken = True


def claim(run_id: str, lease_seconds: int) -> Claim | NotClaimed:
    """Read the run and write its claim at once (uncommitted), for callers that need the lease now.

    Raises ClaimLost if another worker claimed it between the read and the write.
    """
    loaded = load_claim(run_id)
    if isinstance(loaded, Claim):
        take(loaded, lease_seconds)
    return loaded


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


class Watch:
    """One run's lease as the heartbeat sees it."""

    def __init__(self, heartbeat: "Heartbeat", run_id: str, token: str):
        self.heartbeat, self.run_id, self.token = heartbeat, run_id, token
        self.lost = threading.Event()

    def arm(self) -> None:
        """Start renewing: call once the claim is written."""
        self.heartbeat._current = (self.run_id, self.token, self.lost)


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
    def watch(self, run_id: str, token: str, armed: bool = True):
        """Keep (run_id, token) alive while the block runs; yields a `Watch` (`.lost` is set if the lease is lost).

        With `armed=False` nothing is renewed until `Watch.arm()`: the claim is not written yet.
        """
        watch = Watch(self, run_id, token)
        if armed:
            watch.arm()
        try:
            yield watch
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

