"""Own every change of a run's status: each transition is one named, conditional statement.

Why one module: a run is changed by the trigger that creates it, the worker that executes it,
the sweeper that rescues it and the user who cancels it, often at the same moment. Each
transition here applies only while the run is still in the state it leaves (a conditional
UPDATE that reports whether it matched), so of two actors racing on one run exactly one wins,
and the rule for each transition is written once. No other module writes `runs.status`
(tests/app/services/runs/test_run_lifecycle.py checks the source).

    queued ──claim──▶ running ──finish──▶ succeeded | failed | canceled | timed_out
    queued ──discard──▶ discarded       queued | waiting ──cancel──▶ canceled
    running ──park──▶ waiting ──(resume time; claim, or requeue_late)──▶ running | queued
    running (lease expired) ──requeue_abandoned──▶ queued, or ──time_out_abandoned──▶ timed_out

Discarding (the caller's `discardTimeMillis`) applies only to a run no worker ever started
(`started_at IS NULL`): its promise is "never executed", and a run requeued after its worker
died may already have called services, sent replies and taken a session turn, so it continues
(its time limit still bounds it) rather than ending half done. Every discard path uses the one
statement here, so a requeued run cannot be discarded by one path and resumed by another.

Each function adds its statement to the caller's transaction and says whether it applied (or
raises `ClaimLost` / `LeaseLost`); the caller commits, then tells others (`announce_finished`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select

import flows
from app.config import settings
from app.extensions import db
from app.models import Flow, Run, RunStatus, RunStep, StepStatus
from app.models.types import utcnow
from app.services.runs.prepared import Prepared

log = logging.getLogger(__name__)
RUNS, FLOWS, STEPS = Run.__table__, Flow.__table__, RunStep.__table__

CANCELED = "Canceled on request."
TIME_LIMIT = "The run exceeded the flow's time limit."
WORKER_GONE = f"{TIME_LIMIT} Its worker was gone."
INTERRUPTED = "Interrupted: the worker executing this step stopped before it finished."
DISCARDED = "Discarded: the run could not start before the caller's discardTimeMillis."
QUEUE_UNAVAILABLE = "The queue was unavailable when the run was requested; it was not executed."


class LeaseLost(Exception):
    """Another worker owns the run now; stop without writing anything more."""


class ClaimLost(LeaseLost):
    """The run was taken, canceled or ended by someone else before this worker's claim was written."""


def _run_is(*statuses: RunStatus):
    return RUNS.c.status.in_(statuses) if len(statuses) > 1 else RUNS.c.status == statuses[0]


_BY_ID = RUNS.c.id == bindparam("run_id")
_LEASE_AS_READ = RUNS.c.lease_expires_at == bindparam("lease_as_read")
# Statements built once: the worker's hot path runs them for every run and step, and building
# the expression tree each time cost more than executing it (see BENCHMARKS.md).
_READ = (
    select(RUNS.c.id, RUNS.c.status, RUNS.c.attempts, RUNS.c.workspace_id, RUNS.c.flow_id, RUNS.c.flow_version_id,
           RUNS.c.version_number, RUNS.c.trigger_node_id, RUNS.c.inputs, RUNS.c.trigger_payload,
           RUNS.c.session_id, RUNS.c.created_at, RUNS.c.started_at, RUNS.c.discard_at, RUNS.c.deadline_at,
           RUNS.c.cancel_requested, RUNS.c.lease_expires_at, RUNS.c.resume_at, RUNS.c.paused_at,
           FLOWS.c.run_timeout_seconds)
    .join_from(RUNS, FLOWS, FLOWS.c.id == RUNS.c.flow_id)
    .where(_BY_ID)
)
_CLAIMABLE = (
    _BY_ID,
    RUNS.c.attempts == bindparam("read_attempts"),  # nobody claimed it since it was read
    or_(_run_is(RunStatus.QUEUED),
        _run_is(RunStatus.RUNNING) & (RUNS.c.lease_expires_at < bindparam("now")),
        # a run parked by a delay node, once its time has come (its scheduled job or the sweeper)
        _run_is(RunStatus.WAITING) & (RUNS.c.resume_at <= bindparam("now"))),
)
_CLAIM_VALUES = {
    "attempts": RUNS.c.attempts + 1,
    "started_at": func.coalesce(RUNS.c.started_at, bindparam("started", type_=RUNS.c.started_at.type)),
    "deadline_at": bindparam("deadline", type_=RUNS.c.deadline_at.type),
    "paused_at": None,
}
_FINAL_VALUES = {"status": bindparam("status"), "output": bindparam("output"), "error": bindparam("error"),
                 "error_node_id": bindparam("error_node_id"), "finished_at": bindparam("finished_at"),
                 "lease_token": None, "lease_expires_at": None}
_TAKE = RUNS.update().where(*_CLAIMABLE).values(
    status=RunStatus.RUNNING, lease_token=bindparam("token"), lease_expires_at=bindparam("expires"), **_CLAIM_VALUES)
# A run that ended before its claim was ever written: claim and end it in one statement (every run
# of pure nodes ends with it, so it is also compiled once per dialect: `Prepared`).
_TAKE_FINISHED = RUNS.update().where(*_CLAIMABLE).values(**_FINAL_VALUES, **_CLAIM_VALUES)
_TAKE_FINISHED_PREPARED = Prepared(_TAKE_FINISHED, ("status", "output", "error", "error_node_id", "finished_at",
                                                    "run_id", "now", "started", "read_attempts", "deadline"))
_FINISH = RUNS.update().where(_BY_ID, _run_is(RunStatus.RUNNING)).values(**_FINAL_VALUES)
_FINISH_FENCED = _FINISH.where(RUNS.c.lease_token == bindparam("token"))
_TIME_OUT_ABANDONED = _FINISH.where(_LEASE_AS_READ)
_PARK = RUNS.update().where(_BY_ID, _run_is(RunStatus.RUNNING), RUNS.c.lease_token == bindparam("token")).values(
    status=RunStatus.WAITING, resume_at=bindparam("resume_at"), lease_token=None, lease_expires_at=None,
    job_id=bindparam("job_id"), output=bindparam("output"), paused_at=bindparam("paused_at"))
_DISCARD = RUNS.update().where(
    _BY_ID, _run_is(RunStatus.QUEUED), RUNS.c.started_at.is_(None), RUNS.c.discard_at <= bindparam("now"),
).values(status=RunStatus.DISCARDED, error=DISCARDED, finished_at=bindparam("now"))
_CANCEL_NOW = RUNS.update().where(_BY_ID, _run_is(RunStatus.QUEUED, RunStatus.WAITING)).values(
    status=RunStatus.CANCELED, cancel_requested=True, finished_at=bindparam("now"), error=CANCELED)
_ASK_TO_STOP = RUNS.update().where(_BY_ID, _run_is(RunStatus.RUNNING)).values(cancel_requested=True)
_CANCEL_UNQUEUED = RUNS.update().where(
    _BY_ID, _run_is(RunStatus.QUEUED), RUNS.c.job_id == bindparam("queued_job"),
).values(status=RunStatus.CANCELED, error=QUEUE_UNAVAILABLE, finished_at=bindparam("now"))
_NEW_JOB = {"job_id": bindparam("job_id")}
_REQUEUE_ABANDONED = RUNS.update().where(_BY_ID, _run_is(RunStatus.RUNNING), _LEASE_AS_READ).values(
    status=RunStatus.QUEUED, lease_token=None, lease_expires_at=None, paused_at=bindparam("paused_at"), **_NEW_JOB)
_OLD_JOB = RUNS.c.job_id.is_not_distinct_from(bindparam("old_job_id", type_=RUNS.c.job_id.type))
_REQUEUE_LOST_JOB = RUNS.update().where(_BY_ID, _run_is(RunStatus.QUEUED), _OLD_JOB).values(**_NEW_JOB)
_REQUEUE_LATE = RUNS.update().where(_BY_ID, _run_is(RunStatus.WAITING), _OLD_JOB).values(
    status=RunStatus.QUEUED, **_NEW_JOB)
_CLOSE_STEPS = STEPS.update().where(
    STEPS.c.run_id == bindparam("of_run"), STEPS.c.status == StepStatus.RUNNING,
).values(status=StepStatus.FAILED, error=INTERRUPTED, finished_at=bindparam("now"))


@dataclass
class ClaimedRun:
    """A run this worker was asked to execute: what it needs of the run, and the lease it writes.

    Read without writing anything (`load_claim`); the claim itself is written by `take()` or,
    for a run that ends without ever needing it, with the run's final status (`take_finished`).
    """

    id: str
    token: str
    attempts: int  # including this claim
    workspace_id: str
    flow_id: str
    flow_version_id: str
    version_number: int
    trigger_node_id: str
    inputs: dict
    trigger_payload: dict
    session_id: str | None
    created_at: datetime
    started_at: datetime
    cancel_requested: bool
    deadline_at: datetime
    read_at: datetime
    taken: bool = False  # the claim was written (in this transaction or an earlier one)

    def params(self, lease_seconds: int = 0) -> dict:
        return {"run_id": self.id, "now": self.read_at, "token": self.token, "started": self.started_at,
                "read_attempts": self.attempts - 1,
                "deadline": self.deadline_at, "expires": utcnow() + timedelta(seconds=lease_seconds)}


@dataclass(frozen=True)
class NotClaimed:
    """Why a run is not ours to execute: it is gone (`status` None), final, or another worker owns it.

    `resume_at` is set for a waiting run whose resume time has not come yet.
    """

    status: RunStatus | None
    resume_at: datetime | None = None


def arrival_values(discard_at: datetime | None, now: datetime, refusal: str | None = None) -> dict:
    """Return the status columns of a new run: queued, discarded if its discard time already passed,
    or failed with `refusal` when it cannot start at all (a schedule fire whose inputs do not fit)."""
    if refusal is not None:
        return {"status": RunStatus.FAILED, "error": refusal, "finished_at": now}
    if discard_at is not None and discard_at <= now:
        return {"status": RunStatus.DISCARDED, "error": DISCARDED, "finished_at": now}
    return {"status": RunStatus.QUEUED}


def load_claim(run_id: str) -> ClaimedRun | NotClaimed:
    """Read the run this worker is asked to execute; write nothing unless its discard time passed.

    Why the claim is not written here: a run of pure nodes touches nothing outside the run, so
    the worker executes it from this read and writes the claim with its steps and final status
    in one transaction (`take_finished`); a checkpointed node takes the claim before it runs
    (`take`). Nobody can write steps into a `queued` run (every write is fenced on a claim's
    token), so what was read stays valid until the claim is written, and if someone else claims,
    cancels or ends the run meanwhile, writing the claim fails and nothing is written.
    A never-started run whose discard time passed while it was queued is discarded (committed).
    """
    now = utcnow()
    session = db.session()
    session.flush()  # as its execute would; then read through its connection, skipping the ORM's own work
    row = session.connection().execute(_READ, {"run_id": run_id}).first()
    if row is None:
        return NotClaimed(None)
    if row.started_at is None and row.discard_at is not None and row.discard_at <= now:
        if discard(run_id, now):
            db.session.commit()
            log.info("run_id=%s state=discarded reason=discard-time-passed-in-queue", run_id)
            return NotClaimed(RunStatus.DISCARDED)
        db.session.rollback()
        return NotClaimed(row.status)
    if row.status is RunStatus.WAITING and row.resume_at is not None and row.resume_at > now:
        db.session.rollback()
        return NotClaimed(row.status, resume_at=row.resume_at)
    claimable = (row.status is RunStatus.QUEUED
                 or (row.status is RunStatus.WAITING and row.resume_at is not None)
                 or (row.status is RunStatus.RUNNING and row.lease_expires_at is not None
                     and row.lease_expires_at < now))
    if not claimable:
        db.session.rollback()
        return NotClaimed(row.status)
    started_at = row.started_at or now
    return ClaimedRun(
        id=run_id, token=uuid.uuid4().hex, attempts=row.attempts + 1, workspace_id=row.workspace_id,
        flow_id=row.flow_id, flow_version_id=row.flow_version_id, version_number=row.version_number,
        trigger_node_id=row.trigger_node_id, inputs=row.inputs or {}, trigger_payload=row.trigger_payload or {},
        session_id=row.session_id, created_at=row.created_at, started_at=started_at,
        cancel_requested=bool(row.cancel_requested),
        deadline_at=_active_deadline(row, now, started_at), read_at=now, taken=False)


def last_alive(lease_expires_at: datetime) -> datetime:
    """Return when the worker that held a lease ending at `lease_expires_at` last renewed it."""
    return lease_expires_at - timedelta(seconds=settings().lease_seconds)


def _active_deadline(row, now: datetime, started_at: datetime) -> datetime:
    """Return the run's deadline if claimed `now`: its time limit counts only time a worker held it.

    A first claim gets the whole limit. A run parked or requeued has its deadline moved by the
    time since `paused_at`; a run taken straight from a worker whose lease ran out, by the time
    since that worker last renewed it.
    """
    if row.deadline_at is None:
        return started_at + timedelta(seconds=row.run_timeout_seconds)
    paused_from = row.paused_at
    if row.status is RunStatus.RUNNING and row.lease_expires_at is not None:
        paused_from = last_alive(row.lease_expires_at)
    return row.deadline_at + max(timedelta(0), now - paused_from) if paused_from else row.deadline_at


def take(run: ClaimedRun, lease_seconds: int) -> None:
    """Claim: queued (or abandoned, or due) → running, holding a lease; or raise ClaimLost."""
    if db.session.execute(_TAKE, run.params(lease_seconds)).rowcount != 1:
        db.session.rollback()
        raise ClaimLost(run.id)
    run.taken = True


def claim(run_id: str, lease_seconds: int) -> ClaimedRun | NotClaimed:
    """Read the run and write its claim at once (uncommitted), for callers that need the lease now.

    Raises ClaimLost if another worker claimed it between the read and the write.
    """
    loaded = load_claim(run_id)
    if isinstance(loaded, ClaimedRun):
        take(loaded, lease_seconds)
    return loaded


def outcome_values(outcome: flows.RunOutcome, now: datetime) -> dict:
    """Return the final columns for the engine's `outcome` (its status maps by value)."""
    return {"status": RunStatus(outcome.status.value), "output": outcome.output, "error": outcome.error,
            "error_node_id": outcome.error_node_id, "finished_at": now}


def finish(run: ClaimedRun | None, run_id: str, token: str | None, values: dict, close_steps: bool) -> None:
    """Finish: running → `values["status"]`, fenced on `token`; raise LeaseLost (or ClaimLost).

    A `run` whose claim is not written yet is claimed and ended by one statement (a run of pure
    nodes). `close_steps` marks attempts left running by stopped workers as failed.
    """
    params = {**values, "run_id": run_id}
    if run is not None and not run.taken:
        if _TAKE_FINISHED_PREPARED.execute({**run.params(), **params}).rowcount != 1:
            db.session.rollback()
            raise ClaimLost(run_id)
        run.taken = True
    else:
        statement = _FINISH if token is None else _FINISH_FENCED
        if db.session.execute(statement, {**params, "token": token}).rowcount != 1:
            raise LeaseLost(run_id)
    if close_steps:
        close_interrupted_steps(run_id, values["finished_at"])


def close_interrupted_steps(run_id: str, now: datetime) -> None:
    """Mark step attempts left `running` by stopped workers as failed, so no step stays open forever."""
    db.session.execute(_CLOSE_STEPS, {"of_run": run_id, "now": now})


def park(run: ClaimedRun, resume_at: datetime, output: dict | None, job_id: str, now: datetime) -> None:
    """Park: running → waiting until `resume_at` under resume job `job_id`, lease released; or raise LeaseLost.

    Its time limit stops counting `now` (`paused_at`) until a worker claims it again.
    """
    params = {"run_id": run.id, "token": run.token, "resume_at": resume_at, "output": output, "job_id": job_id,
              "paused_at": now}
    if db.session.execute(_PARK, params).rowcount != 1:
        raise LeaseLost(run.id)


def discard(run_id: str, now: datetime) -> bool:
    """Discard: a queued run no worker ever started, past its discard time → discarded."""
    return db.session.execute(_DISCARD, {"run_id": run_id, "now": now}).rowcount == 1


def cancel(run_id: str, now: datetime) -> str | None:
    """Cancel: queued or waiting → canceled ("canceled"); running → asked to stop ("stopping"); else None."""
    if db.session.execute(_CANCEL_NOW, {"run_id": run_id, "now": now}).rowcount == 1:
        return "canceled"
    if db.session.execute(_ASK_TO_STOP, {"run_id": run_id}).rowcount == 1:
        return "stopping"
    return None


def cancel_unqueued(run_id: str, job_id: str, now: datetime) -> bool:
    """Queue unavailable: a queued run whose job Redis refused → canceled, so nobody waits for it."""
    return db.session.execute(_CANCEL_UNQUEUED, {"run_id": run_id, "queued_job": job_id, "now": now}).rowcount == 1


def requeue_abandoned(run_id: str, lease_expires_at: datetime, job_id: str) -> bool:
    """Requeue: running with the expired lease as read → queued under `job_id` (its worker is gone).

    Its time limit stopped counting when its worker last renewed the lease (`paused_at`).
    """
    params = {"run_id": run_id, "lease_as_read": lease_expires_at, "job_id": job_id,
              "paused_at": last_alive(lease_expires_at)}
    return db.session.execute(_REQUEUE_ABANDONED, params).rowcount == 1


def time_out_abandoned(run_id: str, lease_expires_at: datetime, now: datetime) -> bool:
    """Time out: running with the expired lease as read, out of time → timed_out; close its open steps."""
    params = {"run_id": run_id, "lease_as_read": lease_expires_at, "status": RunStatus.TIMED_OUT,
              "output": None, "error": WORKER_GONE, "error_node_id": None, "finished_at": now}
    if db.session.execute(_TIME_OUT_ABANDONED, params).rowcount != 1:
        return False
    close_interrupted_steps(run_id, now)
    return True


def requeue_lost_job(run_id: str, old_job_id: str | None, job_id: str) -> bool:
    """Requeue: a queued run whose job `old_job_id` is lost stays queued, under new job `job_id`."""
    params = {"run_id": run_id, "old_job_id": old_job_id, "job_id": job_id}
    return db.session.execute(_REQUEUE_LOST_JOB, params).rowcount == 1


def requeue_late(run_id: str, old_job_id: str | None, job_id: str) -> bool:
    """Resume late: waiting, its resume job `old_job_id` lost → queued under `job_id`."""
    params = {"run_id": run_id, "old_job_id": old_job_id, "job_id": job_id}
    return db.session.execute(_REQUEUE_LATE, params).rowcount == 1
