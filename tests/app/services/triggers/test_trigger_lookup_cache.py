"""The trigger endpoint's per-process lookup cache never answers with an old trigger, flow or key.

Two app instances on one database and Redis stand for two web processes: process A makes every
change an operator can make (through the API, as they would), and the very next request to
process B, which had the old rows cached from earlier requests, must see it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, publish

BODY = {"user_message": "hi"}


@pytest.fixture
def other(app, stack):
    """A second app on the same stack: another web process with its own cache."""
    from app import create_app

    second = create_app({"TESTING": True}, instance_path=str(stack.instance_path))
    yield second
    with second.app_context():
        db.session.remove()
        db.engine.dispose()
    connection = second.extensions.get("switchboard_redis")
    if connection is not None:
        connection.close()


def _warm(other, path: str, token: str) -> None:
    """Call twice through process B, so the rows are in its cache."""
    for _ in range(2):
        answer = other.test_client().post(path, json=BODY, headers=bearer(token))
        assert answer.status_code == 202, answer.json


def _call(other, path: str, token: str | None):
    return other.test_client().post(path, json=BODY, headers=bearer(token) if token else {})


def _new_key(client, api_key: str, **settings) -> tuple[str, str]:
    made = client.post("/api/v1/api-keys", json={"name": "caller", **settings}, headers=bearer(api_key))
    assert made.status_code == 201, made.json
    return made.json["api_key"]["id"], made.json["token"]


def test_a_revoked_key_is_refused_by_the_next_request_in_another_process(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    key_id, token = _new_key(client, api_key, scopes=["runs:trigger"])
    _warm(other, hook.path, token)
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=bearer(api_key)).status_code == 200
    refused = _call(other, hook.path, token)
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"


def test_a_paused_trigger_answers_404_at_once_and_works_again_when_resumed(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    _warm(other, hook.path, hook.secret)
    trigger_id = hook.trigger["id"]
    assert client.post(f"/api/v1/triggers/{trigger_id}/pause", headers=bearer(api_key)).status_code == 200
    paused = _call(other, hook.path, hook.secret)
    assert paused.status_code == 404 and paused.json["error"]["code"] == "trigger_paused"
    assert client.post(f"/api/v1/triggers/{trigger_id}/resume", headers=bearer(api_key)).status_code == 200
    assert _call(other, hook.path, hook.secret).status_code == 202


def test_an_archived_flow_is_refused_at_once_and_served_again_when_restored(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    _warm(other, hook.path, hook.secret)
    assert client.delete(f"/api/v1/flows/{hook.flow['id']}", headers=bearer(api_key)).status_code == 200
    archived = _call(other, hook.path, hook.secret)
    assert archived.status_code == 404 and archived.json["error"]["code"] == "flow_archived"
    assert client.post(f"/api/v1/flows/{hook.flow['id']}/restore", json={}, headers=bearer(api_key)).status_code == 200
    assert _call(other, hook.path, hook.secret).status_code == 202


def test_a_rotated_secret_replaces_the_old_one_at_once(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    _warm(other, hook.path, hook.secret)
    rotated = client.post(f"/api/v1/triggers/{hook.trigger['id']}/rotate-secret", json={}, headers=bearer(api_key))
    assert rotated.status_code == 200, rotated.json
    assert _call(other, hook.path, hook.secret).status_code == 401
    assert _call(other, hook.path, rotated.json["secret"]).status_code == 202


def test_a_published_setting_and_a_rollback_apply_to_the_next_request(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    _warm(other, hook.path, hook.secret)
    assert _call(other, hook.path, None).status_code == 401
    saved = client.put(f"/api/v1/flows/{hook.flow['id']}", headers=bearer(api_key),
                       json={"document": echo_flow(wait_for_response=False, authenticate=False)})
    assert saved.status_code == 200, saved.json
    assert _call(other, hook.path, None).status_code == 202  # the new version asks for no secret
    rolled = client.post(f"/api/v1/flows/{hook.flow['id']}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert rolled.status_code in (200, 201), rolled.json
    assert _call(other, hook.path, None).status_code == 401  # version 1 asked for one


def test_a_trigger_key_that_did_not_exist_is_found_once_it_is_published(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    new_path = hook.path.rsplit("/", 1)[0] + "/renamed"
    assert _call(other, new_path, hook.secret).status_code == 404  # remembered as missing
    saved = client.put(f"/api/v1/flows/{hook.flow['id']}", headers=bearer(api_key),
                       json={"document": echo_flow(key="renamed", wait_for_response=False)})
    assert saved.status_code == 200, saved.json
    assert _call(other, new_path, hook.secret).status_code == 202
    assert _call(other, hook.path, hook.secret).status_code == 404  # the old key is gone


def test_a_deleted_trigger_answers_404_at_once(client, api_key, other):
    hook = publish(client, api_key, wait_for_response=False)
    _warm(other, hook.path, hook.secret)
    assert client.delete(f"/api/v1/triggers/{hook.trigger['id']}", headers=bearer(api_key)).status_code in (200, 204)
    gone = _call(other, hook.path, hook.secret)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "trigger_not_found"


def test_a_redis_that_lost_its_stamp_still_serves_what_the_database_says(app, client, api_key, other):
    from app.queueing.connection import get_redis
    from app.services.triggers.lookup_cache import STAMP_KEY

    hook = publish(client, api_key, wait_for_response=False)
    key_id, token = _new_key(client, api_key, scopes=["runs:trigger"])
    _warm(other, hook.path, token)
    with app.app_context():
        get_redis().delete(STAMP_KEY)  # as after a Redis restart without persistence
    assert _call(other, hook.path, token).status_code == 202
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=bearer(api_key)).status_code == 200
    assert _call(other, hook.path, token).status_code == 401


def test_a_repeated_request_reads_no_trigger_flow_or_key_row(app, client, api_key):
    """The point of the cache: a warm trigger request writes its rows and reads nothing."""
    hook = publish(client, api_key, wait_for_response=False)
    _key_id, token = _new_key(client, api_key, scopes=["runs:trigger"])
    _warm(app, hook.path, token)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert _call(app, hook.path, token).status_code == 202
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "SELECT" not in statements, statements
    assert statements.count("INSERT") == 2  # the conversation and the run, in one transaction


def _stamp(app) -> str:
    from app.queueing.connection import get_redis
    from app.services.triggers.lookup_cache import STAMP_KEY

    with app.app_context():
        return get_redis().get(STAMP_KEY)


def test_a_write_that_rolled_back_empties_no_cache_at_the_next_commit(app, client, api_key):
    """Only committed changes move the stamp: a rolled-back rename of a flow, then an unrelated commit."""
    from app.models import Flow, Run

    hook = publish(client, api_key, wait_for_response=False)
    run_id = _call(app, hook.path, hook.secret).json["run_id"]
    before = _stamp(app)
    with app.app_context():
        db.session.get(Flow, hook.flow["id"]).name = "Renamed, then rolled back"
        db.session.flush()
        db.session.rollback()
        db.session.get(Run, run_id).request_id = "unrelated"  # runs are not a table the lookups read
        db.session.commit()
    assert _stamp(app) == before


def test_a_savepoint_rolled_back_inside_a_changing_transaction_still_moves_the_stamp(app, client, api_key):
    from app.models import Flow

    hook = publish(client, api_key, wait_for_response=False)
    before = _stamp(app)
    with app.app_context():
        db.session.get(Flow, hook.flow["id"]).name = "Renamed"
        db.session.flush()
        savepoint = db.session.begin_nested()
        db.session.get(Flow, hook.flow["id"]).description = "never kept"
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
    assert _stamp(app) != before
    assert client.get(f"/api/v1/flows/{hook.flow['id']}", headers=bearer(api_key)).json["name"] == "Renamed"
