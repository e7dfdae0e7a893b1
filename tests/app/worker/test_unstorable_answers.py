"""A step whose result holds text no database column can keep (NUL, lone surrogates) still records.

Before, on PostgreSQL such an answer from a web service left the run unrecorded and never ended;
on SQLite it was kept as it was. Now both keep the replacement character in its place.
"""

from __future__ import annotations

from tests.app.trigger_helpers import bearer, publish
from tests.app.worker.test_node_library_stack import edge
from tests.conftest import wait_for
from tests.stubs import service


def test_an_http_answer_with_nul_and_lone_surrogates_is_recorded_and_the_run_ends(client, api_key, stack):
    with service() as svc:
        nodes = [
            {"id": "api", "type": "api_trigger", "config": {"key": "odd", "wait_for_response": False}},
            {"id": "start", "type": "start", "config": {"inputs": []}},
            {"id": "call", "type": "http_request", "config": {"url": svc.url + "/odd-json"}},
            {"id": "say", "type": "reply", "config": {"text": "{{ nodes.call.json.nul }}|{{ nodes.call.json.ok }}"}},
        ]
        links = [("api", "out", "start"), ("start", "out", "call"), ("call", "out", "say")]
        document = {"schema_version": 1, "name": "Odd answers", "nodes": nodes,
                    "edges": [edge(i, *e) for i, e in enumerate(links)]}
        accepted = publish(client, api_key, document).call({})
        assert accepted.status_code == 202, accepted.json
        run_id = accepted.json["run_id"]
        get = lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json  # noqa: E731
        run = wait_for(lambda: (run := get())["status"] in ("succeeded", "failed") and run, timeout=60)

    assert run["status"] == "succeeded", (run.get("error"), stack.worker_log()[-3000:])
    call = next(s for s in run["steps"] if s["node_id"] == "call")
    assert call["output"]["json"] == {"nul": "a\ufffdb", "lone": "x\ufffdy", "key\ufffd": "\ufffd", "ok": "fine"}
    assert run["output"] == {"text": "a\ufffdb|fine"}  # the same text a resumed run would read back
