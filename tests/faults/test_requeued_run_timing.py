"""A run's time limit counts active time: a run requeued after kill -9 does not time out in the queue.

The run's worker is killed mid-run, the sweeper requeues the run, and no worker takes it for
longer than the flow's whole time limit. It must still succeed: the limit is spent only while a
worker executes the run (the README's promise, as for a delay node's wait).
"""

from __future__ import annotations

import signal
import time

from tests.faults.conftest import start_slow_run

TIME_LIMIT = 4  # seconds; the run does about 2 s of work (the slow call), done twice here


def _run(app, run_id):
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        run = db.session.get(Run, run_id)
        snapshot = (run.status.value, run.error, [(s.node_id, s.attempt, s.status.value) for s in run.steps])
        db.session.remove()
        return snapshot


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def test_a_run_requeued_after_kill_9_and_held_in_the_queue_still_succeeds(app, fault_stack, slow_service):
    run_id = start_slow_run(app, fault_stack.base_url, "Requeued", slow_service.url, run_timeout_seconds=TIME_LIMIT)
    started = time.monotonic()
    for worker in fault_stack.live_workers():  # no worker is left to take the run
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    _wait(lambda: _run(app, run_id)[0] == "queued", timeout=30)  # the sweeper requeued it
    # Held in the queue until more than the whole time limit has passed since it started.
    _wait(lambda: time.monotonic() - started > TIME_LIMIT + 2, timeout=TIME_LIMIT + 5)
    assert _run(app, run_id)[0] == "queued"
    fault_stack.start_worker()
    status, error, steps = _wait(lambda: (r := _run(app, run_id))[0] not in ("queued", "running") and r,
                                 timeout=60)
    assert (status, error) == ("succeeded", None), steps
    assert ("greet", 2, "succeeded") in steps, steps  # the interrupted call ran again, once
