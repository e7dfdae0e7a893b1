"""Conversation sessions and the request records that make triggers safe to call twice.

A `ConversationSession` groups the runs of one conversation (a caller's `sessionId`, or a
contact). It expires after the trigger's session duration without activity; the same session id
used after that starts a new session row (`generation` + 1), so a conversation's history never
leaks into the next one while old conversations stay visible.

`IdempotencyKey` and `BodyFingerprint` exist for their unique constraints: the database, not a
check-then-insert in Python, decides which of two concurrent requests wins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import TriggerRecord, UTCDateTime, new_id, utcnow


class ConversationSession(db.Model):
    __tablename__ = "conversation_sessions"
    __table_args__ = (
        UniqueConstraint("trigger_id", "key", "generation", name="uq_sessions_trigger_key_generation"),
        Index("ix_sessions_workspace_last_active", "workspace_id", "last_active_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    trigger_id: Mapped[str] = mapped_column(ForeignKey("triggers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def contact(self) -> dict | None:
        values = {"name": self.contact_name, "email": self.contact_email, "phone": self.contact_phone}
        values = {name: value for name, value in values.items() if value}
        return values or None


class IdempotencyKey(TriggerRecord, db.Model):
    """One row per idempotency key a trigger has seen; a retry finds the run the first request started.

    Run now by API from the start node has no trigger, so its keys belong to the flow (`flow_id`);
    every other key belongs to a trigger. Exactly one of the two is set.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("trigger_id", "key", name="uq_idempotency_trigger_key"),
                      UniqueConstraint("flow_id", "key", name="uq_idempotency_flow_key"),
                      CheckConstraint("(trigger_id IS NULL) <> (flow_id IS NULL)", name="one_scope"))

    trigger_id: Mapped[str | None] = mapped_column(ForeignKey("triggers.id", ondelete="CASCADE"), nullable=True)
    flow_id: Mapped[str | None] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(255))
    body_hash: Mapped[str] = mapped_column(String(64))
    # The run this key started, written in the run's own transaction (NULL only in rows that
    # releases before that left: their request died or is still being accepted).
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BodyFingerprint(TriggerRecord, db.Model):
    """One row per distinct body a trigger that ignores duplicate bodies has accepted."""

    __tablename__ = "body_fingerprints"
    __table_args__ = (UniqueConstraint("trigger_id", "body_hash", name="uq_body_fingerprints_trigger_hash"),)

    body_hash: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
