"""A run's job goes to Redis in one round trip, written exactly as RQ's own enqueue writes it."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

RQ_OWN_FIELDS_THAT_DIFFER = {b"data", b"created_at", b"enqueued_at", b"description", b"origin"}


class CountingConnection(redis.UnixDomainSocketConnection):
    sent = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        return super().send_packed_command(command, check_health)


def test_an_enqueued_run_costs_one_round_trip_and_is_the_job_rq_would_write(tmp_path, monkeypatch):
    for key in ("REDIS_URL", "DATABASE_URL", "QUEUE_NAME"):
        monkeypatch.delenv(key, raising=False)
    from app import create_app
    from app.queueing.connection import embedded_server
    from app.queueing.jobs import JOB_FUNCTION, enqueue_run, get_queue

    app = create_app({"TESTING": True}, instance_path=str(tmp_path))
    pool = redis.ConnectionPool(connection_class=CountingConnection, path=embedded_server(str(tmp_path)).socket_file)
    connection = redis.Redis(connection_pool=pool)
    app.extensions["switchboard_redis"] = connection
    with app.app_context():
        connection.flushall()
        enqueue_run("r0", "run-r0-a", 30)  # the first job of its kind is RQ's own; later ones follow it
        CountingConnection.sent = 0
        enqueue_run("r1", "run-r1-a", 30)
        assert CountingConnection.sent == 1
        Queue("reference", connection=connection).enqueue(
            JOB_FUNCTION, "r2", job_id="run-r2-b", job_timeout=60, result_ttl=0, failure_ttl=24 * 3600,
            description="run r2")
        ours, theirs = connection.hgetall(Job.key_for("run-r1-a")), connection.hgetall(Job.key_for("run-r2-b"))
        assert set(ours) == set(theirs)
        assert {k: v for k, v in ours.items() if k not in RQ_OWN_FIELDS_THAT_DIFFER} == \
            {k: v for k, v in theirs.items() if k not in RQ_OWN_FIELDS_THAT_DIFFER}
        job = Job.fetch("run-r1-a", connection=connection)
        assert (job.func_name, job.args, job.timeout, job.result_ttl, job.get_status(), job.origin) == \
            (JOB_FUNCTION, ("r1",), 60, 0, "queued", get_queue().name)
        assert get_queue().get_job_ids() == ["run-r0-a", "run-r1-a"]
        assert get_queue() in Queue.all(connection=connection)
        connection.close()
