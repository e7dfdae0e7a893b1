"""Runs survive what kills workers and empties Redis: the sweeper, leases, fencing, limits, cancel.

These build the exact database state a crashed worker leaves behind (with the same code a worker
runs), then let the real sweeper and a real worker process take it from there.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from contextlib import contextmanager
from datetime import timedelta

import pytest

import flows
from tests.app.flowdocs import greeting_flow, with_slow_step
from tests.conftest import wait_for


@contextmanager
def worker_paused(stack):
    """Freeze the session's worker (as if every worker were busy or gone) and thaw it after."""
    os.kill(stack.worker.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(stack.worker.pid, signal.SIGCONT)


def _setup(app, document=None, workspace="Durable"):
    from app.extensions import db
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace

    with app.app_context():
        result = publishing.create_flow(get_or_create_workspace(workspace), document or greeting_flow(), None)
        db.session.commit()
        return result.flow.id


def _start(app, flow_id, message="hi"):
    from app.extensions import db
    from app.models import Flow, Trigger
    from app.services.runs.run_start import run_now

    with app.test_request_context():
        flow = db.session.get(Flow, flow_id)
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id,
                                                              Trigger.node_id == "manual")).scalar_one()
        return run_now(flow, trigger, {"message": message}, "req_test").run.id


def _run(app, run_id):
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        run = db.session.get(Run, run_id)
        db.session.refresh(run)
        steps = [(s.seq, s.attempt, s.node_id, s.status.value, s.error) for s in run.steps]
        snapshot = (run.status.value, run.attempts, steps, run.error)
        db.session.remove()
        return snapshot


def _sweep(app):
    from app.extensions import db
    from app.clock.sweeper import sweep

    with app.app_context():
        try:
            return sweep()
        finally:
            db.session.remove()


def _crash_after(app, run_id, completed: int, in_flight: bool = True, attempts_in_flight: int = 1):
    """Leave the run as a worker killed during step `completed + 1` would: claimed, steps written."""
    from app.worker.execution import SqlJournal
    from app.extensions import db
    from app.models import Run
    from app.services.runs.lifecycle import claim

    with app.app_context():
        claimed = claim(run_id, 30)
        run = db.session.get(Run, run_id)
        journal = SqlJournal(claimed, 30)
        outcome = flows.run_graph(run.version.document, entry_node_id=run.trigger_node_id,
                                  payload={"inputs": run.inputs, "trigger": run.trigger_payload},
                                  journal=journal, run_info={"id": run_id},
                                  env=flows.RunEnvironment(max_steps=completed))
        assert outcome.status == "failed" and "step limit" in outcome.error  # stopped where we asked
        journal.flush()  # the completed steps were committed (as before any checkpointed node)
        next_node = outcome.error_node_id
        node_type = next(n["type"] for n in run.version.document["nodes"] if n["id"] == next_node)
        if in_flight:  # as a node type with a checkpoint leaves it
            for attempt in range(1, attempts_in_flight + 1):
                journal.step_started(completed + 1, next_node, node_type, attempt, {})
        run = db.session.get(Run, run_id)
        run.lease_expires_at = run.lease_expires_at - timedelta(seconds=60)  # the owner stopped renewing
        db.session.commit()
        db.session.remove()
        return claimed.token


def test_a_queued_run_whose_job_redis_lost_is_requeued_and_finishes(app, stack):
    from app.config import replace_settings
    from app.queueing.connection import get_redis
    from app.queueing.rq_setup import job_key, run_queue

    replace_settings(app, sweep_queued_grace_seconds=0)
    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        with app.app_context():
            redis = get_redis()
            from app.models import Run
            from app.extensions import db
            job_id = db.session.get(Run, run_id).job_id
            redis.delete(run_queue().key, job_key(job_id))  # Redis lost its data
            db.session.remove()
        assert _sweep(app).requeued_lost == 1
    wait_for(lambda: _run(app, run_id)[0] == "succeeded")


def test_a_queued_run_whose_job_a_worker_took_and_never_started_is_requeued_once(app, stack):
    """A worker popped the job (BLPOP) and stopped before marking it started: the job says
    "queued" but is in no queue, so nothing would ever run it unless the sweeper notices."""
    from app.config import replace_settings
    from app.queueing.connection import get_redis
    from app.queueing.rq_setup import run_queue

    replace_settings(app, sweep_queued_grace_seconds=0)
    flow_id = _setup(app)
    with worker_paused(stack):  # the paused worker's blocked BLPOP may take the job: the same state
        run_id = _start(app, flow_id)
        with app.app_context():
            get_redis().lpop(run_queue().key)  # as a worker's BLPOP would
        assert _sweep(app).requeued_lost == 1
        assert _sweep(app).requeued_lost == 0  # the new job is in the queue: nothing more to do
    status, attempts, steps, _ = wait_for(lambda: (r := _run(app, run_id))[0] == "succeeded" and r)
    assert attempts == 1 and [s[2] for s in steps] == ["manual", "start", "greet", "route", "reply"]


def test_a_run_whose_worker_died_resumes_after_its_last_completed_step(app, stack):
    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        _crash_after(app, run_id, completed=3)  # manual, start, greet done; route in flight
        report = _sweep(app)
    assert report.requeued_expired == 1
    status, attempts, steps, _ = wait_for(lambda: (r := _run(app, run_id))[0] == "succeeded" and r)
    assert attempts == 2
    assert [(s[0], s[1], s[2]) for s in steps if s[3] == "succeeded"] == [
        (1, 1, "manual"), (2, 1, "start"), (3, 1, "greet"), (4, 2, "route"), (5, 1, "reply")]
    interrupted = [s for s in steps if s[3] == "failed"]
    assert [(s[0], s[1]) for s in interrupted] == [(4, 1)] and "Interrupted" in interrupted[0][4]


def test_a_started_run_requeued_after_its_worker_died_is_resumed_not_discarded(app, stack):
    """The caller's discard time promises "never executed": a run that already ran steps goes on."""
    from app.extensions import db
    from app.models import Run
    from app.models.types import utcnow

    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        _crash_after(app, run_id, completed=3)
        with app.app_context():
            db.session.get(Run, run_id).discard_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            db.session.remove()
        report = _sweep(app)  # requeues it; the same sweep then looks for runs to discard
        assert (report.requeued_expired, report.discarded) == (1, 0)
        assert _sweep(app).discarded == 0
    status, attempts, steps, _ = wait_for(lambda: (r := _run(app, run_id))[0] not in ("queued", "running") and r)
    assert (status, attempts) == ("succeeded", 2)
    assert [s[2] for s in steps if s[3] == "succeeded"] == ["manual", "start", "greet", "route", "reply"]


def test_a_step_that_keeps_killing_its_worker_is_given_up_after_its_attempt_limit(app, stack):
    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        _crash_after(app, run_id, completed=2, attempts_in_flight=3)
        _sweep(app)
    status, _, steps, error = wait_for(lambda: (r := _run(app, run_id))[0] == "failed" and r)
    assert "interrupted 3 times" in error
    assert [s for s in steps if s[2] == "greet" and s[3] == "succeeded"] == []


def test_a_stale_worker_cannot_write_into_a_run_it_lost(app, stack):
    from app.worker.execution import SqlJournal
    from app.extensions import db
    from app.models import RunStep
    from app.services.runs.lifecycle import LeaseLost, claim

    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        old_token = _crash_after(app, run_id, completed=1, in_flight=False)
        with app.app_context():
            taken = claim(run_id, 30)  # another worker took the expired run over
            db.session.commit()
            assert taken.token != old_token
            stale = SqlJournal(dataclasses.replace(taken, token=old_token), 30)
            with pytest.raises(LeaseLost):
                stale.step_started(2, "start", "start", 1, {})
            db.session.rollback()
            assert db.session.execute(db.select(db.func.count()).select_from(RunStep)
                                      .where(RunStep.run_id == run_id)).scalar_one() == 1
            db.session.remove()


def test_a_run_canceled_while_its_pure_nodes_ran_stays_canceled_without_steps(app, stack):
    """Pure nodes run before the claim is written; a cancel that lands meanwhile wins, nothing is written."""
    from app.worker.execution import SqlJournal, finish
    from app.extensions import db
    from app.models import Run
    from app.services.runs.lifecycle import ClaimLost, load_claim
    from app.services.runs.records import request_cancel

    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        with app.app_context():
            loaded = load_claim(run_id)
            journal = SqlJournal(loaded, 30)
            run = db.session.get(Run, run_id)
            outcome = flows.run_graph(run.version.document, entry_node_id=run.trigger_node_id,
                                      payload={"inputs": run.inputs, "trigger": run.trigger_payload},
                                      journal=journal, run_info={"id": run_id})
            assert outcome.status == "succeeded"  # executed in memory, nothing written yet
            db.session.rollback()
            assert request_cancel(db.session.get(Run, run_id)) is True  # e.g. the user pressed Cancel
            with pytest.raises(ClaimLost):
                finish(run_id, loaded.token, outcome, events=journal.events.take_held(), claim=loaded,
                       steps=journal.take_pending())
            db.session.remove()
        status, attempts, steps, _ = _run(app, run_id)
    assert (status, attempts, steps) == ("canceled", 0, [])


def test_cancel_a_queued_run_and_it_never_executes(app, stack, client, api_key):
    flow_id = _setup(app, workspace="Acme")  # the API key's workspace
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        response = client.post(f"/api/v1/runs/{run_id}/cancel", headers={"Authorization": f"Bearer {api_key}"})
        assert response.status_code == 202 and response.json["status"] == "canceled"
    again = client.post(f"/api/v1/runs/{run_id}/cancel", headers={"Authorization": f"Bearer {api_key}"})
    assert again.status_code == 409
    assert _run(app, run_id)[2] == []


def test_a_run_past_its_time_limit_ends_timed_out(app, stack, client, api_key, slow_service):
    slow = with_slow_step(greeting_flow(), slow_service.url)  # 2 s, then the limit is checked before the next step
    created = client.post("/api/v1/flows", json={"document": slow}, headers={"Authorization": f"Bearer {api_key}"})
    flow_id = created.json["id"]
    patched = client.patch(f"/api/v1/flows/{flow_id}", json={"run_timeout_seconds": 1},
                           headers={"Authorization": f"Bearer {api_key}"})
    assert patched.status_code == 200 and patched.json["run_timeout_seconds"] == 1
    bad = client.patch(f"/api/v1/flows/{flow_id}", json={"run_timeout_seconds": 0},
                       headers={"Authorization": f"Bearer {api_key}"})
    assert bad.status_code == 400
    response = client.post(f"/api/v1/flows/{flow_id}/triggers/manual/run", json={"message": "x"},
                           headers={"Authorization": f"Bearer {api_key}"})
    status, _, steps, error = wait_for(lambda: (r := _run(app, response.json["run_id"]))[0] not in
                                       ("queued", "running") and r, timeout=30)
    assert status == "timed_out" and "time limit" in error
    assert "reply" not in [s[2] for s in steps]


def _set_budget_left(app, run_id, seconds: float) -> None:
    """Give the crashed run `seconds` of its time limit left when its worker last renewed the lease."""
    from app.config import settings
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        run = db.session.get(Run, run_id)
        last_alive = run.lease_expires_at - timedelta(seconds=settings(app).lease_seconds)
        run.deadline_at = last_alive + timedelta(seconds=seconds)
        db.session.commit()
        db.session.remove()


def test_a_dead_workers_run_out_of_time_when_it_stopped_is_ended_by_the_sweeper(app, stack):
    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        _crash_after(app, run_id, completed=2)
        _set_budget_left(app, run_id, -1)
        assert _sweep(app).timed_out == 1
    status, _, steps, error = _run(app, run_id)
    assert status == "timed_out" and "Its worker was gone" in error
    assert all(s[3] != "running" for s in steps)


def test_time_a_requeued_run_spends_without_a_worker_does_not_count_against_its_limit(app, stack):
    """The limit counts active time: the worker died 60 s ago with 5 s left; the run gets those 5 s."""
    flow_id = _setup(app)
    with worker_paused(stack):
        run_id = _start(app, flow_id)
        _crash_after(app, run_id, completed=3)  # its lease ran out 30 s ago, renewed 60 s ago
        _set_budget_left(app, run_id, 5)  # so its deadline passed 55 s ago, while nobody worked on it
        report = _sweep(app)
        assert (report.requeued_expired, report.timed_out) == (1, 0)
    status, attempts, steps, error = wait_for(
        lambda: (r := _run(app, run_id))[0] not in ("queued", "running") and r)
    assert (status, attempts, error) == ("succeeded", 2, None)


def test_cancel_a_running_run_stops_it_before_its_next_step(app, stack, client, api_key, slow_service):
    slow = with_slow_step(greeting_flow(), slow_service.url)
    headers = {"Authorization": f"Bearer {api_key}"}
    flow_id = client.post("/api/v1/flows", json={"document": slow}, headers=headers).json["id"]
    run_id = client.post(f"/api/v1/flows/{flow_id}/triggers/manual/run", json={"message": "x"},
                         headers=headers).json["run_id"]
    wait_for(lambda: any(s[2] == "start" for s in _run(app, run_id)[2]))  # the slow step runs next
    response = client.post(f"/api/v1/runs/{run_id}/cancel", headers=headers)
    assert response.status_code == 202
    status, _, steps, error = wait_for(lambda: (r := _run(app, run_id))[0] not in ("queued", "running") and r)
    assert status == "canceled" and error == "Canceled on request."
    assert [s[2] for s in steps] == ["manual", "start", "greet"]
