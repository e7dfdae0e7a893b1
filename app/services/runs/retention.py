"""Delete runs (and their steps) older than `RUN_RETENTION_DAYS`, in small batches.

Why batches with a commit each: one huge DELETE would hold the database's write lock (all of
SQLite, or many PostgreSQL row locks) for as long as it takes, stalling triggers and workers. A
few hundred runs per transaction keeps every pause short. Only finished runs are deleted: a run
still queued or running is never pulled from under its worker, however old it is.
Called from the clock process (`app.clock.periodic`), once per `RETENTION_INTERVAL_SECONDS`;
two clock processes purging at once is harmless, deletes are idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.config import settings
from app.extensions import db
from app.models import BodyFingerprint, ConversationSession, IdempotencyKey, Run, RunStatus, RunStep
from app.models.types import utcnow

log = logging.getLogger("switchboard.retention")
FINAL = [status for status in RunStatus if status.is_final]


def cutoff(now: datetime | None = None) -> datetime | None:
    """Runs created before this moment may go; None when retention is off (0 days)."""
    days = settings().run_retention_days
    return (now or utcnow()) - timedelta(days=days) if days > 0 else None


def purge(now: datetime | None = None, batch_size: int | None = None) -> int:
    """Delete every finished run older than the retention age; return how many runs went."""
    now = now or utcnow()
    before = cutoff(now)
    if before is None:
        return 0
    batch_size = batch_size or settings().retention_batch_size
    deleted = 0
    while True:
        ids = db.session.execute(
            db.select(Run.id).where(Run.created_at < before, Run.status.in_(FINAL))
            .order_by(Run.created_at).limit(batch_size)
        ).scalars().all()
        if not ids:
            break
        for model in (RunStep, IdempotencyKey, BodyFingerprint):
            db.session.execute(db.delete(model).where(model.run_id.in_(ids)).execution_options(synchronize_session=False))
        db.session.execute(db.delete(Run).where(Run.id.in_(ids)).execution_options(synchronize_session=False))
        db.session.commit()
        deleted += len(ids)
        log.info("retention deleted=%d batch=%d older_than=%s", deleted, len(ids), before.isoformat())
    sessions = _purge_sessions(before, now)
    if deleted or sessions:
        log.info("retention done runs=%d sessions=%d", deleted, sessions)
    return deleted


def _purge_sessions(before: datetime, now: datetime) -> int:
    """Drop conversations that expired before the cutoff and have no runs left to show."""
    has_runs = db.select(Run.id).where(Run.session_id == ConversationSession.id).exists()
    result = db.session.execute(
        db.delete(ConversationSession)
        .where(ConversationSession.last_active_at < before, ConversationSession.expires_at < now, ~has_runs)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0
