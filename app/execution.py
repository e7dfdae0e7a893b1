"""Run the engine inside an RQ job: load the run, execute its version node by node, record it all.

This is the only bridge between the pure engine (`flows`) and the database: `SqlJournal` stores
each step as the engine reports it, committing as it goes, so a run can be continued from its
persisted steps by any worker.
"""

from __future__ import annotations

import logging
import os

from flask import current_app

import flows
from app.extensions import db
from app.models import Run, RunStatus, RunStep, StepStatus
from app.models.types import utcnow
from app.queueing import announce_finished

log = logging.getLogger(__name__)
_pool_pid: int | None = None


class SqlJournal:
    """Persist the engine's steps as `RunStep` rows (the engine's `Journal` protocol)."""

    def __init__(self, run: Run):
        self.run = run
        self._open: dict[int, RunStep] = {}

    def completed_steps(self) -> list[flows.StepRecord]:
        rows = db.session.execute(
            db.select(RunStep).where(RunStep.run_id == self.run.id).order_by(RunStep.seq, RunStep.attempt)
        ).scalars()
        latest: dict[int, RunStep] = {}
        for row in rows:
            latest[row.seq] = row  # the last attempt of each step is the one that counts
        return [
            flows.StepRecord(seq=row.seq, node_id=row.node_id, status=row.status.value, output=row.output,
                             port=row.port, attempt=row.attempt)
            for row in latest.values()
        ]

    def step_started(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict) -> None:
        step = RunStep(run_id=self.run.id, seq=seq, attempt=attempt, node_id=node_id, node_type=node_type,
                       status=StepStatus.RUNNING, input=input, started_at=utcnow())
        db.session.add(step)
        db.session.commit()
        self._open[seq] = step

    def step_finished(self, seq: int, status: str, output: dict | None, port: str | None, error: str | None) -> None:
        step = self._open.pop(seq)
        step.status = StepStatus(status)
        step.output = output
        step.port = port
        step.error = error
        step.finished_at = utcnow()
        db.session.commit()


def _fresh_connections() -> None:
    """Drop database connections inherited from the parent after RQ forks a work horse."""
    global _pool_pid
    if _pool_pid != os.getpid():
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def execute_run(run_id: str) -> str:
    """Execute run `run_id` to a final status; safe to call again for a run that already ended."""
    _fresh_connections()
    try:
        return _execute(run_id)
    finally:
        db.session.remove()


def _execute(run_id: str) -> str:
    run = db.session.get(Run, run_id)
    if run is None:
        log.warning("run_id=%s state=missing (deleted before it ran)", run_id)
        return "missing"
    if run.status.is_final:
        log.info("run_id=%s state=%s (already final, nothing to do)", run_id, run.status.value)
        announce_finished(run_id, run.status.value)
        return run.status.value

    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or utcnow()
    run.attempts += 1
    db.session.commit()
    log.info("run_id=%s state=running version=%s attempt=%s", run_id, run.version_number, run.attempts)

    outcome = flows.run_graph(
        run.version.document,
        entry_node_id=run.trigger_node_id,
        payload={"inputs": run.inputs or {}, "trigger": run.trigger_payload or {}},
        journal=SqlJournal(run),
        run_info={"id": run.id, "flow_id": run.flow_id, "version": run.version_number,
                  "trigger_node_id": run.trigger_node_id, "created_at": run.created_at.isoformat()},
        max_steps=current_app.config["MAX_STEPS"],
    )
    run.status = RunStatus.SUCCEEDED if outcome.status == "succeeded" else RunStatus.FAILED
    run.output = outcome.output
    run.error = outcome.error
    run.error_node_id = outcome.error_node_id
    run.finished_at = utcnow()
    db.session.commit()
    log.info("run_id=%s state=%s steps=%s", run_id, run.status.value, outcome.steps)
    announce_finished(run_id, run.status.value)
    return run.status.value
