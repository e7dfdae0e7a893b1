"""Run now by API honours Idempotency-Key: a script's retry gets the first run back, never a second run.

Both doors: a manual trigger node (keys are that trigger's) and the flow's start node, which has
no trigger (keys are the flow's). Concurrency runs real threads against a real server
(`live_server`), so the database's unique constraint decides the winner.
"""

from __future__ import annotations

import pytest

from tests.app.body_endpoints import run_now_document
from tests.app.trigger_helpers import bearer, burst, run_rows

DOORS = {"start node": "/run", "manual trigger": "/triggers/manual/run"}


@pytest.fixture
def flow(client, api_key) -> dict:
    created = client.post("/api/v1/flows", json={"document": run_now_document("run-now-keys")}, headers=bearer(api_key))
    assert created.status_code == 201, created.json
    return created.json


def _run_now(client, api_key, flow: dict, door: str, inputs: dict, key: str | None = None):
    headers = {**bearer(api_key), **({"Idempotency-Key": key} if key is not None else {})}
    return client.post(f"/api/v1/flows/{flow['id']}{DOORS[door]}", json=inputs, headers=headers)


@pytest.mark.parametrize("door", DOORS)
def test_a_retry_with_the_same_key_gets_the_first_run_and_starts_no_second(client, app, api_key, flow, door):
    first = _run_now(client, api_key, flow, door, {"message": "hello"}, key="nightly-2026-12-01")
    again = _run_now(client, api_key, flow, door, {"message": "hello"}, key="nightly-2026-12-01")

    assert first.status_code == again.status_code == 202, (first.json, again.json)
    assert again.json["run_id"] == first.json["run_id"]
    assert again.json["replayed"] is True and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["original_request_id"] == first.json["request_id"]
    assert "replayed" not in first.json and "Idempotent-Replayed" not in first.headers
    assert [run.id for run in run_rows(app)] == [first.json["run_id"]]
    run = client.get(f"/api/v1/runs/{first.json['run_id']}", headers=bearer(api_key)).json
    assert run["idempotency_key"] == "nightly-2026-12-01"


@pytest.mark.parametrize("door", DOORS)
def test_the_same_key_with_other_inputs_is_422_and_starts_nothing(client, app, api_key, flow, door):
    _run_now(client, api_key, flow, door, {"message": "hello"}, key="k-1")

    other = _run_now(client, api_key, flow, door, {"message": "something else"}, key="k-1")

    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert "different body" in other.json["error"]["message"]
    assert len(run_rows(app)) == 1


def test_without_a_key_every_call_is_a_new_run(client, app, api_key, flow):
    runs = {_run_now(client, api_key, flow, door, {"message": "hi"}).json["run_id"] for door in DOORS for _ in "ab"}

    assert len(runs) == len(run_rows(app)) == 4


def test_keys_belong_to_their_door_and_flow(client, app, api_key, flow):
    """One key on the start node, on the manual trigger and on another flow: three different runs."""
    other = client.post("/api/v1/flows", json={"document": run_now_document("other-keys")}, headers=bearer(api_key)).json

    runs = {_run_now(client, api_key, flow, "start node", {"message": "hi"}, key="same").json["run_id"],
            _run_now(client, api_key, flow, "manual trigger", {"message": "hi"}, key="same").json["run_id"],
            _run_now(client, api_key, other, "start node", {"message": "hi"}, key="same").json["run_id"]}

    assert len(runs) == len(run_rows(app)) == 3


@pytest.mark.parametrize("door", DOORS)
def test_an_empty_or_overlong_key_is_400_naming_the_header(client, app, api_key, flow, door):
    for key in ("", "   ", "k" * 256):
        refused = _run_now(client, api_key, flow, door, {"message": "hi"}, key=key)

        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_idempotency_key", key
        assert "Idempotency-Key header must be 1 to 255 characters" in refused.json["error"]["message"]
    assert run_rows(app) == []


def test_any_key_up_to_255_characters_works(client, app, api_key, flow):
    for key in ("k" * 255, "ünïcødé-ключ", "spaces inside are kept"):
        first = _run_now(client, api_key, flow, "start node", {"message": "hi"}, key=key)
        again = _run_now(client, api_key, flow, "start node", {"message": "hi"}, key=key)

        assert first.status_code == again.status_code == 202 and again.json["run_id"] == first.json["run_id"], key
    assert len(run_rows(app)) == 3


def test_inputs_the_flow_refuses_leave_no_key_behind(client, app, api_key, flow):
    refused = _run_now(client, api_key, flow, "start node", {"message": 12}, key="typo")
    fixed = _run_now(client, api_key, flow, "start node", {"message": "twelve"}, key="typo")

    assert refused.status_code == 400
    assert fixed.status_code == 202 and "replayed" not in fixed.json


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_calls_with_one_key_start_exactly_one_run(client, app, api_key, flow, live_server, door):
    results = burst(f"{live_server}/api/v1/flows/{flow['id']}{DOORS[door]}", {"message": "once"},
                    {**bearer(api_key), "Idempotency-Key": "burst"}, count=8)
    (run,) = run_rows(app)
    for status, body in results:
        assert status in (202, 409), (status, body)
        if status == 202:
            assert body["run_id"] == run.id
        else:
            assert body["error"]["code"] == "idempotency_key_in_use"
    assert any(status == 202 for status, _ in results)


HOSTILE_BODIES = [
    b'{"message": "hi", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"message": ' + b"9" * 100000 + b"}",
    b'{"message": "\\ud800 lone"}',
    b'{"message": "hi", ' + b", ".join(b'"f%d": 1' % i for i in range(20000)) + b"}",
    b"message=hi",
]


def test_a_hostile_body_with_a_key_is_refused_in_words_and_leaves_no_key(client, app, api_key, flow):
    headers = {**bearer(api_key), "Content-Type": "application/json"}
    for number, body in enumerate(HOSTILE_BODIES):
        key = f"hostile-{number}"
        refused = client.post(f"/api/v1/flows/{flow['id']}/run", data=body, headers={**headers, "Idempotency-Key": key})
        fixed = _run_now(client, api_key, flow, "start node", {"message": "hi"}, key=key)

        assert 400 <= refused.status_code < 500 and refused.json["error"]["message"], body[:40]
        assert fixed.status_code == 202 and "replayed" not in fixed.json, body[:40]
