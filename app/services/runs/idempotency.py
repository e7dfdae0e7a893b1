"""Make a retried trigger request return the run the first one started, never a second run.

The key's row is written in the run's own transaction, linked to the run: a key exists only
for a run that exists. So a request that is refused or fails half-way (the database or the
queue down, a shutdown) leaves no key behind to answer its retry with 409; and two requests
with one key race on the unique (trigger, key) constraint, the loser rolling back everything it
wrote and answering with the winner's run. Keys are scoped to the trigger (Run now by API from
the start node, which has none: to the flow) and kept for IDEMPOTENCY_TTL_HOURS (at least 24 h).
A scope is `{"trigger_id": ...}` or `{"flow_id": ...}`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from app.config import settings
from app.extensions import db
from app.models import IdempotencyKey, Run
from app.models.types import utcnow

# A row never linked to a run (written by a release that claimed keys before the run existed)
# belongs, after this long, to a request that died mid-way.
STALE_CLAIM_SECONDS = 60


class KeyInFlight(Exception):
    """The first request with this key has not finished being accepted (409)."""


class KeyReused(Exception):
    """The key was used before with a different body (422)."""


def find(scope: dict[str, str], key: str, body_hash: str) -> Run | None:
    """Return the run an earlier request with `key` started, or None when the key is free.

    Raises KeyReused when that request had another body, KeyInFlight when its row is not linked
    to a run yet. An expired or abandoned row is deleted (committed) and the key is free.
    """
    row = db.session.execute(
        db.select(IdempotencyKey).where(IdempotencyKey.key == key, *_in(scope))
    ).scalar_one_or_none()
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or (row.run_id is None and
                                 (now - row.created_at).total_seconds() > STALE_CLAIM_SECONDS):
        _forget(row)
        return None
    if row.body_hash != body_hash:
        raise KeyReused(key)
    if row.run_id is None:
        raise KeyInFlight(key)
    return db.session.get(Run, row.run_id)


def remember(scope: dict[str, str], key: str, body_hash: str, run: Run) -> None:
    """Add the key's row, linked to `run`, to the transaction that commits the run."""
    now = utcnow()
    db.session.add(IdempotencyKey(**scope, key=key, body_hash=body_hash, run_id=run.id,
                                  created_at=now,
                                  expires_at=now + timedelta(hours=settings().idempotency_ttl_hours)))


def forget_run(run_id: str) -> None:
    """Free the key of a run that was not accepted after all (the queue refused it); no commit."""
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.run_id == run_id)
                       .execution_options(synchronize_session=False))


def _in(scope: dict[str, str]) -> list:
    (column, value), = scope.items()
    return [getattr(IdempotencyKey, column) == value]


def _forget(row: IdempotencyKey) -> None:
    """Delete an expired or abandoned row, unless another request replaced it meanwhile."""
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
