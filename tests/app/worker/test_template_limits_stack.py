"""A template bomb fails its run on a real worker with the reason, and the same worker runs on.

The engine tests prove the limits in-process; here the render happens where it matters, in
the worker's forked work horse (a timer signal for time, RLIMIT_DATA for memory).
"""

from __future__ import annotations

from tests.app.trigger_helpers import bearer
from tests.conftest import wait_for

BOMBS = {
    "size": "{{ 'x'|center(10**9) }}",
    "format": "{{ '%0*d' % (10**9, 1) }}",
    # one long filter call (every number has the same hash): only the timer stops it
    "time": "{{ range(0, 100000 * (2**61 - 1), 2**61 - 1)|unique|list|length }}",
    "memory": "{{ range(100)|map('center', 16000000)|list|length }}",  # passes every check, needs 1.6 GB
}


def _flow() -> dict:
    text = "".join(f"{{% {'if' if index == 0 else 'elif'} inputs.message == '{name}' %}}{source}"
                   for index, (name, source) in enumerate(BOMBS.items())) + "{% else %}fine{% endif %}"
    return {"schema_version": 1, "name": "bombs", "nodes": [
        {"id": "api", "type": "api_trigger", "config": {"key": "bombs", "wait_for_response": False}},
        {"id": "start", "type": "start", "config": {"message_input": "message", "inputs": [
            {"name": "message", "type": "string", "required": True}]}},
        {"id": "answer", "type": "reply", "config": {"text": text}},
    ], "edges": [
        {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
        {"id": "e2", "source": "start", "source_port": "out", "target": "answer", "target_port": "in"},
    ]}


def test_template_bombs_fail_their_runs_and_the_worker_keeps_running(client, api_key, stack):
    body = client.post("/api/v1/flows", json={"document": _flow()}, headers=bearer(api_key)).json
    trigger = next(t for t in body["triggers"] if t["type"] == "api_trigger")
    path = "/" + trigger["url"].split("://", 1)[1].split("/", 1)[1]

    def run(message: str) -> dict:
        accepted = client.post(path, json={"message": message}, headers=bearer(api_key))
        assert accepted.status_code == 202, accepted.json
        url = f"/api/v1/runs/{accepted.json['run_id']}"
        return wait_for(lambda: (r := client.get(url, headers=bearer(api_key)).json)["status"]
                        in ("succeeded", "failed", "timed_out") and r, timeout=60)

    for name, limit in (("size", "size"), ("format", "size"), ("time", "time"), ("memory", "memory")):
        failed = run(name)
        assert failed["status"] == "failed", (name, failed, stack.worker_log()[-2000:])
        assert f"exceeded its {limit} limit" in failed["error"], (name, failed["error"])
    assert run("hello")["output"] == {"text": "fine"}
