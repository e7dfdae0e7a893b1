"""SIGTERM on a worker lets its current run finish before the worker exits."""

from __future__ import annotations

import signal

from tests.faults.conftest import start_slow_run


def test_sigterm_finishes_the_current_run_then_exits(app, fault_stack, slow_service):
    from app.extensions import db
    from app.models import Run

    run_id = start_slow_run(app, fault_stack.base_url, "Graceful", slow_service.url)
    owner = [w for w in fault_stack.live_workers()]
    for worker in owner:
        worker.send_signal(signal.SIGTERM)
    for worker in owner:
        assert worker.wait(timeout=30) == 0
    with app.app_context():
        run = db.session.get(Run, run_id)
        assert run.status.value == "succeeded" and run.attempts == 1
        assert all(step.attempt == 1 for step in run.steps)
        db.session.remove()
