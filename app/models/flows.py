"""Flows, their immutable published versions, and their triggers.

A `FlowVersion` is never updated: saving publishes a new one, rollback republishes an old
document as a new one. A `Trigger` row exists per trigger node and outlives versions, so its URL
and secret stay the same while the flow changes around it. A deleted trigger's row is kept (its
runs point at it) but never revived: a node added later with the same node id gets a new row,
so an id someone stored for the deleted trigger answers 404 forever.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import JSONType, UTCDateTime, enum_column, new_id, utcnow


class Flow(db.Model):
    __tablename__ = "flows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    run_timeout_seconds: Mapped[int] = mapped_column(Integer, default=300, server_default="300")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Archived flows keep their versions and runs (readable) but their triggers answer 404 until restored.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The inputs of the last draft test, so the next test starts from them.
    test_inputs: Mapped[dict | None] = mapped_column(JSONType, nullable=True)

    # Published versions only: tested drafts (draft=True, negative numbers) never show as versions.
    versions: Mapped[list["FlowVersion"]] = relationship(
        back_populates="flow", order_by="FlowVersion.number", cascade="all, delete-orphan",
        primaryjoin="and_(Flow.id == FlowVersion.flow_id, FlowVersion.draft.is_(False))", viewonly=False,
    )
    triggers: Mapped[list["Trigger"]] = relationship(back_populates="flow", cascade="all, delete-orphan")


class FlowVersion(db.Model):
    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "number", name="uq_flow_versions_flow_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict] = mapped_column(JSONType)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # A draft the editor tested before publishing: numbered -1, -2, … and never listed as a version.
    draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flow: Mapped[Flow] = relationship(back_populates="versions")
    created_by = relationship("User")


class TriggerStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


class Trigger(db.Model):
    """A trigger node of a flow, with what outlives versions: its URL key, secret and status."""

    __tablename__ = "triggers"
    __table_args__ = (
        # One live row per trigger node; deleted rows (any number per node id) stay as tombstones.
        Index("uq_triggers_flow_node_live", "flow_id", "node_id", unique=True,
              sqlite_where=text("status != 'deleted'"), postgresql_where=text("status != 'deleted'")),
        # Keys are case-insensitive and unique in a workspace; deleted triggers free their key (NULL).
        UniqueConstraint("workspace_id", "key_lower", name="uq_triggers_workspace_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the node's own name, if it has one
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_lower: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret_hint: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Standard Webhooks signing secret, encrypted (HMAC needs the secret itself, not a hash). The
    # previous one stays valid for a grace period after rotation, so senders can switch over.
    signing_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_signing_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_signing_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[TriggerStatus] = mapped_column(enum_column(TriggerStatus), default=TriggerStatus.ACTIVE)
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flow: Mapped[Flow] = relationship(back_populates="triggers")
