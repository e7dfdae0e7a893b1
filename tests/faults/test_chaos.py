"""Nothing accepted is ever lost: trigger traffic while workers are killed and Redis restarts.

A few hundred requests go to a real web server while a chaos loop kill -9s workers at random
moments and restarts Redis empty. Afterwards every request that got a 2xx has exactly one run,
every run reached a final status, and no node ran twice after it had completed.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.app.flowdocs import greeting_flow

REQUESTS = 240
CHAOS_SECONDS_MAX = 60


def _slowish_flow(key: str, wait: bool) -> dict:
    """The greeting flow with a ~20-50 ms step, so kills often land mid-run.

    (9,000 loop turns: since templates are bounded in time and memory a turn costs a few µs; the
    60,000 this loop had before made every step ~0.3 s, and the runs outlasted the chaos by a minute.)
    """
    document = greeting_flow(key=key, wait_for_response=wait, timeout_seconds=5)
    for node in document["nodes"]:
        if node["id"] == "greet":
            node["config"]["template"] = ("{% for i in range(3000) %}{% for j in range(3) %}{% endfor %}{% endfor %}"
                                          "Hello {{ inputs.person }}: {{ inputs.message }}")
    return document


def _publish(app, document) -> tuple[str, str]:
    from app.extensions import db
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace

    with app.app_context():
        workspace = get_or_create_workspace("Chaos")
        result = publishing.create_flow(workspace, document, None)
        db.session.commit()
        return workspace.id, result.secrets["api"]


def _post(url: str, secret: str, n: int) -> tuple[int, dict]:
    body = json.dumps({"user_message": f"message {n}"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {}
    except OSError as error:  # the connection itself failed: no answer, so no promise was made
        return 0, {"error": str(error)}


def _chaos(fault_stack, done: threading.Event, chaos_log: list[str]) -> None:
    """Kill a random working worker every fraction of a second and restart Redis every 6 s, until done.

    Only workers already listening on the queue are killed: a replacement takes seconds to start,
    and killing it before it takes a job tests nothing (that way most kills used to land on
    starting workers, no run made progress during the chaos, and the backlog took a minute after it).
    """
    rng = random.Random(20261121)
    deadline = time.monotonic() + CHAOS_SECONDS_MAX
    last_redis_restart = time.monotonic()
    while not done.is_set() and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.2, 0.6))
        if time.monotonic() - last_redis_restart > 6:
            fault_stack.restart_redis()
            last_redis_restart = time.monotonic()
            chaos_log.append("redis restarted")
            continue
        working = fault_stack.ready_workers()
        if working:
            victim = rng.choice(working)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            chaos_log.append(f"killed worker {victim.pid}")
        while len(fault_stack.live_workers()) < 2:
            fault_stack.start_worker()


def test_every_accepted_request_ends_in_exactly_one_final_run(app, fault_stack):
    workspace_id, async_secret = _publish(app, _slowish_flow("chaos-async", wait=False))
    _, wait_secret = _publish(app, _slowish_flow("chaos-wait", wait=True))
    urls = {False: f"{fault_stack.base_url}/hooks/{workspace_id}/chaos-async",
            True: f"{fault_stack.base_url}/hooks/{workspace_id}/chaos-wait"}
    secrets = {False: async_secret, True: wait_secret}

    done = threading.Event()
    chaos_log: list[str] = []

    chaos_thread = threading.Thread(target=_chaos, args=(fault_stack, done, chaos_log), daemon=True)
    chaos_thread.start()
    # As many callers as the fault stack's web has threads (2 x 8): with 6, the quick requests
    # queued behind waiting ones that ran into their 5 s timeout, and sending took ~45 s, not ~12 s.
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = []
        for n in range(REQUESTS):
            wait = n % 4 == 0
            futures.append((wait, pool.submit(_post, urls[wait], secrets[wait], n)))
            time.sleep(0.05)
        answers = [(wait, future.result()) for wait, future in futures]
    done.set()
    chaos_thread.join(timeout=30)
    while len(fault_stack.live_workers()) < 2:
        fault_stack.start_worker()

    statuses = [status for _, (status, _) in answers]
    assert 500 not in statuses, "an internal error reached a caller"
    assert set(statuses) <= {200, 202, 408, 503, 0}, sorted(set(statuses))
    accepted = {body["run_id"]: body for _, (status, body) in answers if 200 <= status < 300 or status == 408}
    assert len(accepted) == sum(1 for s in statuses if 200 <= s < 300 or s == 408), "two answers named one run"
    assert len(accepted) > REQUESTS // 2, f"too few accepted to prove anything: {sorted(set(statuses))}"
    assert any("killed" in line for line in chaos_log) and any("redis" in line for line in chaos_log)

    final = _wait_all_final(app, workspace_id, timeout=150)
    runs_by_request = {}
    for run in final:
        runs_by_request.setdefault(run["request_id"], []).append(run)
    for run_id, body in accepted.items():
        matching = runs_by_request.get(body["request_id"], [])
        assert [r["id"] for r in matching] == [run_id], f"request {body['request_id']} has runs {matching}"
    for run in final:
        if run["id"] in accepted:
            assert run["status"] == "succeeded", run
        completed_nodes = [s["node_id"] for s in run["steps"] if s["status"] == "succeeded"]
        assert len(completed_nodes) == len(set(completed_nodes)), f"a node ran twice in {run['id']}"


def _wait_all_final(app, workspace_id: str, timeout: float) -> list[dict]:
    from app.extensions import db
    from app.models import Run

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            runs = db.session.execute(db.select(Run).where(Run.workspace_id == workspace_id)).scalars().all()
            snapshot = [{"id": r.id, "status": r.status.value, "request_id": r.request_id,
                         "steps": [{"node_id": s.node_id, "status": s.status.value} for s in r.steps]}
                        for r in runs]
            db.session.remove()
        pending = [r for r in snapshot if r["status"] in ("queued", "running")]
        if not pending:
            return snapshot
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} runs never reached a final status, e.g. {pending[:3]}")
        time.sleep(0.5)
