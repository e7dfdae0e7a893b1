"""Schedule state and fire claims: the database side of scheduled triggers.

Why two tables: `ScheduleState` says when a schedule fires next (the truth the clock's timers
are derived from, moved forward with a compare-and-set), and `ScheduleClaim` records what each
planned fire did. Its UNIQUE (trigger, planned time) is what makes a fire start at most one run,
whatever the number of scheduler processes or duplicated timers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import TriggerRecord, UTCDateTime, utcnow


class ScheduleState(db.Model):
    __tablename__ = "schedule_states"

    trigger_id: Mapped[str] = mapped_column(ForeignKey("triggers.id", ondelete="CASCADE"), primary_key=True)
    # None: paused, deleted or ended; nothing is armed.
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    last_planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleClaim(TriggerRecord, db.Model):
    """What one planned fire of a schedule did; unique per (trigger, planned time)."""

    __tablename__ = "schedule_claims"
    __table_args__ = (UniqueConstraint("trigger_id", "planned_at", name="uq_schedule_claims_trigger_planned"),)

    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # started | catch_up | skipped_overlap | missed | failed
    outcome: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    missed_count: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
