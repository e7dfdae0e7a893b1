"""Runs and their steps: the record of everything a flow did.

The run row is the truth (Redis only carries its id), so it holds everything needed to execute
or resume it: the version it runs, its inputs and trigger metadata. One `RunStep` per node attempt.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, false, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import flows
from app.extensions import db
from app.models.types import JSONType, UTCDateTime, enum_column, new_id, utcnow


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # parked by a delay node until `resume_at`; no worker holds it
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    DISCARDED = "discarded"  # not started before the caller's discard time; never executed

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING)


# The engine's step statuses, stored as they are (flows.StepStatus); a run's final status is the
# RunStatus with the value of the engine's OutcomeStatus (see app.services.runs.lifecycle.outcome_values).
StepStatus = flows.StepStatus


DISCARD_MESSAGE = "Discarded: the run could not start before the caller's discardTimeMillis."


class Run(db.Model):
    """One execution of a published flow version, from the trigger's request to its final status."""

    __tablename__ = "runs"
    __table_args__ = (
        # No index on status or workspace_id alone: the indexes below that start with them serve
        # those lookups (and the cascades) as well, and every index is one more write per run.
        Index("ix_runs_flow_created", "flow_id", "created_at"),
        Index("ix_runs_workspace_out_id", "workspace_id", "out_id"),
        Index("ix_runs_workspace_idempotency_key", "workspace_id", "idempotency_key"),
        Index("ix_runs_session_created", "session_id", "created_at"),
        # The workspace-wide runs list pages by (created_at, id); retention scans by created_at.
        Index("ix_runs_workspace_created", "workspace_id", "created_at"),
        Index("ix_runs_created", "created_at"),
        Index("ix_runs_status_resume_at", "status", "resume_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    flow_version_id: Mapped[str] = mapped_column(ForeignKey("flow_versions.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    trigger_id: Mapped[str | None] = mapped_column(ForeignKey("triggers.id", ondelete="SET NULL"), nullable=True)
    trigger_node_id: Mapped[str] = mapped_column(String(64))
    trigger_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.QUEUED)
    inputs: Mapped[dict] = mapped_column(JSONType, default=dict)
    trigger_payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    output: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("conversation_sessions.id", ondelete="SET NULL"),
                                                   nullable=True)
    out_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # claimTimeMillis
    discard_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # discardTimeMillis
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Lease: the worker holding `lease_token` owns the run until `lease_expires_at`; every write it
    # makes is fenced on the token, so a worker that lost the run cannot write into it any more.
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The time limit counts active time only: while no worker holds the run (parked by a delay,
    # or requeued after its worker died) `paused_at` says since when, and the next claim moves
    # `deadline_at` by the time since then (app.services.runs.lifecycle).
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resume_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # scheduled runs' fire time
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    steps: Mapped[list["RunStep"]] = relationship(
        back_populates="run", order_by="(RunStep.seq, RunStep.attempt)", cascade="all, delete-orphan"
    )
    flow = relationship("Flow")
    version = relationship("FlowVersion")
    session = relationship("ConversationSession")

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class RunStep(db.Model):
    __tablename__ = "run_steps"
    __table_args__ = (UniqueConstraint("run_id", "seq", "attempt", name="uq_run_steps_run_seq_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))  # indexed by the unique key
    seq: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    node_id: Mapped[str] = mapped_column(String(64))
    node_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[StepStatus] = mapped_column(enum_column(StepStatus))
    input: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    output: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    port: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    run: Mapped[Run] = relationship(back_populates="steps")

    @property
    def duration_ms(self) -> float | None:
        if self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds() * 1000, 1)
        return None
