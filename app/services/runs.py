"""Create runs, queue them, and describe them for answers.

The outbox order is the point: the run row is committed before its id is enqueued, so a run
that a caller was told about always exists, even if Redis fails right after.
"""

from __future__ import annotations

import logging

from app.urls import public_url
from redis.exceptions import RedisError

from app.extensions import db
from app.models import Flow, FlowVersion, Run, RunStatus, Trigger
from app.models.types import iso, utcnow
from app.queueing import enqueue_run

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """Redis refused the job; the run was marked canceled so nobody waits for it."""


def start_run(*, flow: Flow, version: FlowVersion, trigger: Trigger | None, node: dict,
              inputs: dict, trigger_payload: dict, request_id: str | None) -> Run:
    """Commit a queued run of `version` started by trigger `node`, then enqueue it."""
    run = Run(
        workspace_id=flow.workspace_id, flow_id=flow.id, flow_version_id=version.id,
        version_number=version.number, trigger_id=trigger.id if trigger else None,
        trigger_node_id=node["id"], trigger_type=node["type"] if trigger else "manual", status=RunStatus.QUEUED,
        inputs=inputs, trigger_payload=trigger_payload, request_id=request_id,
    )
    db.session.add(run)
    db.session.commit()
    try:
        enqueue_run(run.id)
    except RedisError as exc:
        log.error("run_id=%s state=canceled reason=queue-unavailable error=%s", run.id, exc)
        run.status = RunStatus.CANCELED
        run.error = "The queue was unavailable when the run was requested; it was not executed."
        run.finished_at = utcnow()
        db.session.commit()
        raise QueueUnavailable(str(exc)) from exc
    return run


def status_url(run: Run) -> str:
    return public_url("api.get_run", run_id=run.id)


def run_summary(run: Run) -> dict:
    return {
        "id": run.id,
        "flow_id": run.flow_id,
        "version": run.version_number,
        "trigger_node_id": run.trigger_node_id,
        "trigger_type": run.trigger_type,
        "status": run.status.value,
        "error": run.error,
        "error_node_id": run.error_node_id,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_ms": run.duration_ms,
    }


def run_detail(run: Run) -> dict:
    data = run_summary(run)
    data.update({
        "inputs": run.inputs,
        "output": run.output,
        "request_id": run.request_id,
        "attempts": run.attempts,
        "steps": [
            {
                "seq": step.seq, "attempt": step.attempt, "node_id": step.node_id, "node_type": step.node_type,
                "status": step.status.value, "input": step.input, "output": step.output, "port": step.port,
                "error": step.error, "started_at": iso(step.started_at), "finished_at": iso(step.finished_at),
                "duration_ms": step.duration_ms,
            }
            for step in run.steps
        ],
    })
    return data


def is_final(run: Run) -> bool:
    return run.status.is_final


__all__ = ["QueueUnavailable", "RunStatus", "is_final", "run_detail", "run_summary", "start_run", "status_url"]
