"""Render the Prometheus text exposition for `/metrics`.

Why from the database and not from counters in memory: runs are created by web processes and
finished by workers, on many machines; the database is the one place that knows them all, so
any process can answer a scrape with the same numbers. The counts are of retained runs: when
retention deletes old runs they go down, which Prometheus treats like a counter reset.
"""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy import case, func, literal_column

from app.extensions import db
from app.models import Run, RunStatus
from app.queueing.jobs import get_queue
from app.queueing.rq_setup import worker_count

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def render() -> str:
    """Every metric, in the text format (version 0.0.4)."""
    lines: list[str] = []
    _runs_by_status(lines)
    _duration_histogram(lines)
    _queue(lines)
    return "\n".join(lines) + "\n"


def _runs_by_status(lines: list[str]) -> None:
    lines += ["# HELP switchboard_runs Runs recorded (within the retention period) by status and trigger type.",
              "# TYPE switchboard_runs gauge"]
    rows = db.session.execute(
        db.select(Run.status, Run.trigger_type, func.count()).group_by(Run.status, Run.trigger_type)
        .order_by(Run.trigger_type, Run.status)).all()
    seen = set()
    for status, trigger_type, count in rows:
        seen.add(status)
        lines.append(f'switchboard_runs{{status="{status.value}",trigger_type="{_label(trigger_type)}"}} {count}')
    for status in RunStatus:
        if status not in seen:  # every status present, so alerts on e.g. failed runs work from zero
            lines.append(f'switchboard_runs{{status="{status.value}",trigger_type=""}} 0')


def _seconds_expr():
    """Run duration in seconds, in the dialect at hand (SQLite stores text, PostgreSQL timestamps)."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(Run.finished_at) - func.julianday(Run.started_at)) * literal_column("86400.0")
    return func.extract("epoch", Run.finished_at - Run.started_at)


def _duration_histogram(lines: list[str]) -> None:
    seconds = _seconds_expr()
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in BUCKETS]
    rows = db.session.execute(
        db.select(Run.trigger_type, func.count(), func.coalesce(func.sum(seconds), 0), *columns)
        .where(Run.started_at.is_not(None), Run.finished_at.is_not(None)).group_by(Run.trigger_type)
        .order_by(Run.trigger_type)).all()
    lines += ["# HELP switchboard_run_duration_seconds Time from a run's start to its end, finished runs.",
              "# TYPE switchboard_run_duration_seconds histogram"]
    for trigger_type, count, total, *buckets in rows:
        label = f'trigger_type="{_label(trigger_type)}"'
        for bound, value in zip(BUCKETS, buckets):
            lines.append(f'switchboard_run_duration_seconds_bucket{{{label},le="{bound}"}} {int(value or 0)}')
        lines.append(f'switchboard_run_duration_seconds_bucket{{{label},le="+Inf"}} {count}')
        lines.append(f"switchboard_run_duration_seconds_sum{{{label}}} {float(total):.6f}")
        lines.append(f"switchboard_run_duration_seconds_count{{{label}}} {count}")


def _queue(lines: list[str]) -> None:
    queue = get_queue()
    try:
        depth = queue.count
        workers = worker_count(queue.connection)
        up = 1
    except RedisError:
        depth = workers = None
        up = 0
    lines += ["# HELP switchboard_queue_up 1 when the run queue (Redis) answered this scrape.",
              "# TYPE switchboard_queue_up gauge", f"switchboard_queue_up {up}"]
    if depth is not None:
        lines += ["# HELP switchboard_queue_depth Run jobs waiting in the queue for a worker.",
                  "# TYPE switchboard_queue_depth gauge", f'switchboard_queue_depth{{queue="{_label(queue.name)}"}} {depth}',
                  "# HELP switchboard_workers RQ workers registered on the queue's Redis.",
                  "# TYPE switchboard_workers gauge", f"switchboard_workers {workers}"]


def _label(value: str | None) -> str:
    return (value or "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
