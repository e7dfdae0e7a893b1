"""SIGTERM on a worker lets its current run finish before the worker exits."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from tests.app.flowdocs import greeting_flow, with_slow_step


def test_sigterm_finishes_the_current_run_then_exits(app, fault_stack, slow_service):
    from app.extensions import db
    from app.models import Run
    from app.services import publishing
    from app.services.accounts import get_or_create_workspace

    # about two seconds of work: a call to a service that answers late
    document = with_slow_step(greeting_flow(key="slow", wait_for_response=False, authenticate=False), slow_service.url)
    with app.app_context():
        workspace = get_or_create_workspace("Graceful")
        publishing.create_flow(workspace, document, None)
        db.session.commit()
        workspace_id = workspace.id

    request = urllib.request.Request(f"{fault_stack.base_url}/hooks/{workspace_id}/slow", method="POST",
                                     data=json.dumps({"user_message": "x"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        run_id = json.load(response)["run_id"]

    def status():
        with app.app_context():
            value = db.session.get(Run, run_id).status.value
            db.session.remove()
            return value

    deadline = time.monotonic() + 20
    while status() != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status() == "running"
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
