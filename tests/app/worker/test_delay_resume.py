"""A delay node resumes its run on time: within a second of `resume_at`, never before it.

Real stack: the session's worker process and the scheduler process (rq-scheduler's clock and the
sweeper), as in production. Lateness is measured from what the run recorded: the delay step's
`resume_at_epoch` and the start of the step after it.
"""

from __future__ import annotations

import time
from datetime import datetime

from tests.app.trigger_helpers import bearer
from tests.conftest import wait_for


def delay_flow(seconds: float) -> dict:
    """api → start → wait (delay) → done (reply)."""
    nodes = [
        {"id": "api", "type": "api_trigger", "config": {"key": "later", "wait_for_response": False}},
        {"id": "start", "type": "start", "config": {"message_input": "message", "inputs": [
            {"name": "message", "type": "string", "required": True}]}},
        {"id": "wait", "type": "delay", "config": {"amount": seconds, "unit": "seconds"}},
        {"id": "done", "type": "reply", "config": {"text": "later: {{ inputs.message }}"}},
    ]
    edges = [("api", "start"), ("start", "wait"), ("wait", "done")]
    return {"schema_version": 1, "name": "Delayed", "nodes": nodes,
            "edges": [{"id": f"e{i}", "source": s, "source_port": "out", "target": t, "target_port": "in"}
                      for i, (s, t) in enumerate(edges)]}


def _publish(client, api_key, document: dict) -> tuple[str, str]:
    """Publish `document`; return its flow id and the local path of its REST trigger."""
    created = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key)).json
    trigger = next(t for t in created["triggers"] if t["type"] == "api_trigger")
    return created["id"], "/" + trigger["url"].split("://", 1)[1].split("/", 1)[1]


def test_a_delay_resumes_within_a_second_of_its_time(app, client, api_key, stack, clock_process):
    # Long enough that all four runs are parked before the first resumes even on a loaded machine:
    # with one worker, a resume due while it still starts the next run would wait for it.
    _, path = _publish(client, api_key, delay_flow(5))
    # Several runs, started at different fractions of a second: the scheduler's timers have
    # whole-second resolution, so each phase of the second is its own case.
    run_ids = []
    for n in range(4):
        accepted = client.post(path, json={"message": f"m{n}"}, headers=bearer(api_key))
        assert accepted.status_code == 202, accepted.json
        run_ids.append(accepted.json["run_id"])
        wait_for(lambda: client.get(f"/api/v1/runs/{run_ids[-1]}", headers=bearer(api_key)).json["status"]
                 == "waiting", timeout=30)
        time.sleep(0.23)  # not a wait for a condition: it moves the next run to another phase of the second
    for run_id in run_ids:
        get = lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json  # noqa: E731
        run = wait_for(lambda: (r := get())["status"] not in ("queued", "running", "waiting") and r, timeout=40)
        assert run["status"] == "succeeded", (run["error"], stack.worker_log()[-3000:])
        steps = {s["node_id"]: s for s in run["steps"]}
        resume_at = steps["wait"]["output"]["resume_at_epoch"]
        resumed = datetime.fromisoformat(steps["done"]["started_at"]).timestamp()
        assert 0 <= resumed - resume_at < 1.0, f"resumed {resumed - resume_at:.3f} s after its time"


def test_a_delay_longer_than_the_time_limit_does_not_time_the_run_out(app, client, api_key, stack,
                                                                       clock_process):
    """The limit counts active time: a 1 s limit, a 2 s wait, and the run still succeeds."""
    flow_id, path = _publish(client, api_key, delay_flow(2))
    patched = client.patch(f"/api/v1/flows/{flow_id}", json={"run_timeout_seconds": 1}, headers=bearer(api_key))
    assert patched.status_code == 200
    run_id = client.post(path, json={"message": "m"}, headers=bearer(api_key)).json["run_id"]
    get = lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json  # noqa: E731
    run = wait_for(lambda: (r := get())["status"] not in ("queued", "running", "waiting") and r, timeout=40)
    assert (run["status"], run["error"]) == ("succeeded", None)
