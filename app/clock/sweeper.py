"""Find runs that nothing is working on and put them back to work (or end them).

Two ways a run can be stranded, both of which RQ alone would miss for minutes or forever:
- queued in the database but its job is gone from Redis (Redis restarted and lost its data,
  or the job failed before the run was claimed) -> enqueue it again under a new job id;
- running, but its worker stopped renewing the lease (kill -9, machine gone) -> queue it again so
  another worker continues from the last completed step, or end it `timed_out` past its deadline.
A third kind is merely late: a run parked by a delay node (`waiting`) whose resume job was lost
(Redis restarted) -> once its resume time has passed by a sweep interval, queue it again.
Waiting runs hold no lease and are never treated as stranded before their time.
Every change is a conditional UPDATE, so two sweepers, or a sweeper racing a worker, cannot both
act on one run; a Redis lock keeps normally one sweeper active at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from redis.exceptions import RedisError

from app.config import settings
from app.extensions import db
from app.models import Flow, Run, RunStatus
from app.models.types import utcnow
from app.queueing.connection import get_redis
from app.queueing.jobs import announce_finished, enqueue_run, get_queue, new_job_id
from app.queueing.rq_setup import ALIVE_JOB_STATES, job_key, job_time
from app.services.runs import idempotency, lifecycle

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class SweepReport:
    """How many stranded runs one sweep put back to work or ended, by the way they were stranded."""

    requeued_lost: int = 0
    requeued_expired: int = 0
    resumed_waiting: int = 0
    timed_out: int = 0
    discarded: int = 0


def sweep() -> SweepReport:
    """Run one sweep (the clock runs it under a lock, so normally one sweeper is active)."""
    report = SweepReport()
    _expired_leases(report)
    _discard_expired(report)
    _lost_jobs(report)
    _late_waiting(report)
    idempotency.purge_expired()
    if report.requeued_lost or report.requeued_expired or report.timed_out or report.resumed_waiting \
            or report.discarded:
        log.info("sweep requeued_lost=%s requeued_expired=%s timed_out=%s resumed_waiting=%s discarded=%s",
                 report.requeued_lost, report.requeued_expired, report.timed_out, report.resumed_waiting,
                 report.discarded)
    return report


def _expired_leases(report: SweepReport) -> None:
    """Queue runs whose worker stopped renewing its lease again, or end them if out of time."""
    now = utcnow()
    rows = db.session.execute(
        db.select(Run.id, Run.deadline_at, Run.lease_expires_at, Flow.run_timeout_seconds)
        .join(Flow, Flow.id == Run.flow_id)
        .where(Run.status == RunStatus.RUNNING, Run.lease_expires_at < now).limit(BATCH)
    ).all()
    for run_id, deadline, lease_expires_at, timeout in rows:
        if deadline is not None and deadline <= lifecycle.last_alive(lease_expires_at):  # out of time when it stopped
            timed_out = lifecycle.time_out_abandoned(run_id, lease_expires_at, now)
            db.session.commit()
            if timed_out:  # else another sweeper or a returning worker got there first
                report.timed_out += 1
                log.info("run_id=%s state=timed_out reason=worker-gone", run_id)
                announce_finished(run_id, RunStatus.TIMED_OUT.value)
            continue
        job_id = new_job_id(run_id)
        if _requeued(run_id, job_id, timeout, "lease-expired",
                     lifecycle.requeue_abandoned(run_id, lease_expires_at, job_id)):
            report.requeued_expired += 1


def _discard_expired(report: SweepReport) -> None:
    """End never-started queued runs whose caller's discard time passed (no worker got to them in time)."""
    now = utcnow()
    ids = db.session.execute(
        db.select(Run.id).where(Run.status == RunStatus.QUEUED, Run.started_at.is_(None), Run.discard_at <= now)
        .limit(BATCH)).scalars().all()
    discarded = [run_id for run_id in ids if lifecycle.discard(run_id, now)]
    db.session.commit()
    report.discarded += len(discarded)
    for run_id in discarded:
        announce_finished(run_id, RunStatus.DISCARDED.value)


def _oldest(status: RunStatus, since, cutoff) -> list:
    """(run id, job id, time limit) of up to BATCH runs in `status` whose `since` is before `cutoff`, oldest first."""
    return db.session.execute(
        db.select(Run.id, Run.job_id, Flow.run_timeout_seconds).join(Flow, Flow.id == Run.flow_id)
        .where(Run.status == status, since < cutoff).order_by(since).limit(BATCH)
    ).all()


def _lost_jobs(report: SweepReport) -> None:
    # A run is enqueued right after its commit: leave young queued runs alone so we do not race that.
    cutoff = utcnow() - timedelta(seconds=settings().sweep_queued_grace_seconds)
    rows = _oldest(RunStatus.QUEUED, Run.created_at, cutoff)
    if not rows:
        return
    # One transaction, so a job's status and its place in the queue are read at the same moment.
    # LPOS scans from the queue's head, where the oldest queued runs (read first, below) wait, so
    # even a long backlog costs little; only a job that is truly missing makes a full scan.
    queue_key = get_queue().key
    pipe = get_redis().pipeline(transaction=True)
    for _, job_id, _ in rows:
        pipe.hmget(job_key(job_id), "status", "started_at")
        pipe.lpos(queue_key, job_id or "none")
    answers = pipe.execute()
    states = zip(answers[0::2], answers[1::2])
    stale_start = job_time((utcnow() - timedelta(seconds=settings().lease_seconds)).replace(tzinfo=None))
    for (run_id, old_job_id, timeout), ((status, started_at), position) in zip(rows, states):
        status = status.decode() if status else None
        started = started_at.decode() if started_at else ""
        # "started" but never claimed for a whole lease: its worker died between dequeue and claim.
        stale = status == "started" and started and started < stale_start
        # "queued" but no longer in the queue: a worker took it (BLPOP) and died before marking it
        # started. Nothing else would ever run it. (A live worker in that instant of its own gets a
        # duplicate job, which finds the run claimed or ended and does nothing.)
        taken = status == "queued" and position is None
        if status in ALIVE_JOB_STATES and not stale and not taken:
            continue
        job_id = new_job_id(run_id)
        if _requeued(run_id, job_id, timeout, f"job-{status or 'missing'}",
                     lifecycle.requeue_lost_job(run_id, old_job_id, job_id)):
            report.requeued_lost += 1


def _late_waiting(report: SweepReport) -> None:
    """Queue waiting runs whose resume job should have fired a sweep interval ago but did not."""
    config = settings()
    cutoff = utcnow() - timedelta(seconds=config.sweep_interval_seconds + config.sweep_queued_grace_seconds)
    rows = _oldest(RunStatus.WAITING, Run.resume_at, cutoff)
    if not rows:
        return
    pipe = get_redis().pipeline(transaction=False)
    for _, job_id, _ in rows:
        pipe.hget(job_key(job_id), "status")
    states = pipe.execute()
    for (run_id, old_job_id, timeout), status in zip(rows, states):
        status = status.decode() if status else None
        if status in ("queued", "started"):  # on its way: the scheduler moved it to the queue
            continue
        job_id = new_job_id(run_id)
        if _requeued(run_id, job_id, timeout, f"resume-{status or 'missing'}",
                     lifecycle.requeue_late(run_id, old_job_id, job_id)):
            report.resumed_waiting += 1


def _requeued(run_id: str, job_id: str, timeout: int, reason: str, applied: bool) -> bool:
    """Commit a requeue transition; if it `applied`, enqueue the run under its new `job_id`."""
    db.session.commit()
    if not applied:
        return False
    log.warning("run_id=%s state=requeued reason=%s", run_id, reason)
    _enqueue(run_id, job_id, timeout)
    return True


def _enqueue(run_id: str, job_id: str, timeout: int) -> None:
    try:
        enqueue_run(run_id, job_id, timeout)
    except RedisError as exc:  # the next sweep finds the job missing and tries again
        log.warning("run_id=%s requeue failed: %s", run_id, exc)
