"""Keep the lease of the run this worker executes alive, and fence every write on it.

Why our own leases: RQ notices a killed worker only after minutes and keeps its state in Redis
alone. A lease row in the database lets the sweeper hand a run to another worker seconds after
its owner stops renewing, and the token check on every write (fencing) guarantees that a worker
which lost its lease — paused, partitioned, or simply slow — can no longer change the run.
Claiming a run and every other change of its status belong to `app.services.runs.lifecycle`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Run, RunStatus
from app.models.types import utcnow
from app.services.runs.lifecycle import LeaseLost

log = logging.getLogger(__name__)
RUNS = Run.__table__

_FENCE = (
    RUNS.update()
    .where(RUNS.c.id == bindparam("run_id"), RUNS.c.lease_token == bindparam("token"),
           RUNS.c.status == RunStatus.RUNNING)
    .values(lease_expires_at=bindparam("expires"))
)
_FENCE_RETURNING = _FENCE.returning(RUNS.c.cancel_requested, RUNS.c.deadline_at)
_RUN_FLAGS = select(RUNS.c.cancel_requested, RUNS.c.deadline_at).where(RUNS.c.id == bindparam("run_id"))


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

