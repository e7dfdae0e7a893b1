"""The REST trigger end to end: HTTP request → run row → real RQ worker → steps → answer."""

from __future__ import annotations

import os
import signal

import pytest

from tests.app.flowdocs import greeting_flow, with_reply_text, with_trigger_config, without_node
from tests.app.trigger_helpers import bearer
from tests.conftest import wait_for


@pytest.fixture
def published(client, api_key):
    """Publish the greeting flow; return (flow json, trigger path, secret, api key)."""
    def publish(document=None):
        body = client.post("/api/v1/flows", json={"document": document or greeting_flow()}, headers=bearer(api_key)).json
        trigger = next(t for t in body["triggers"] if t["type"] == "api_trigger")
        path = trigger["url"].split("://", 1)[1].split("/", 1)[1]
        return body, "/" + path, body["secrets"][trigger["node_id"]]
    return publish


def test_waiting_trigger_answers_with_the_flows_reply_and_records_every_step(client, published, api_key):
    flow, path, secret = published()
    response = client.post(path, json={"user_message": "hi there", "person": "Ada"}, headers=bearer(secret))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "succeeded"
    assert body["output"]["text"] == "Hello Ada x1: hi there"
    assert body["request_id"] == response.headers["X-Request-Id"]

    run = client.get(f"/api/v1/runs/{body['run_id']}", headers=bearer(api_key)).json
    assert run["status"] == "succeeded" and run["version"] == 1
    assert run["inputs"] == {"message": "hi there", "person": "Ada", "count": 1}
    steps = [(s["node_id"], s["status"], s["port"]) for s in run["steps"]]
    assert [s[0] for s in steps] == ["api", "start", "greet", "route", "reply"]
    assert all(status == "succeeded" for _, status, _ in steps)
    assert steps[3][2] == "else"
    assert run["steps"][2]["output"] == {"text": "Hello Ada x1: hi there"}
    assert all(s["started_at"] and s["finished_at"] for s in run["steps"])


def test_condition_branch_changes_the_answer(client, published):
    _, path, secret = published()
    response = client.post(path, json={"text": "status please"}, headers=bearer(secret))
    assert response.json["output"]["text"].startswith("All systems operational.")


@pytest.mark.parametrize("field", ["user_message", "text", "instruction"])
def test_every_message_alias_reaches_the_message_input(client, published, field):
    _, path, secret = published()
    response = client.post(path, json={field: "yo"}, headers=bearer(secret))
    assert response.status_code == 200
    assert response.json["output"]["text"].endswith(": yo")


def test_workspace_api_key_also_authenticates_and_keys_are_case_insensitive(client, published, api_key):
    _, path, _ = published()
    response = client.post(path.replace("/hello", "/HeLLo"), json={"user_message": "x"}, headers=bearer(api_key))
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sbt_wrong"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_secret_is_401_and_starts_nothing(client, app, published, headers):
    _, path, _ = published()
    response = client.post(path, json={"user_message": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert _run_count(app) == 0


def test_trigger_without_authentication_needs_no_secret(client, published):
    _, path, _ = published(greeting_flow(authenticate=False))
    assert client.post(path, json={"user_message": "x"}).status_code == 200


def test_async_trigger_answers_202_and_the_run_completes(client, published, api_key):
    _, path, secret = published(greeting_flow(wait_for_response=False))
    response = client.post(path, json={"user_message": "later"}, headers=bearer(secret))
    assert response.status_code == 202
    assert response.json["status"] == "queued"
    status_url = response.json["status_url"]
    assert response.headers["Location"] == status_url
    status_path = "/" + status_url.split("://", 1)[1].split("/", 1)[1]
    run = wait_for(lambda: (r := client.get(status_path, headers=bearer(api_key)).json)["status"] == "succeeded" and r)
    assert run["output"]["text"].endswith(": later")


def test_slow_answer_is_408_with_a_status_url_and_the_run_still_finishes(client, published, stack, api_key):
    _, path, secret = published(greeting_flow(timeout_seconds=1))
    os.kill(stack.worker.pid, signal.SIGSTOP)  # every worker busy: the run cannot start in time
    try:
        response = client.post(path, json={"user_message": "busy"}, headers=bearer(secret))
    finally:
        os.kill(stack.worker.pid, signal.SIGCONT)
    assert response.status_code == 408
    assert response.json["status"] in ("queued", "running")
    status_path = "/" + response.json["status_url"].split("://", 1)[1].split("/", 1)[1]
    wait_for(lambda: client.get(status_path, headers=bearer(api_key)).json["status"] == "succeeded")


@pytest.mark.parametrize("body, field", [
    ({"person": "Ada"}, "message"),
    ({"user_message": "x", "count": "three"}, "count"),
    ({"user_message": "x", "colour": "red"}, "colour"),
    ({"user_message": 5}, "message"),
])
def test_inputs_that_do_not_match_the_start_node_are_400_with_the_field(client, app, published, body, field):
    _, path, secret = published()
    response = client.post(path, json=body, headers=bearer(secret))
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_inputs"
    assert field in {d.get("field") for d in error["details"]}
    assert _run_count(app) == 0


@pytest.mark.parametrize("data", ["{broken", "[1, 2]", "\"text\"", "\xff\xfe"])
def test_malformed_bodies_are_400_json(client, published, data):
    _, path, secret = published()
    response = client.post(path, data=data.encode("latin-1"), headers={**bearer(secret), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.is_json and response.json["error"]["code"] in ("invalid_json", "invalid_body")


def test_body_over_the_limit_is_413_json(client, app, published):
    _, path, secret = published()
    huge = b'{"user_message": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post(path, data=huge, headers={**bearer(secret), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"


def test_unknown_paused_and_deleted_triggers_are_404(client, api_key, published):
    flow, path, secret = published()
    assert client.post(path.replace("/hello", "/nope"), json={}, headers=bearer(secret)).status_code == 404

    url = f"/api/v1/flows/{flow['id']}"
    client.put(url, json={"document": with_trigger_config(greeting_flow(), enabled=False)}, headers=bearer(api_key))
    paused = client.post(path, json={"user_message": "x"}, headers=bearer(secret))
    assert paused.status_code == 404 and paused.json["error"]["code"] == "trigger_paused"

    client.put(url, json={"document": without_node(greeting_flow(), "api")}, headers=bearer(api_key))
    assert client.post(path, json={"user_message": "x"}, headers=bearer(secret)).status_code == 404


def test_url_and_secret_survive_a_new_version_which_takes_effect_at_once(client, api_key, published):
    flow, path, secret = published()
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": with_reply_text(greeting_flow(), "v2 says hi")},
               headers=bearer(api_key))
    response = client.post(path, json={"user_message": "x"}, headers=bearer(secret))
    assert response.status_code == 200
    assert response.json["output"]["text"] == "v2 says hi"
    run = client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json
    assert run["version"] == 2


def test_a_failing_node_ends_the_run_failed_with_the_node_and_reason(client, published, api_key):
    _, path, secret = published(with_reply_text(greeting_flow(), "{{ inputs.message.nope }}"))
    response = client.post(path, json={"user_message": "x"}, headers=bearer(secret))
    assert response.status_code == 200
    assert response.json["status"] == "failed"
    assert response.json["error"]["node_id"] == "reply"
    assert "nope" in response.json["error"]["message"]
    run = client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json
    assert run["steps"][-1]["status"] == "failed" and run["error_node_id"] == "reply"


def test_queue_down_is_503_with_retry_after_and_the_run_is_not_left_queued(stack, monkeypatch):
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    from app import create_app
    from app.extensions import db
    from app.models import Run
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace

    app = create_app({"TESTING": True}, instance_path=str(stack.instance_path))
    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        workspace = get_or_create_workspace("Ops")
        publishing.create_flow(workspace, greeting_flow(authenticate=False), None)
        db.session.commit()
        path = f"/hooks/{workspace.id}/hello"

    response = app.test_client().post(path, json={"user_message": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json["error"]["code"] == "queue_unavailable"
    with app.app_context():
        statuses = [r.status.value for r in db.session.execute(db.select(Run)).scalars()]
        db.session.remove()
        db.engine.dispose()
    assert statuses == ["canceled"]


def _run_count(app) -> int:
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Run)).scalar_one()


def test_run_now_through_the_api_validates_inputs_and_runs(client, published, api_key):
    flow, _, _ = published()
    url = f"/api/v1/flows/{flow['id']}/triggers/manual/run"
    bad = client.post(url, json={"count": 2}, headers=bearer(api_key))
    assert bad.status_code == 400 and bad.json["error"]["details"][0]["field"] == "message"
    response = client.post(url, json={"message": "manual", "count": 3}, headers=bearer(api_key))
    assert response.status_code == 202
    run = wait_for(lambda: (r := client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json)
                   ["status"] == "succeeded" and r)
    assert run["trigger_type"] == "manual_trigger"
    assert run["output"]["text"] == "Hello friend x3: manual"
    not_manual = client.post(f"/api/v1/flows/{flow['id']}/triggers/api/run", json={}, headers=bearer(api_key))
    assert not_manual.status_code == 400
