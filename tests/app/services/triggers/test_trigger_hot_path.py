"""What the REST trigger's fast path must never change: the latest version runs, every run is kept.

The endpoint keeps each published version parsed in memory and writes a request's rows one
writer at a time; these tests show a caller can never notice either: a new version (or a
rollback) is what the very next request runs, even right after requests ran the old one, and
concurrent requests each get a committed run with a conversation of their own.
"""

from __future__ import annotations

import threading

from app.extensions import db
from app.models import ConversationSession, Run
from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, publish, run_rows


def _save(client, api_key: str, flow_id: str, document: dict) -> None:
    response = client.put(f"/api/v1/flows/{flow_id}", json={"document": document}, headers=bearer(api_key))
    assert response.status_code == 200, response.json


def test_the_next_request_runs_a_new_version_even_after_the_old_one_was_used(client, api_key):
    hook = publish(client, api_key, echo_flow(reply="v1: {{ inputs.message }}"))
    for _ in range(2):  # the old version is now the one kept in memory
        assert hook.call({"user_message": "a"}).json["output"]["text"] == "v1: a"
    _save(client, api_key, hook.flow["id"], echo_flow(reply="v2: {{ inputs.message }}"))
    answer = hook.call({"user_message": "b"}).json
    assert answer["output"]["text"] == "v2: b"
    assert client.get(f"/api/v1/runs/{answer['run_id']}", headers=bearer(api_key)).json["version"] == 2

    rolled = client.post(f"/api/v1/flows/{hook.flow['id']}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert rolled.status_code in (200, 201), rolled.json
    answer = hook.call({"user_message": "c"}).json
    assert answer["output"]["text"] == "v1: c"
    assert client.get(f"/api/v1/runs/{answer['run_id']}", headers=bearer(api_key)).json["version"] == 3


def test_a_new_versions_inputs_are_what_the_next_request_is_checked_against(client, api_key):
    hook = publish(client, api_key, echo_flow())
    refused = hook.call({"user_message": "x", "city": "Oslo"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_inputs"
    inputs = [{"name": "message", "type": "string", "default": ""}, {"name": "city", "type": "string"}]
    _save(client, api_key, hook.flow["id"], echo_flow(reply="{{ inputs.message }} in {{ inputs.city }}", inputs=inputs))
    answer = hook.call({"user_message": "x", "city": "Oslo"})
    assert answer.status_code == 200, answer.json
    assert answer.json["output"]["text"] == "x in Oslo"


def test_concurrent_requests_each_get_a_committed_run_and_their_own_conversation(app, client, api_key):
    hook = publish(client, api_key, echo_flow(wait_for_response=False))
    answers, errors = [], []

    def call() -> None:
        try:
            response = app.test_client().post(hook.path, json={"user_message": "hi"}, headers=bearer(hook.secret))
            answers.append((response.status_code, response.json))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(answers) == 12
    assert {status for status, _ in answers} == {202}
    run_ids = {body["run_id"] for _, body in answers}
    assert run_ids <= {run.id for run in run_rows(app)} and len(run_ids) == 12
    with app.app_context():
        sessions = {row.key: row for row in db.session.execute(db.select(ConversationSession)).scalars()}
        runs = {run.id: run for run in db.session.execute(db.select(Run).where(Run.id.in_(run_ids))).scalars()}
        assert {body["session_id"] for _, body in answers} == set(sessions)
        assert all(row.turns == 1 and row.generation == 1 for row in sessions.values())
        assert {sessions[body["session_id"]].id for _, body in answers} == {run.session_id for run in runs.values()}
