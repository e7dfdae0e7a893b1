"""The RQ worker class that executes runs: RQ's SimpleWorker with one round trip per job.

Why a subclass: measured with `redis-cli monitor`, RQ 3 sends 12 round trips (53 commands) to
Redis per job while draining a backlog, about half the worker's CPU per run, and writes three
log lines of its own per job. Most of it is bookkeeping our runs do not use: the execution
registry (our lease and sweeper find abandoned runs), result keeping (the run row is the
result), the dependents check (run jobs have none), a suspension check and heartbeats per job.

`RunWorker` keeps RQ's work loop, signals, worker registration, maintenance, time limits and
failure handling, and replaces the per-job path: one Lua script (`app.worker.rq_take`) takes the
next job and marks it started; the job runs under RQ's death penalty; its success (the job hash
deleted, or marked finished for a job that keeps its result, and the worker's counters) and the
run's announcement (`app.queueing.outbox`) are queued on a pipeline that goes out together with
the script that takes the next job. A drained backlog costs one round trip per run; a worker
woken from idle adds its BLPOP and the script that claims what it popped.

Jobs that need more of RQ (callbacks, dependencies, retries, repeats, webhooks, rate limits,
groups), jobs that fail and jobs that return a `Retry` go through RQ's own code, unchanged.
Heartbeats RQ sends outside a pipeline without a timeout are sent at most every couple of
seconds; the worker's TTL is minutes.
"""

from __future__ import annotations

import sys
import time

import redis
from rq import Retry, SimpleWorker, Worker
from rq.exceptions import DequeueTimeout, StopRequested
from rq.job import Job, JobStatus
from rq.serializers import PickleSerializer
from rq.suspension import WORKERS_SUSPENDED
from rq.timeouts import JobTimeoutException
from rq.utils import now, utcformat
from rq.worker import WorkerStatus

from app.queueing import outbox
from app.worker.rq_take import Taker

HEARTBEAT_EVERY_SECONDS = 2.0


class _LessChatty:
    """Skip repeated plain heartbeats and state writes; a mixin for RQ's worker classes."""

    _last_plain_heartbeat = 0.0
    _state_written: str | None = None

    def heartbeat(self, timeout=None, pipeline=None):
        if timeout is None and pipeline is None:
            if time.monotonic() - self._last_plain_heartbeat < HEARTBEAT_EVERY_SECONDS:
                return
            self._last_plain_heartbeat = time.monotonic()
        super().heartbeat(timeout=timeout, pipeline=pipeline)

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == self._state_written:
            self._state = state
            return
        self._state_written = state if pipeline is None else None
        super().set_state(state, pipeline=pipeline)


def _plain(job: Job) -> bool:
    """Whether the job needs nothing of RQ after it ran but its status (a run or a schedule timer)."""
    return not (job._success_callback_name or job._failure_callback_name or job._stopped_callback_name
                or job._dependency_ids or job.retries_left is not None or job.repeats_left is not None
                or job.webhooks or job.has_rate_limit or job.group_id)


class RunWorker(_LessChatty, SimpleWorker):
    """Execute jobs in the worker process itself (no fork per job; see worker.py), one round trip each."""

    _taker: Taker | None = None
    _claimed: Job | None = None
    _outgoing = None  # a pipeline of what finished jobs still have to tell Redis

    def _pending(self):
        if self._outgoing is None:
            self._outgoing = self.connection.pipeline(transaction=False)
        return self._outgoing

    def check_for_suspension(self, burst: bool):
        """Nothing here: the take script checks for `rq suspend` in the same round trip (see `_take`)."""

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Take the next job in one round trip; with empty queues, block on BLPOP (or return in burst mode)."""
        backoff = _Backoff(self)
        while True:
            try:
                taken = self._take(burst=timeout is None)
                if taken is not None or timeout is None:
                    return taken
                if max_idle_time is not None:  # RQ's own loop keeps count of idle time
                    return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
                return self._wait(timeout)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                backoff.wait(exc)

    def _take(self, burst: bool, popped: tuple[str, str] | None = None):
        """Send what is pending and run the take script; returns (job, queue) or None.

        The worker counts as busy until the answer says otherwise, so a stop signal meanwhile
        lets a job taken by this very round trip finish (RQ's warm shutdown).
        """
        self._state = WorkerStatus.BUSY
        try:
            while True:
                answer = self._round_trip(popped)
                if answer and answer[0] == b"suspended":
                    self._state = self._state_written = WorkerStatus.IDLE
                    SimpleWorker.check_for_suspension(self, burst)  # waits until resumed; in burst mode, stops
                    self._state = WorkerStatus.BUSY
                    continue
                if answer and len(answer) == 3:
                    return self._restore(*answer)
                self._state = self._state_written = WorkerStatus.IDLE  # the script wrote it
                return None
        except BaseException:
            self._state, self._state_written = WorkerStatus.IDLE, None
            raise

    def _round_trip(self, popped: tuple[str, str] | None):
        if self._taker is None:
            self._taker = Taker(self.connection)
        queues = [popped[0]] if popped else [queue.key for queue in self._ordered_queues]
        keys = [self.key, self.executions_key, WORKERS_SUSPENDED, *queues]
        args = [utcformat(now()), self.name, self.worker_ttl + 60, Job.redis_job_namespace_prefix,
                popped[1] if popped else ""]
        pipe, self._outgoing = self._pending(), None
        self._taker.add(pipe, keys, args)
        results = pipe.execute(raise_on_error=False)
        for failed in (r for r in results[:-1] if isinstance(r, Exception)):
            self.log.warning("Worker %s: Redis refused a finished job's update: %s", self.name, failed)
        self.last_heartbeat = now()
        return self._taker.answer(results[-1], keys, args)

    def _restore(self, queue_key: bytes, job_id: bytes, fields: list):
        """Build the taken job from the hash the script read, as RQ's fetch would, and mark it started."""
        # RQ's default serializer passed as None: checking a given one against its Protocol cost more than the rest.
        serializer = None if self.serializer is PickleSerializer else self.serializer
        job = self.job_class(job_id.decode(), connection=self.connection, serializer=serializer)
        job.restore(dict(zip(fields[0::2], fields[1::2])))
        job._status, job.worker_name = JobStatus.STARTED, self.name
        job.started_at = job.last_heartbeat = self.last_heartbeat
        key = queue_key.decode()
        queue = next((q for q in self.queues if q.key == key), None) or self.queue_class.from_queue_key(
            key, connection=self.connection, job_class=self.job_class, serializer=self.serializer)
        self._claimed, self._state_written = job, WorkerStatus.BUSY
        self.log.debug("Worker %s: took job %s from %s", self.name, job.id, queue.name)
        return job, queue

    def _wait(self, timeout: int):
        """Block until a job is pushed (RQ's BLPOP, with its heartbeats and backoff), then claim it."""
        keys = [queue.key for queue in self._ordered_queues]
        backoff = _Backoff(self)
        while True:
            if self._stop_requested:
                raise StopRequested()
            self.set_state(WorkerStatus.IDLE)
            try:
                self.heartbeat()
                if self.should_run_maintenance_tasks:
                    self.run_maintenance_tasks()
                queue_key, job_id = self.queue_class.lpop(keys, timeout, connection=self.connection)
                taken = self._take(burst=False, popped=(_text(queue_key), _text(job_id)))
                if taken is not None:
                    return taken
            except DequeueTimeout:
                pass
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                backoff.wait(exc)

    def execute_job(self, job: Job, queue):
        """Run a job taken by the script the short way; anything else the way RQ runs it."""
        claimed, self._claimed = self._claimed is job, None
        if not claimed or not _plain(job):
            return super().execute_job(job, queue)
        try:
            with outbox.deferred(self._pending()):
                with self.death_penalty_class(job.timeout or self.queue_class.DEFAULT_TIMEOUT,
                                              JobTimeoutException, job_id=job.id):
                    result = job.perform()
        except:  # noqa: E722  (as RQ's perform_job: whatever the job raised fails it)
            self._hand_to_rq(job, queue, exc_info=sys.exc_info())
            return
        if isinstance(result, Retry):
            self._hand_to_rq(job, queue, result=result)
            return
        self._succeeded(job)
        # Still "busy" until the next take: a stop signal now lets the loop end after sending this job's updates.

    def _succeeded(self, job: Job) -> None:
        """Queue RQ's success bookkeeping for the next round trip (no Result kept, no dependents)."""
        job.ended_at = now()
        job._status = JobStatus.FINISHED
        pipe = self._pending()
        ttl = job.get_result_ttl(self.default_result_ttl)
        if ttl == 0:
            pipe.delete(job.key)
        else:
            pipe.hset(job.key, mapping={"status": JobStatus.FINISHED.value, "ended_at": utcformat(job.ended_at)})
            if ttl > 0:
                pipe.expire(job.key, ttl)
        pipe.hincrby(self.key, "successful_job_count", 1)
        pipe.hincrbyfloat(self.key, "total_working_time", (job.ended_at - job.started_at).total_seconds())
        self.log.debug("Worker %s: job %s OK", self.name, job.id)

    def _hand_to_rq(self, job: Job, queue, exc_info=None, result=None) -> None:
        """Finish a failed (or retrying) job with RQ's own bookkeeping: failed registry, retries, callbacks."""
        self.flush()
        execution = self.prepare_execution(job)
        if exc_info is not None:
            self._finalize_failure(job, queue, execution, exc_info)
        else:
            self._finalize_success(job, queue, execution, result)
        self.set_state(WorkerStatus.IDLE)

    def flush(self) -> None:
        """Send what finished jobs still have to tell Redis now (before leaving, or before RQ's own writes)."""
        pipe, self._outgoing = self._outgoing, None
        if pipe is not None and len(pipe):
            try:
                pipe.execute(raise_on_error=False)
            except redis.exceptions.RedisError as exc:
                self.log.warning("Worker %s: could not send finished jobs' updates: %s", self.name, exc)

    def teardown(self):
        self.flush()
        super().teardown()


class _Backoff:
    """RQ's wait between attempts to reach a lost Redis: 1 s, growing to the worker's maximum."""

    def __init__(self, worker):
        self.worker, self.seconds = worker, 1.0

    def wait(self, exc: Exception) -> None:
        self.worker.log.error("Worker %s: could not connect to Redis: %s; retrying in %d seconds",
                              self.worker.name, exc, self.seconds)
        time.sleep(self.seconds)
        self.seconds = min(self.seconds * self.worker.exponential_backoff_factor, self.worker.max_connection_wait_time)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ForkingRunWorker(_LessChatty, Worker):
    """RQ's forking worker (a work horse per job), for deployments that want that isolation."""
