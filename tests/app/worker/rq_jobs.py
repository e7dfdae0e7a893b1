"""Job functions the RQ worker tests enqueue by name (RQ imports them in the worker)."""

from __future__ import annotations

import os
import signal

from rq import get_current_job

from app.queueing import outbox

RECORD = "test:rq-jobs:record"


def record(value: str) -> str:
    """Append `value` to the record list, with what the job's hash said about it while it ran."""
    job = get_current_job()
    status, started_at, worker = job.connection.hmget(job.key, "status", "started_at", "worker_name")
    ttl = job.connection.ttl(job.key)
    job.connection.rpush(RECORD, f"{value}|{status.decode()}|{bool(started_at)}|{worker.decode()}|{ttl > 0}")
    return value


def fail(message: str) -> None:
    raise RuntimeError(message)


def forget_scripts(value: str) -> str:
    """What a Redis restart does to the worker's script cache."""
    get_current_job().connection.script_flush()
    return record(value)


def defer(value: str) -> str:
    """Add a command to whatever the worker sends after this job (as the run's announcement does)."""
    pipe, send_now = outbox.pipeline(get_current_job().connection)
    pipe.rpush(RECORD, f"deferred {value}")
    if send_now:
        pipe.execute()
    return value


def stop_worker(value: str) -> str:
    """SIGTERM our own process mid-job, as `kill <worker>` would, then finish the job."""
    os.kill(os.getpid(), signal.SIGTERM)
    return defer(value)


def on_success(job, connection, result, *args, **kwargs) -> None:
    connection.rpush(RECORD, f"callback {result}")


def noop() -> None:
    """A job that talks to nobody: what the worker sends for it is the worker's own."""
