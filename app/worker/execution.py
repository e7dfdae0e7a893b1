"""Run the engine inside an RQ job: claim the run, execute it node by node, record it all.

This is the only bridge between the pure engine (`flows`) and the database. `SqlJournal` stores
each step as the engine reports it, fenced on the run's lease, so a run can be continued from
its persisted steps by any worker and a worker that lost the run cannot write into it. A run of
pure nodes costs one transaction: its claim, steps and final status are written together.

The engine gets what it may not fetch itself: the workspace's credentials (decrypted here, by
name, only when a node asks), operator settings for nodes, and `emit`, which publishes live
events to Redis (`app.queueing.run_events`). A run parked by a delay node is marked `waiting`, its lease
released, and a job is scheduled with rq-scheduler for its resume time.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from typing import Callable

from flask import current_app
import flows
from app.services.runs import lifecycle
from app.config import settings
from app.extensions import db
from app.models import RunStatus, RunStep, StepStatus
from app.models.types import utcnow
from app.queueing.jobs import announce_finished, new_job_id
from app.queueing.resume_timers import schedule_resume
from app.queueing.run_events import Publisher
from app.worker.lease import Heartbeat, fence
from app.services.runs.lifecycle import CANCELED, TIME_LIMIT, ClaimedRun, ClaimLost, LeaseLost, NotClaimed, load_claim, take
from app.queueing.rq_setup import JobTimeoutException
from app.services.versions import parsed_versions
from app.services.workspaces.credentials import resolver
from app.services.chat.sessions import history
from app.services.runs.prepared import Prepared
from app.services.runs.write_gate import one_writer

log = logging.getLogger(__name__)
_pool_pid: int | None = None
# The columns of a buffered pure step (`SqlJournal.step_recorded`), inserted all at once.
_STEP_KEYS = ("run_id", "seq", "attempt", "node_id", "node_type", "status", "input", "output", "port", "error",
              "started_at", "finished_at")
_INSERT_STEPS = Prepared(RunStep.__table__.insert(), _STEP_KEYS, many=True)
# A resume job may come this early (the scheduler process's clock a little behind this one's).
EARLY_RESUME_SECONDS = 1.0


class SqlJournal:
    """Persist the engine's steps as `RunStep` rows (the engine's `Journal` protocol).

    Steps of pure nodes (no checkpoint: they touch nothing outside the run) are kept in memory
    and written in the same transaction as the next durable write: a checkpointed node's start,
    the run's final status, its parking, or `flush()` once they are older than
    `FLUSH_AFTER_SECONDS`. Every step is still committed before anyone is told the run ended,
    and losing unwritten pure steps to a crash costs nothing: they run again, having had no
    effect outside the run. Steps of nodes with a checkpoint are committed before they run.
    The first durable write also writes the run's claim (`app.worker.lease.load_claim` says why).
    """

    FLUSH_AFTER_SECONDS = 0.5
    FLUSH_AFTER_STEPS = 100

    def __init__(self, run: ClaimedRun, lease_seconds: int, events: Publisher | None = None,
                 on_claimed: Callable[[], None] = lambda: None):
        self.run, self.token, self.lease_seconds = run, run.token, lease_seconds
        self.on_claimed = on_claimed  # e.g. start the heartbeat once there is a lease to renew
        # The run's live events: held while pure steps are unwritten, sent once they are committed.
        self.events = events if events is not None else Publisher(run.id)
        self.events.hold()
        self._open: dict[int, RunStep] = {}
        self._pending: list[dict] = []
        self._pending_since = 0.0
        self.current_node: str | None = None
        # What the last fenced write saw; checked between steps (cancel, time limit).
        self.cancel_requested, self.deadline_at = run.cancel_requested, run.deadline_at

    @property
    def has_open_steps(self) -> bool:
        """Whether a checkpointed step was started and never finished (e.g. RQ's hard time limit hit)."""
        return bool(self._open)

    def _fence(self) -> None:
        """Renew the lease (writing the claim first if it is not written yet), or raise LeaseLost."""
        if not self.run.taken:
            take(self.run, self.lease_seconds)
            self.on_claimed()
            return
        self.cancel_requested, self.deadline_at = fence(self.run.id, self.token, self.lease_seconds)

    def write_pending(self) -> None:
        """Add the buffered steps to the current transaction (the caller fences and commits)."""
        write_steps(self.take_pending())

    def take_pending(self) -> list[dict]:
        """Hand the buffered steps to the caller, who writes them with the run's final status."""
        pending, self._pending = self._pending, []
        return pending

    def discard_pending(self) -> None:
        """Forget the buffered steps (their transaction was rolled back; they never happened)."""
        self._pending = []

    def flush(self) -> None:
        """Commit the claim and the buffered steps now, renewing the lease and reading a cancel."""
        with one_writer():
            self._fence()
            self.write_pending()
            db.session.commit()
        self.events.send_held()

    def completed_steps(self) -> list[flows.StepRecord]:
        if self.run.attempts == 1:
            return []  # first claim of this run: no worker has written a step yet
        rows = db.session.execute(
            db.select(RunStep).where(RunStep.run_id == self.run.id).order_by(RunStep.seq, RunStep.attempt)
        ).scalars()
        latest: dict[int, RunStep] = {}
        for row in rows:
            latest[row.seq] = row  # the last attempt of each step is the one that counts
        return [
            flows.StepRecord(seq=row.seq, node_id=row.node_id, status=row.status, output=row.output,
                             port=row.port, attempt=row.attempt)
            for row in latest.values()
        ]

    def step_started(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict) -> None:
        """Commit that a checkpointed node is about to run (with every step before it)."""
        self.current_node = node_id
        step = RunStep(run_id=self.run.id, seq=seq, attempt=attempt, node_id=node_id, node_type=node_type,
                       status=StepStatus.RUNNING, input=input, started_at=utcnow())
        with one_writer():
            self._fence()
            self.write_pending()
            db.session.add(step)
            db.session.commit()
        self._open[seq] = step
        self.events.go_live()  # e.g. an LLM node's tokens stream as they arrive

    def step_recorded(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict, started_at: float,
                      status: StepStatus, output: dict | None, port: str | None, error: str | None) -> None:
        """Keep a finished pure step for the next durable write (see the class docstring)."""
        self.current_node = node_id
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append({
            "run_id": self.run.id, "seq": seq, "attempt": attempt, "node_id": node_id, "node_type": node_type,
            "status": status if type(status) is StepStatus else StepStatus(status),
            "input": input, "output": output, "port": port, "error": error,
            "started_at": datetime.fromtimestamp(started_at, timezone.utc), "finished_at": utcnow()})
        if len(self._pending) >= self.FLUSH_AFTER_STEPS \
                or time.monotonic() - self._pending_since >= self.FLUSH_AFTER_SECONDS:
            self.flush()  # a long chain of pure steps still shows progress and renews the lease

    def step_finished(self, seq: int, status: StepStatus, output: dict | None, port: str | None,
                      error: str | None) -> None:
        step = self._open.pop(seq)
        with one_writer():
            self._fence()
            step.status = StepStatus(status)
            step.output = output
            step.port = port
            step.error = error
            step.finished_at = utcnow()
            db.session.commit()
        self.events.hold()


def _fresh_connections() -> None:
    """Drop database connections inherited from a parent process (RQ's forking worker)."""
    global _pool_pid
    if _pool_pid != os.getpid():
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def execute_run(run_id: str) -> str:
    """Execute run `run_id` to a final status; safe to call again, and from several workers."""
    _fresh_connections()
    try:
        return _execute(run_id)
    finally:
        db.session.remove()


def _execute(run_id: str) -> str:
    lease_seconds = settings().lease_seconds
    run = load_claim(run_id)
    if isinstance(run, NotClaimed) and run.resume_at is not None:
        run = _at_resume_time(run_id, run.resume_at)
    if isinstance(run, NotClaimed):
        return _not_claimed(run_id, run)
    heartbeat = Heartbeat.shared(current_app._get_current_object(), lease_seconds)
    with heartbeat.watch(run_id, run.token, armed=False) as watch:

        def claimed() -> None:
            # Logged once the claim is written, when others can see the run running: a run of
            # pure nodes, claimed and ended in one transaction, gets one line (at its end).
            watch.arm()
            log.info("run_id=%s state=running version=%s attempt=%s", run_id, run.version_number, run.attempts)

        try:
            if run.attempts > 1:
                # Steps of an earlier attempt exist: own the run before reading them, so the
                # worker that wrote them (if it still lives) can add none behind our back.
                with one_writer():
                    take(run, lease_seconds)
                    db.session.commit()
                claimed()
            journal = SqlJournal(run, lease_seconds, on_claimed=claimed)
            outcome = _run(run, journal, watch)
            if outcome.status is flows.OutcomeStatus.WAITING:
                return park(run, outcome, journal.events, steps=journal.take_pending())
            # Only a resumed run or an interrupted checkpoint can leave a step marked running.
            return finish(run_id, run.token, outcome, close_steps=run.attempts > 1 or journal.has_open_steps,
                          events=journal.events.take_held(), claim=run, steps=journal.take_pending())
        except ClaimLost:
            db.session.rollback()
            log.info("run_id=%s state=not-claimed (taken, canceled or ended by someone else meanwhile)", run_id)
            return "duplicate"
        except LeaseLost:
            db.session.rollback()
            log.warning("run_id=%s state=lease-lost (another worker owns it now; stopping without writing)", run_id)
            return "lease-lost"


def _run(run: ClaimedRun, journal: SqlJournal, watch) -> flows.RunOutcome:
    """Execute the run's graph with what the engine may not fetch itself."""
    config = settings()
    # Each published version is parsed once per process: versions never change after publishing.
    document = parsed_versions.by_id(run.flow_version_id).graph
    payload = {"inputs": run.inputs, "trigger": run.trigger_payload}
    _add_session_history(run, document, payload)
    run_info = {"id": run.id, "flow_id": run.flow_id, "version": run.version_number,
                "trigger_node_id": run.trigger_node_id, "created_at": run.created_at.isoformat()}
    try:
        env = flows.RunEnvironment(
            credentials=resolver(run.workspace_id), emit=journal.events,
            settings={"http_allowed_networks": list(config.http_allowed_networks)},
            interrupt=lambda: _interrupt(journal, watch.lost),
            max_steps=config.max_steps, max_attempts=config.max_node_attempts)
        return flows.run_graph(document, entry_node_id=run.trigger_node_id, payload=payload, journal=journal,
                               run_info=run_info, env=env)
    except JobTimeoutException:  # RQ's hard stop for a node that hangs past the time limit
        db.session.rollback()
        journal.discard_pending()
        return flows.RunOutcome(flows.OutcomeStatus.TIMED_OUT, None, TIME_LIMIT, journal.current_node, 0)


def _add_session_history(run: ClaimedRun, graph: flows.Graph, payload: dict) -> None:
    """Give nodes the conversation so far as `trigger.session.history` (skipped on a first turn)."""
    session = payload["trigger"].get("session")
    if isinstance(session, dict) and run.session_id and session.get("turn", 1) > 1 \
            and not session.get("history_from_request"):
        payload["trigger"] = {**payload["trigger"], "session": {**session, "history": history(run, graph)}}


def _at_resume_time(run_id: str, resume_at: datetime) -> ClaimedRun | NotClaimed:
    """Wait for a waiting run's resume time if its resume job came a little early, then read it again.

    Resume timers fire at their exact time (`app.queueing.resume_timers`) by the scheduler process's
    clock; this worker's clock may be a little ahead of it. Dropping such a job left the run to
    the sweeper, a sweep interval and more later; the rest is waited here instead, holding no
    claim and no lease. A job earlier than `EARLY_RESUME_SECONDS` is left to the sweeper:
    scheduling it again would only bring it back as early.
    """
    early = (resume_at - utcnow()).total_seconds()
    if early > EARLY_RESUME_SECONDS:
        log.warning("run_id=%s state=waiting resume job %.1f s early; the sweeper resumes it", run_id, early)
        return NotClaimed(RunStatus.WAITING)
    time.sleep(max(0.0, early))
    return load_claim(run_id)


def _not_claimed(run_id: str, run: NotClaimed) -> str:
    status = run.status
    if status is None:
        log.warning("run_id=%s state=missing (deleted before it ran)", run_id)
        return "missing"
    if status.is_final:
        log.info("run_id=%s state=%s (already final, nothing to do)", run_id, status.value)
        announce_finished(run_id, status.value)
        return status.value
    log.info("run_id=%s state=%s (owned by another worker; this job is a duplicate)", run_id, status.value)
    return "duplicate"


def _interrupt(journal: SqlJournal, lease_lost) -> flows.Stop | None:
    """Stop between steps when the run was canceled, ran out of time, or its lease was lost.

    The cancel flag and deadline come from the previous step's fenced write (no extra query);
    the heartbeat refreshes nothing here, it only reports a lost lease.
    """
    if lease_lost.is_set():
        raise LeaseLost(journal.run.id)
    if journal.cancel_requested:
        return flows.OutcomeStatus.CANCELED, CANCELED
    if journal.deadline_at is not None and utcnow() >= journal.deadline_at:
        return flows.OutcomeStatus.TIMED_OUT, TIME_LIMIT
    return None


def finish(run_id: str, token: str | None, outcome: flows.RunOutcome, close_steps: bool = True,
           events: list[dict] = (), claim: ClaimedRun | None = None, steps: list[dict] = ()) -> str:
    """Write the final status (fenced on `token` when given) and wake whoever waits for it.

    `steps` (rows of pure steps not written yet) are written in the same transaction, and
    `events` (the run's live events not published yet) go out with its end. A `claim` not
    written yet is written by the same statement (a run of pure nodes: one transaction).
    `close_steps` marks attempts left running by stopped workers as failed; a first, uninterrupted
    attempt has none, and skips that statement.
    """
    values = lifecycle.outcome_values(outcome, utcnow())
    with one_writer():
        write_steps(steps)
        lifecycle.finish(claim, run_id, token, values, close_steps)
        db.session.commit()
    status = values["status"]
    if claim is None:
        log.info("run_id=%s state=%s steps=%s", run_id, status.value, outcome.steps)
    else:
        log.info("run_id=%s state=%s version=%s attempt=%s steps=%s", run_id, status.value, claim.version_number,
                 claim.attempts, outcome.steps)
    announce_finished(run_id, status.value, events, outcome=values)  # the columns just committed
    return status.value


def park(run: ClaimedRun, outcome: flows.RunOutcome, events: Publisher, steps: list[dict] = ()) -> str:
    """Mark the run `waiting` until `outcome.resume_at`, release its lease, schedule its resume.

    The run's time limit counts active time only: its deadline moves by the time it waited
    when a worker claims it again (`app.services.runs.lifecycle`).
    If scheduling fails (Redis down), the sweeper resumes the run once its time has passed.
    `steps` not written yet are written with the parking (and the claim, if it is not yet).
    """
    resume_at = datetime.fromtimestamp(outcome.resume_at, timezone.utc)
    job_id = new_job_id(run.id)
    with one_writer():
        if not run.taken:
            take(run, settings().lease_seconds)
        write_steps(steps)
        lifecycle.park(run, resume_at, outcome.output, job_id, utcnow())
        db.session.commit()
    log.info("run_id=%s state=waiting version=%s attempt=%s resume_at=%s steps=%s", run.id, run.version_number,
             run.attempts, resume_at.isoformat(), outcome.steps)
    events({"type": "waiting", "resume_at": resume_at.isoformat()})
    events.send_held()
    schedule_resume(run.id, job_id, resume_at)
    return RunStatus.WAITING.value


def write_steps(rows: list[dict]) -> None:
    """Insert step rows (with the keys of `_STEP_KEYS`) in the current transaction, in one statement."""
    if rows:
        _INSERT_STEPS.execute(rows)
