"""Every node type in one flow, run by a real worker against loopback stand-ins; delays, events and secrets.

The LLM provider and the web service are real HTTP servers in this process; the worker is a
separate `worker.py` process that reaches them over TCP (the test stack allows 127.0.0.1/32).
"""

from __future__ import annotations


import pytest
from sqlalchemy import text

import flows
from tests.conftest import wait_for
from tests.stubs import provider, service
from tests.app.trigger_helpers import bearer

LLM_SECRET = "sk-llm-secret-4f9a81"
SERVICE_SECRET = "svc-token-77ab21"



def edge(index: int, source: str, port: str, target: str) -> dict:
    return {"id": f"e{index}", "source": source, "source_port": port, "target": target, "target_port": "in"}


def every_node_flow(llm_url: str, service_url: str, delay_seconds: float = 2) -> dict:
    """api/manual → start → vars → ask (LLM) → summary → call (HTTP) → pick (switch) → ack → wait (delay)
    → check (condition) → final (reply) → audit (HTTP, echoes headers) → broken (HTTP 500, error port) → stop."""
    nodes = [
        {"id": "api", "type": "api_trigger", "config": {"key": "ops-chat", "wait_for_response": False}},
        {"id": "manual", "type": "manual_trigger", "config": {}},
        {"id": "chat", "type": "openai_trigger", "config": {"key": "ops-model"}},
        {"id": "nightly", "type": "schedule_trigger", "config": {"cron": "0 3 * * *", "enabled": False}},
        {"id": "start", "type": "start", "config": {"message_input": "message", "inputs": [
            {"name": "message", "type": "string", "required": True},
            {"name": "service", "type": "string", "default": "DB"}]}},
        {"id": "vars", "type": "set_variables", "config": {"variables": [
            {"name": "svc", "value": "{{ inputs.service | lower }}"}]}},
        {"id": "ask", "type": "llm", "config": {
            "base_url": llm_url + "/v1", "model": "echo", "credential": "llm-key", "history_turns": 2,
            "system_prompt": "You are the ops assistant.", "messages": [{"role": "user", "content": "{{ inputs.message }}"}]}},
        {"id": "summary", "type": "template", "config": {"template": "{{ nodes.ask.text | trim }}"}},
        {"id": "call", "type": "http_request", "config": {
            "url": service_url + "/status/{{ nodes.vars.svc }}", "credential": "svc-token",
            "retry": {"attempts": 2, "backoff_seconds": 0.1}}},
        {"id": "pick", "type": "switch", "config": {"value": "{{ nodes.call.json.state }}", "cases": [
            {"port": "bad", "equals": "degraded"}]}},
        {"id": "ack", "type": "reply", "config": {"text": "Checking {{ nodes.vars.svc }} again shortly…"}},
        {"id": "fine", "type": "reply", "config": {"text": "{{ nodes.vars.svc }} is fine."}},
        {"id": "wait", "type": "delay", "config": {"amount": delay_seconds, "unit": "seconds"}},
        {"id": "check", "type": "condition", "config": {"branches": [{"port": "answered", "conditions": [
            {"value": "{{ nodes.call.status }}", "operator": "equals", "compare_to": "200"}]}]}},
        {"id": "final", "type": "reply", "config": {
            "text": "{{ nodes.summary.text }} | {{ nodes.vars.svc }} is {{ nodes.call.json.state }}"}},
        {"id": "audit", "type": "http_request", "config": {
            "url": service_url + "/echo", "method": "POST", "credential": "svc-token", "body_type": "json",
            "json_body": '{"run": {{ run.id | tojson }}}'}},
        {"id": "broken", "type": "http_request", "config": {"url": service_url + "/fail/500", "on_error": "port"}},
        {"id": "stop", "type": "end", "config": {}},
    ]
    edges = [("api", "out", "start"), ("manual", "out", "start"), ("chat", "out", "start"), ("nightly", "out", "start"),
             ("start", "out", "vars"), ("vars", "out", "ask"),
             ("ask", "out", "summary"), ("summary", "out", "call"), ("call", "out", "pick"), ("pick", "bad", "ack"),
             ("pick", "default", "fine"), ("ack", "out", "wait"), ("wait", "out", "check"),
             ("check", "answered", "final"), ("check", "else", "stop"), ("final", "out", "audit"),
             ("audit", "out", "broken"), ("broken", "error", "stop")]
    return {"schema_version": 1, "name": "Every node", "nodes": nodes,
            "edges": [edge(i, *e) for i, e in enumerate(edges)]}


@pytest.fixture
def stubs():
    with provider() as llm, service() as svc:
        yield llm, svc


def _credentials(client, api_key):
    for body in ({"name": "llm-key", "kind": "api_key", "value": LLM_SECRET},
                 {"name": "svc-token", "kind": "bearer", "value": SERVICE_SECRET}):
        response = client.post("/api/v1/credentials", json=body, headers=bearer(api_key))
        assert response.status_code == 201, response.json


def _publish(client, api_key, document) -> tuple[str, str]:
    body = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key)).json
    assert "id" in body, body
    trigger = next(t for t in body["triggers"] if t["type"] == "api_trigger")
    return body["id"], "/" + trigger["url"].split("://", 1)[1].split("/", 1)[1]


def test_a_flow_with_every_node_type_runs_on_a_real_worker(app, client, api_key, stack, stubs, clock_process):
    llm, svc = stubs
    document = every_node_flow(llm.url, svc.url)
    assert {n["type"] for n in document["nodes"]} == {t.type for t in flows.registry.types()}
    _credentials(client, api_key)
    _, path = _publish(client, api_key, document)

    accepted = client.post(path, json={"message": "Is the database ok?"}, headers=bearer(api_key))
    assert accepted.status_code == 202, accepted.json
    run_id = accepted.json["run_id"]
    get = lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json  # noqa: E731
    parked = wait_for(lambda: (run := get())["status"] == "waiting" and run, timeout=30)
    assert parked["resume_at"] and parked["output"] == {"text": "Checking db again shortly…"}

    run = wait_for(lambda: (run := get())["status"] in ("succeeded", "failed") and run, timeout=60)

    assert run["status"] == "succeeded", (run["error"], stack.worker_log()[-3000:])
    assert run["output"] == {"text": "echo: Is the database ok? (2 messages) | db is degraded"}
    assert run["attempts"] == 2  # claimed once, then again when the delay was over
    steps = {s["node_id"]: s for s in run["steps"]}
    assert [s["node_id"] for s in run["steps"]] == [
        "api", "start", "vars", "ask", "summary", "call", "pick", "ack", "wait", "check", "final", "audit",
        "broken", "stop"]
    assert steps["ask"]["output"]["usage"]["total_tokens"] > 0
    assert steps["call"]["input"]["url"] == svc.url + "/status/db"
    assert (steps["broken"]["status"], steps["broken"]["port"]) == ("failed", "error")
    assert "answered HTTP 500" in steps["broken"]["output"]["error"]["message"]
    assert steps["audit"]["output"]["json"]["headers"]["Authorization"] == "[redacted]"
    assert steps["audit"]["output"]["json"]["headers"]["Idempotency-Key"] == f"{run_id}-audit"

    # The providers got the real secrets; nothing stored or logged contains them.
    assert llm.requests[-1]["headers"]["Authorization"] == f"Bearer {LLM_SECRET}"
    assert svc.requests[0]["headers"]["Authorization"] == f"Bearer {SERVICE_SECRET}"
    from app.extensions import db
    with app.app_context():
        stored = repr([tuple(row) for table in ("run_steps", "runs", "credentials")
                       for row in db.session.execute(text(f"SELECT * FROM {table}"))])
    logs = stack.worker_log() + (stack.instance_path / "clock.log").read_text(errors="replace")
    for secret in (LLM_SECRET, SERVICE_SECRET):
        assert secret not in stored
        assert secret not in logs

    # The run's live events: streamed tokens, both replies, the pause and the end, in order.
    from app.queueing.run_events import follow
    with app.app_context():
        events = list(follow(run_id, timeout=5))
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "end" and events[-1]["status"] == "succeeded"
    assert "".join(e["text"] for e in events if e["type"] == "token").strip() == "echo: Is the database ok? (2 messages)"
    assert [e["text"] for e in events if e["type"] == "reply"] == [
        "Checking db again shortly…", "echo: Is the database ok? (2 messages) | db is degraded"]
    assert kinds.index("waiting") < kinds.index("end")
    assert kinds.index("token") < kinds.index("waiting")


def test_a_waiting_run_whose_timer_was_lost_is_resumed_by_the_sweeper(app, client, api_key, stubs):
    """No scheduler process runs here, so the scheduled resume job never fires: the sweeper must notice."""
    llm, svc = stubs
    _credentials(client, api_key)
    _, path = _publish(client, api_key, every_node_flow(llm.url, svc.url, delay_seconds=1))
    run_id = client.post(path, json={"message": "hi"}, headers=bearer(api_key)).json["run_id"]
    get = lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json  # noqa: E731
    wait_for(lambda: get()["status"] == "waiting", timeout=30)

    from app.config import replace_settings
    from app.clock.sweeper import sweep
    replace_settings(app, sweep_interval_seconds=1, sweep_queued_grace_seconds=0)
    with app.app_context():
        assert sweep().resumed_waiting == 0  # not before its time
        report = wait_for(lambda: sweep().resumed_waiting, timeout=15)
    assert report == 1

    run = wait_for(lambda: (run := get())["status"] in ("succeeded", "failed") and run, timeout=30)
    assert run["status"] == "succeeded", run["error"]
    assert [s["node_id"] for s in run["steps"]].count("ask") == 1  # completed steps never ran again


def test_canceling_a_waiting_run_ends_it_at_once(client, api_key, stubs):
    llm, svc = stubs
    _credentials(client, api_key)
    _, path = _publish(client, api_key, every_node_flow(llm.url, svc.url, delay_seconds=3600))
    run_id = client.post(path, json={"message": "hi"}, headers=bearer(api_key)).json["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json["status"] == "waiting",
             timeout=30)

    response = client.post(f"/api/v1/runs/{run_id}/cancel", headers=bearer(api_key))

    assert response.status_code == 202
    assert response.json["status"] == "canceled"
