"""Build RQ's queues, workers and scheduler, and read RQ's job records, in one place.

Why one module (as Redash's `tasks/worker.py`): the queue names, the worker classes and the
parts of RQ's internals we rely on (a job's hash fields, its time format, a worker's stop flag)
would otherwise be spelled wherever they are needed, and an RQ upgrade would mean hunting for
them. Two queues per installation: `<QUEUE_NAME>` carries run jobs, `<QUEUE_NAME>-schedules`
the schedule timers, which workers take first (they are tiny, and a fire should not wait
behind long runs).
"""

from __future__ import annotations

import zlib
from datetime import datetime

from flask import Flask
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException  # noqa: F401  (raised in a job that runs past its timeout)
from rq.utils import now, utcformat

from app.config import settings
from app.queueing.connection import get_redis
from app.worker.rq_worker import ForkingRunWorker, RunWorker

# Job states in which RQ still holds the job: queued, waiting for a time or a dependency, running.
ALIVE_JOB_STATES = frozenset({"queued", "scheduled", "deferred", "started"})


def run_queue_name(app: Flask | None = None) -> str:
    return settings(app).queue_name


def schedule_queue_name(app: Flask | None = None) -> str:
    return f"{settings(app).queue_name}-schedules"


def run_queue(connection=None, app: Flask | None = None) -> Queue:
    """The queue of run jobs (each carries a run id); `app` defaults to the current one."""
    return Queue(run_queue_name(app), connection=connection if connection is not None else get_redis(app))


def cached_run_queue() -> Queue:
    """The current app's run queue, built once per Redis client (a queue object per enqueue cost
    more CPU than the enqueue's round trip)."""
    connection = get_redis()
    queues = connection.__dict__.setdefault("_switchboard_queues", {})
    name = run_queue_name()
    if name not in queues:
        queues[name] = run_queue(connection)
    return queues[name]


def add_job(pipe, queue: Queue, func: str, args: tuple, **options) -> Job:
    """Add a job to `pipe` as `Queue.enqueue` writes it: the queue's registration, the job hash, the push.

    The push comes last, so no worker sees an id without its job; a job lost halfway (Redis gone
    mid-write) is left for the sweeper to requeue. What `Queue.enqueue` does besides (a
    transaction, the status written twice, dependencies, its own round trip for the
    registration) cost twice the CPU and a second round trip; our jobs have no dependencies.
    """
    job = Job.create(func, args=args, connection=queue.connection, status=JobStatus.QUEUED, origin=queue.name,
                     **{"id" if key == "job_id" else key: value for key, value in options.items()})
    job.enqueued_at = now()
    pipe.sadd(queue.redis_queues_keys, queue.key)
    pipe.hset(job.key, mapping=job.to_dict())
    pipe.rpush(queue.key, job.id)
    return job


# Fields of a job's hash that differ from job to job; every other field is the same for every job
# with the same queue, function and options (see `add_like_job`).
_PER_JOB_FIELDS = ("created_at", "enqueued_at", "data", "description")
_templates: dict[tuple, tuple[dict, object]] = {}
MAX_TEMPLATES = 256  # one per distinct run time limit in use, at most this many kept


def add_like_job(pipe, queue: Queue, func: str, args: tuple, *, job_id: str, description: str, **options) -> None:
    """`add_job` for a job of a kind enqueued many times (options hashable): the same writes, less CPU.

    The first job of a queue, function and options is written by `add_job` (RQ's own
    `Job.to_dict()`), and its hash kept as a template; later ones change only the per-job
    fields. Building an RQ `Job` per enqueue cost more than the rest of the enqueue.
    """
    key = (queue.name, func, tuple(sorted(options.items())))
    template = _templates.get(key)
    if template is None:
        job = add_job(pipe, queue, func, args, job_id=job_id, description=description, **options)
        if len(_templates) >= MAX_TEMPLATES:
            _templates.clear()
        _templates[key] = ({name: value for name, value in job.to_dict().items() if name not in _PER_JOB_FIELDS},
                           job.serializer)
        return
    fields, serializer = template
    moment = utcformat(now())
    pipe.sadd(queue.redis_queues_keys, queue.key)
    pipe.hset(Job.key_for(job_id), mapping={**fields, "created_at": moment, "enqueued_at": moment,
                                            "data": zlib.compress(serializer.dumps((func, None, args, {}))),
                                            "description": description})
    pipe.rpush(queue.key, job_id)


def schedule_queue(connection=None, app: Flask | None = None) -> Queue:
    """The queue of schedule timers."""
    return Queue(schedule_queue_name(app), connection=connection if connection is not None else get_redis(app))


def make_worker(connection, name: str | None, fork: bool) -> Worker:
    """A worker on both queues, schedule timers first; `fork` gives each job its own work horse."""
    worker_class = ForkingRunWorker if fork else RunWorker
    worker = worker_class([schedule_queue(connection), run_queue(connection)], connection=connection, name=name)
    worker.max_connection_wait_time = 5  # retry a lost Redis every few seconds, not every minute
    return worker


def stop_requested(worker: Worker) -> bool:
    """True once the worker was asked to stop (SIGTERM/SIGINT), idle or busy."""
    return worker._shutdown_requested_date is not None


def worker_count(connection) -> int:
    """The RQ workers registered on this Redis (alive within their heartbeat TTL)."""
    return Worker.count(connection=connection)


def scheduler(queue: Queue | None = None, interval: float = 1.0):
    """rq-scheduler's clock on `queue` (default: the run queue), polling every `interval` seconds."""
    from rq_scheduler import Scheduler  # only the clock and code that sets timers need it

    queue = queue or run_queue()
    return Scheduler(queue=queue, connection=queue.connection, interval=interval)


def job_key(job_id: str | None) -> str:
    """The Redis hash of a job (fields `status`, `started_at`, ...); a missing id names no job."""
    return Job.key_for(job_id or "none")


def job_time(moment: datetime) -> str:
    """Format a naive UTC time as RQ stores it in a job's hash (comparable as text)."""
    return utcformat(moment)
