"""Make a retried trigger request return the run the first one started, never a second run.

The key is claimed in its own committed row *before* the run exists, so a duplicate that
arrives while the first request is still being accepted can be told so (409) instead of
racing it; the claim is then linked to the run in the run's own transaction. Keys are scoped
to the trigger and kept for IDEMPOTENCY_TTL_HOURS (at least 24 h).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.config import settings
from app.extensions import db
from app.models import IdempotencyKey, Run
from app.models.types import utcnow

# A claim never linked to a run after this long belongs to a request that died mid-way.
STALE_CLAIM_SECONDS = 60


class KeyInFlight(Exception):
    """The first request with this key has not finished being accepted (409)."""


class KeyReused(Exception):
    """The key was used before with a different body (422)."""


@dataclass
class Claim:
    """This request owns the key; link the run to it, or release it when no run is started."""

    row: IdempotencyKey

    def link(self, run: Run) -> None:
        self.row.run_id = run.id
        db.session.add(self.row)

    def release(self) -> None:
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == self.row.id))
        db.session.commit()


def claim(trigger_id: str, key: str, body_hash: str) -> Claim | Run:
    """Claim `key` for this request, or return the run an earlier request with it started."""
    for _ in range(3):
        now = utcnow()
        row = IdempotencyKey(trigger_id=trigger_id, key=key, body_hash=body_hash, created_at=now,
                             expires_at=now + timedelta(hours=settings().idempotency_ttl_hours))
        db.session.add(row)
        try:
            db.session.commit()
            return Claim(row)
        except IntegrityError:
            db.session.rollback()
        existing = db.session.execute(
            db.select(IdempotencyKey).where(IdempotencyKey.trigger_id == trigger_id, IdempotencyKey.key == key)
        ).scalar_one_or_none()
        if existing is None:
            continue  # released between our insert and our read: try again
        if existing.expires_at <= now or (existing.run_id is None and
                                          (now - existing.created_at).total_seconds() > STALE_CLAIM_SECONDS):
            _forget(existing)
            continue
        if existing.body_hash != body_hash:
            raise KeyReused(key)
        if existing.run_id is None:
            raise KeyInFlight(key)
        return db.session.get(Run, existing.run_id)
    raise KeyInFlight(key)


def _forget(row: IdempotencyKey) -> None:
    """Delete an expired or abandoned claim, unless another request replaced it meanwhile."""
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id,
                                                    IdempotencyKey.created_at == row.created_at)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expunge(row)  # its id may be reused by the next insert (SQLite)


def purge_expired(limit: int = 1000) -> int:
    """Delete up to `limit` expired keys (called by the sweeper); return how many."""
    ids = db.session.execute(
        db.select(IdempotencyKey.id).where(IdempotencyKey.expires_at <= utcnow()).limit(limit)).scalars().all()
    if ids:
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids))
                           .execution_options(synchronize_session=False))
        db.session.commit()
    return len(ids)
