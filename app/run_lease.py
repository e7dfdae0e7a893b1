"""Own a run while executing it: claim it, keep the lease alive, and fence every write.

Why our own leases: RQ notices a killed worker only after minutes and keeps its state in Redis
alone. A lease row in the database lets the sweeper hand a run to another worker seconds after
its owner stops renewing, and the token check on every write (fencing) guarantees that a worker
which lost its lease — paused, partitioned, or simply slow — can no longer change the run.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from sqlalchemy import or_, update

from app.extensions import db
from app.models import Flow, Run, RunStatus
from app.models.types import utcnow

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker owns the run now; stop without writing anything more."""


def claim(run_id: str, lease_seconds: int) -> str | None:
    """Take the run if it is queued or its owner's lease expired; return our token, or None."""
    now = utcnow()
    token = uuid.uuid4().hex
    result = db.session.execute(
        update(Run)
        .where(Run.id == run_id, or_(Run.status == RunStatus.QUEUED,
                                     (Run.status == RunStatus.RUNNING) & (Run.lease_expires_at < now)))
        .values(status=RunStatus.RUNNING, lease_token=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Run.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    run = db.session.get(Run, run_id)
    db.session.refresh(run)
    if run.started_at is None:
        run.started_at = now
    if run.deadline_at is None:
        timeout = db.session.execute(db.select(Flow.run_timeout_seconds).where(Flow.id == run.flow_id)).scalar_one()
        run.deadline_at = run.started_at + timedelta(seconds=timeout)
    db.session.commit()
    return token


def fence(run_id: str, token: str, lease_seconds: int) -> tuple[bool, object]:
    """Renew the lease inside the caller's transaction, or raise LeaseLost (the caller rolls back).

    Returns the run's (cancel_requested, deadline_at) as of this write, read in the same round
    trip where the database supports UPDATE … RETURNING, so checking for a cancel costs nothing.
    """
    statement = (
        update(Run)
        .where(Run.id == run_id, Run.lease_token == token, Run.status == RunStatus.RUNNING)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    if db.engine.dialect.update_returning:
        row = db.session.execute(statement.returning(Run.cancel_requested, Run.deadline_at)).first()
        if row is None:
            raise LeaseLost(run_id)
        return bool(row[0]), row[1]
    if db.session.execute(statement).rowcount != 1:
        raise LeaseLost(run_id)
    row = db.session.execute(db.select(Run.cancel_requested, Run.deadline_at).where(Run.id == run_id)).one()
    return bool(row[0]), row[1]


class Heartbeat:
    """Renew the lease from a background thread while a long node runs.

    It uses its own connection so it never touches the job's session, and it stops renewing
    (and records the loss) as soon as the token no longer matches.
    """

    def __init__(self, app, run_id: str, token: str, lease_seconds: int):
        self.app, self.run_id, self.token, self.lease_seconds = app, run_id, token, lease_seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{run_id[:8]}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        interval = max(1.0, self.lease_seconds / 3)
        while not self._stop.wait(interval):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    result = conn.execute(
                        update(Run)
                        .where(Run.id == self.run_id, Run.lease_token == self.token, Run.status == RunStatus.RUNNING)
                        .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_seconds))
                    )
                if result.rowcount != 1:
                    self.lost.set()
                    return
            except Exception as exc:  # a database blip: the next beat tries again before the lease ends
                log.warning("run_id=%s lease renewal failed: %s", self.run_id, exc)
