"""A request that is refused leaves nothing behind, whichever door it came through, so its retry works.

Each refusal of the start path is produced on the real stack: the database failing mid-request
(as when it shuts down after a request's first write), the queue unreachable (an app whose Redis
URL points nowhere), a body or inputs that do not fit, a trigger's filter, its rate limit. After
each, no idempotency key, session or run is left to answer the retry with 409 or 422.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, publish, run_rows

MODEL = "echo-model"
DOORS = ["hook", "invoke", "openai"]


class Door:
    """One way to send a trigger request with an idempotency key: the REST hook, the invoke API, OpenAI."""

    def __init__(self, client, api_key: str, name: str, **config):
        self.name, self.client, self.api_key = name, client, api_key
        if name == "openai":
            document = echo_flow(key=MODEL)
            document["nodes"][0] = {"id": "api", "type": "openai_trigger", "config": {"key": MODEL, **config},
                                    "position": {"x": 0, "y": 0}}
            assert client.post("/api/v1/flows", json={"document": document},
                               headers=bearer(api_key)).status_code == 201
        else:
            self.published = publish(client, api_key, wait_for_response=False, **config)

    def send(self, text: str, key: str, client=None):
        client = client or self.client
        headers = {"Idempotency-Key": key}
        if self.name == "hook":
            return client.post(self.published.path, json={"text": text},
                               headers={**bearer(self.published.secret), **headers})
        if self.name == "invoke":
            return client.post(f"/api/v1/triggers/{self.published.trigger['id']}/invoke",
                               json={"body": {"text": text}}, headers={**bearer(self.api_key), **headers})
        return client.post("/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": text}]},
                           headers={**bearer(self.api_key), **headers})

    def run_id(self, response) -> str:
        return response.headers["X-Switchboard-Run-Id"] if self.name == "openai" else response.json["run_id"]


def leftovers(app) -> dict[str, int]:
    from app.extensions import db
    from app.models import BodyFingerprint, ConversationSession, IdempotencyKey, Run

    with app.app_context():
        return {model.__tablename__: db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()
                for model in (Run, IdempotencyKey, ConversationSession, BodyFingerprint)}


NOTHING = {"runs": 0, "idempotency_keys": 0, "conversation_sessions": 0, "body_fingerprints": 0}


@contextmanager
def database_fails_after_first_write(app):
    """Fail every insert of a run and every deletion of an idempotency key, as a database going away does.

    The first write of a request (anything before its run) still succeeds: what the request
    wrote before the failure, and whether it can clean up after it, is what is tested.
    """
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            drop = ["DROP TRIGGER IF EXISTS test_fault_runs ON runs",
                    "DROP TRIGGER IF EXISTS test_fault_keys ON idempotency_keys", "DROP FUNCTION IF EXISTS test_fault()"]
            create = [*drop, "CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
                      "EXCEPTION 'the database is shutting down' USING ERRCODE = 'admin_shutdown'; END $$",
                      "CREATE TRIGGER test_fault_runs BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION test_fault()",
                      "CREATE TRIGGER test_fault_keys BEFORE DELETE ON idempotency_keys FOR EACH ROW "
                      "EXECUTE FUNCTION test_fault()"]
        else:  # a trigger reading a table that does not exist fails with "no such table": an OperationalError
            drop = ["DROP TRIGGER IF EXISTS test_fault_runs", "DROP TRIGGER IF EXISTS test_fault_keys"]
            create = [*drop, "CREATE TRIGGER test_fault_runs BEFORE INSERT ON runs BEGIN SELECT 1 FROM database_gone; END",
                      "CREATE TRIGGER test_fault_keys BEFORE DELETE ON idempotency_keys "
                      "BEGIN SELECT 1 FROM database_gone; END"]
        with db.engine.begin() as conn:
            for statement in create:
                conn.execute(text(statement))
        try:
            yield
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for statement in drop:
                    conn.execute(text(statement))


@pytest.fixture
def queue_down(app, stack, monkeypatch):
    """A test client of a second app on the same database whose queue (Redis) cannot be reached."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    down = create_app({"TESTING": True}, instance_path=str(stack.instance_path))
    monkeypatch.setenv("REDIS_URL", stack.env["REDIS_URL"])
    yield down.test_client()
    with down.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("door", DOORS)
def test_a_request_the_database_fails_leaves_nothing_and_its_retry_is_accepted(app, client, api_key, door):
    sender = Door(client, api_key, door)
    with database_fails_after_first_write(app):
        refused = sender.send("hello", key="order-1")
    assert refused.status_code == 503, refused.json
    assert refused.json["error"]["code"] == "database_unavailable"
    assert leftovers(app) == NOTHING

    retry = sender.send("hello", key="order-1")
    assert retry.status_code in (200, 202), retry.json
    assert len(run_rows(app)) == 1


@pytest.mark.parametrize("door", DOORS)
def test_a_request_the_queue_refuses_frees_its_key_and_body_for_the_retry(app, client, api_key, queue_down, door):
    sender = Door(client, api_key, door, **({} if door == "openai" else {"ignore_duplicate_bodies": True}))
    refused = sender.send("deploy", key="order-2", client=queue_down)
    assert refused.status_code == 503, refused.json
    assert refused.json["error"]["code"] == "queue_unavailable"
    (canceled,) = run_rows(app)  # recorded, so the refusal is visible in Runs
    assert canceled.status.value == "canceled" and "queue was unavailable" in canceled.error
    left = leftovers(app)
    assert left["idempotency_keys"] == 0 and left["body_fingerprints"] == 0

    retry = sender.send("deploy", key="order-2")
    assert retry.status_code in (200, 202), retry.json
    again = sender.send("deploy", key="order-2")  # and the key now belongs to the accepted run
    assert again.status_code == retry.status_code and sender.run_id(again) == sender.run_id(retry)
    runs = run_rows(app)
    assert len(runs) == 2 and runs[1].status.value != "canceled"


def test_a_run_the_queue_and_then_the_database_refuse_is_kept_queued_and_answered_as_accepted(
        app, client, api_key, queue_down):
    """Redis refuses the job, then the database refuses to mark the run canceled: the run stays
    committed and queued, so the caller is told it was accepted (the sweeper queues it later),
    never "nothing was saved" about a run that will execute."""
    from sqlalchemy import text

    from app.extensions import db

    sender = Door(client, api_key, "hook")
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        statements = (["CREATE TRIGGER test_fault_cancel BEFORE UPDATE ON runs BEGIN SELECT 1 FROM database_gone; END"]
                      if sqlite else
                      ["CREATE FUNCTION test_fault_cancel() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
                       "EXCEPTION 'the database is shutting down' USING ERRCODE = 'admin_shutdown'; END $$",
                       "CREATE TRIGGER test_fault_cancel BEFORE UPDATE ON runs FOR EACH ROW "
                       "EXECUTE FUNCTION test_fault_cancel()"])
        drop = (["DROP TRIGGER IF EXISTS test_fault_cancel"] if sqlite else
                ["DROP TRIGGER IF EXISTS test_fault_cancel ON runs", "DROP FUNCTION IF EXISTS test_fault_cancel()"])
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    try:
        answer = sender.send("deploy", key="order-9", client=queue_down)
    finally:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for statement in drop:
                    conn.execute(text(statement))
    assert answer.status_code == 202, answer.json
    (kept,) = run_rows(app)
    assert kept.status.value == "queued" and kept.id == sender.run_id(answer)


REFUSALS = {
    # what is sent first, its status, and the corrected request sent again with the same key
    "invalid inputs": ({"text": "hi", "nope": 1}, {}, 400, {"text": "hi"}),
    "invalid contract field": ({"text": "hi", "contact": {"email": "not-an-email"}}, {}, 400, {"text": "hi"}),
    "filtered out": ({"text": "hi"}, {"filter": {"properties": {"text": {"pattern": "^order"}}}}, 400,
                     {"text": "order 7"}),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_body_leaves_nothing_and_does_not_use_up_its_key(app, client, api_key, case):
    body, config, status, corrected = REFUSALS[case]
    trigger = publish(client, api_key, wait_for_response=False, **config)
    refused = trigger.call(body, headers={"Idempotency-Key": "order-3"})
    assert refused.status_code == status, refused.json
    assert leftovers(app) == NOTHING
    accepted = trigger.call(corrected, headers={"Idempotency-Key": "order-3"})
    assert accepted.status_code == 202, accepted.json  # not 422: the refused body never claimed the key


def test_a_rate_limited_request_leaves_nothing(app, client, api_key):
    trigger = publish(client, api_key, wait_for_response=False, rate_limit_per_minute=1)
    assert trigger.call({"text": "a"}, headers={"Idempotency-Key": "first"}).status_code == 202
    limited = trigger.call({"text": "b"}, headers={"Idempotency-Key": "second"})
    assert limited.status_code == 429
    assert leftovers(app) == {"runs": 1, "idempotency_keys": 1, "conversation_sessions": 1, "body_fingerprints": 0}
