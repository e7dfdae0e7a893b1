"""Idempotency keys, duplicate bodies, rate limits and request signing on a REST trigger.

Concurrency is tested with real threads against a real gunicorn server (`live_server`), so the
database's unique constraints, not the test client's serialisation, decide the winner.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, burst, post_json, publish, run_rows, signed_headers, signed_trigger


def _idempotency_rows(app):
    from app.extensions import db
    from app.models import IdempotencyKey

    with app.app_context():
        rows = db.session.execute(db.select(IdempotencyKey)).scalars().all()
        db.session.expunge_all()
        return rows


def test_same_key_same_body_returns_the_original_run_without_a_second(client, app, api_key):
    trigger = publish(client, api_key, reply="run for {{ inputs.message }}", timeout_seconds=20)
    first = trigger.call({"text": "a"}, headers={"Idempotency-Key": "order-1"})
    began = time.monotonic()
    again = trigger.call({"text": "a"}, headers={"Idempotency-Key": "order-1"})
    # The retry gets the finished run's answer at once: it used to block on the wake-up the first
    # request had consumed, until a Redis socket timeout (5 s here) or the trigger's wait time.
    assert time.monotonic() - began < 3
    assert first.status_code == again.status_code == 200
    assert again.json["run_id"] == first.json["run_id"]
    assert again.json["output"] == first.json["output"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(run_rows(app)) == 1


def test_uuid_field_is_an_idempotency_key_too_and_is_stored_on_the_run(client, app, api_key):
    trigger = publish(client, api_key, wait_for_response=False)
    first = trigger.call({"text": "a", "uuid": "c68622e6-5f0d"})
    again = trigger.call({"text": "a", "uuid": "c68622e6-5f0d"})
    assert first.status_code == again.status_code == 202
    assert first.json["run_id"] == again.json["run_id"]
    run = client.get(f"/api/v1/runs/{first.json['run_id']}", headers=bearer(api_key)).json
    assert run["idempotency_key"] == "c68622e6-5f0d"
    assert len(run_rows(app)) == 1


def test_same_key_with_a_different_body_is_422(client, app, api_key):
    trigger = publish(client, api_key)
    trigger.call({"text": "a"}, headers={"Idempotency-Key": "k1"})
    response = trigger.call({"text": "b"}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert len(run_rows(app)) == 1


def test_header_and_body_keys_that_differ_are_400(client, app, api_key):
    trigger = publish(client, api_key)
    response = trigger.call({"text": "a", "uuid": "one"}, headers={"Idempotency-Key": "two"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_idempotency_key"
    assert run_rows(app) == []


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_overlong_key_is_400_at_the_hook_and_the_invoke_api(client, app, api_key, key):
    """As at Run now and /v1/chat/completions: an empty header used to pass as "no key", a new run per retry."""
    trigger = publish(client, api_key)
    hook = trigger.call({"text": "a"}, headers={"Idempotency-Key": key})
    invoke = client.post(f"/api/v1/triggers/{trigger.trigger['id']}/invoke", json={"body": {"text": "a"}},
                         headers={**bearer(api_key), "Idempotency-Key": key})
    for refused in (hook, invoke):
        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_idempotency_key"
        assert "Idempotency-Key header must be 1 to 255 characters" in refused.json["error"]["message"]
    assert run_rows(app) == []


def test_keys_are_scoped_to_the_trigger(client, app, api_key):
    one = publish(client, api_key, echo_flow(key="one"))
    two = publish(client, api_key, echo_flow(key="two"))
    a = one.call({"text": "x"}, headers={"Idempotency-Key": "same"})
    b = two.call({"text": "x"}, headers={"Idempotency-Key": "same"})
    assert a.json["run_id"] != b.json["run_id"]
    assert len(run_rows(app)) == 2


def test_keys_are_kept_at_least_a_day_and_forgotten_after_they_expire(client, app, api_key):
    from app.extensions import db
    from app.models import IdempotencyKey

    trigger = publish(client, api_key)
    first = trigger.call({"text": "a"}, headers={"Idempotency-Key": "daily"})
    (row,) = _idempotency_rows(app)
    assert row.expires_at - row.created_at >= timedelta(hours=24)
    with app.app_context():  # a day later: the key has expired
        key = db.session.get(IdempotencyKey, row.id)
        key.created_at -= timedelta(hours=25)
        key.expires_at -= timedelta(hours=25)
        db.session.commit()
    later = trigger.call({"text": "a"}, headers={"Idempotency-Key": "daily"})
    assert later.status_code == 200 and later.json["run_id"] != first.json["run_id"]


def test_a_duplicate_while_the_first_request_is_being_accepted_is_409(client, app, api_key):
    """A key row not linked to a run yet (as a release that claimed keys before their run left it)."""
    from app.extensions import db
    from app.models import IdempotencyKey, Trigger
    from app.models.types import utcnow
    from app.services.triggers.trigger_accept import body_hash

    trigger = publish(client, api_key)
    with app.app_context():
        trigger_id = db.session.execute(db.select(Trigger.id)).scalar_one()
        db.session.add(IdempotencyKey(trigger_id=trigger_id, key="busy", body_hash=body_hash({"text": "a"}),
                                      created_at=utcnow(), expires_at=utcnow() + timedelta(hours=24)))
        db.session.commit()
    response = trigger.call({"text": "a"}, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_key_in_use"
    assert response.headers["Retry-After"] == "1"
    assert run_rows(app) == []


def test_a_claim_abandoned_by_a_crashed_request_is_taken_over(client, app, api_key):
    from app.extensions import db
    from app.models import IdempotencyKey, Trigger
    from app.models.types import utcnow
    from app.services.triggers.trigger_accept import body_hash

    trigger = publish(client, api_key)
    with app.app_context():
        trigger_id = db.session.execute(db.select(Trigger.id)).scalar_one()
        db.session.add(IdempotencyKey(trigger_id=trigger_id, key="orphan", body_hash=body_hash({"text": "a"}),
                                      created_at=utcnow() - timedelta(minutes=5),
                                      expires_at=utcnow() + timedelta(hours=24)))
        db.session.commit()
    response = trigger.call({"text": "a"}, headers={"Idempotency-Key": "orphan"})
    assert response.status_code == 200 and len(run_rows(app)) == 1


@pytest.mark.parametrize("wait", [True, False])
def test_concurrent_requests_with_one_key_start_exactly_one_run(client, app, api_key, live_server, wait):
    trigger = publish(client, api_key, wait_for_response=wait)
    results = burst(live_server + trigger.path, {"text": "once"},
                    {**bearer(trigger.secret), "Idempotency-Key": "burst"}, count=8)
    runs = run_rows(app)
    assert len(runs) == 1
    ok = 200 if wait else 202
    for status, body in results:
        assert status in (ok, 409), (status, body)
        if status == ok:
            assert body["run_id"] == runs[0].id
        else:
            assert body["error"]["code"] == "idempotency_key_in_use"
    assert any(status == ok for status, _ in results)


def test_ignore_duplicate_bodies_drops_a_repeat_and_names_the_earlier_run(client, app, api_key):
    trigger = publish(client, api_key, ignore_duplicate_bodies=True)
    first = trigger.call({"text": "deploy", "context": {"env": "prod"}})
    repeat = trigger.call({"context": {"env": "prod"}, "text": "deploy"})  # same body, other key order
    assert repeat.status_code == 409
    assert repeat.json["error"]["code"] == "duplicate_body"
    assert repeat.json["error"]["details"]["run_id"] == first.json["run_id"]
    assert first.json["run_id"] in repeat.json["error"]["message"]
    assert trigger.call({"text": "deploy", "context": {"env": "staging"}}).status_code == 200
    assert len(run_rows(app)) == 2


def test_empty_bodies_are_never_duplicates_and_the_setting_is_off_by_default(client, app, api_key):
    dedupe = publish(client, api_key, echo_flow(key="dedupe", ignore_duplicate_bodies=True))
    assert dedupe.call().status_code == 200 and dedupe.call().status_code == 200
    plain = publish(client, api_key, echo_flow(key="plain"))
    assert plain.call({"text": "x"}).status_code == 200 and plain.call({"text": "x"}).status_code == 200
    assert len(run_rows(app)) == 4


def test_concurrent_identical_bodies_start_one_run(client, app, api_key, live_server):
    trigger = publish(client, api_key, ignore_duplicate_bodies=True, wait_for_response=False)
    results = [status for status, _ in burst(live_server + trigger.path, {"text": "same"}, bearer(trigger.secret),
                                              count=6)]
    assert sorted(results) == [202] + [409] * 5
    assert len(run_rows(app)) == 1


def test_rate_limit_answers_429_with_retry_after_across_processes(client, app, api_key, live_server):
    trigger = publish(client, api_key, rate_limit_per_minute=3, wait_for_response=False)
    statuses = [trigger.call({"text": "x"}).status_code for _ in range(2)]
    # the gunicorn process shares the count through Redis
    statuses.append(post_json(live_server + trigger.path, {"text": "x"}, bearer(trigger.secret))[0])
    limited = trigger.call({"text": "x"})
    assert statuses == [202, 202, 202]
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 20
    assert len(run_rows(app)) == 3
    other = publish(client, api_key, echo_flow(key="unlimited"))
    assert all(other.call({"text": "x"}).status_code == 200 for _ in range(5))


# ---- Standard Webhooks signing ------------------------------------------------------------------

def test_a_correctly_signed_request_runs_without_a_bearer_secret(client, api_key):
    trigger, secret = signed_trigger(client, api_key)
    body = b'{"text": "signed"}'
    response = client.post(trigger.path, data=body, headers=signed_headers(secret, body))
    assert response.status_code == 200, response.json
    assert response.json["output"]["text"] == "signed"


def _signed_over_timestamp_text(secret: str, body: bytes, text: str) -> dict:
    """Headers signed correctly over a timestamp written some other way than ASCII digits."""
    from app.services.triggers.webhook_signing import sign

    return {"webhook-id": "msg_1", "webhook-timestamp": text, "webhook-signature": sign(secret, "msg_1", text, body),
            "Content-Type": "application/json"}


@pytest.mark.parametrize("case", ["wrong-secret", "tampered-body", "old-timestamp", "missing-headers",
                                  "plus-sign-timestamp", "underscored-timestamp", "superscript-timestamp"])
def test_bad_signatures_are_401_with_the_reason(client, app, api_key, case):
    trigger, secret = signed_trigger(client, api_key)
    body = b'{"text": "signed"}'
    headers = {
        "wrong-secret": signed_headers("whsec_" + "A" * 44, body),
        "tampered-body": signed_headers(secret, b'{"text": "other"}'),
        "old-timestamp": signed_headers(secret, body, timestamp=int(time.time()) - 600),
        "missing-headers": {"Content-Type": "application/json"},
        # UNIX seconds are ASCII digits; int() would also read "+1700000000" and "1_700_000_000".
        "plus-sign-timestamp": _signed_over_timestamp_text(secret, body, f"+{int(time.time())}"),
        "underscored-timestamp": _signed_over_timestamp_text(secret, body, f"{int(time.time())}"[:-1] + "_0"),
        "superscript-timestamp": _signed_over_timestamp_text(secret, body, f"{int(time.time())}²"),
    }[case]
    response = client.post(trigger.path, data=body, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    assert run_rows(app) == []


def test_several_signatures_and_rotation_keep_senders_working(client, api_key):
    trigger, old = signed_trigger(client, api_key)
    body = b'{"text": "x"}'
    rotated = client.post(f"/api/v1/triggers/{trigger.trigger['id']}/signing-secret", json={},
                          headers=bearer(api_key)).json["signing_secret"]
    assert rotated != old
    # during the grace period the old secret still verifies, and a header may carry both signatures
    assert client.post(trigger.path, data=body, headers=signed_headers(old, body, "m1")).status_code == 200
    both = signed_headers(rotated, body, "m2", extra_signatures="v1,bm90LWEtc2lnbmF0dXJl")
    assert client.post(trigger.path, data=body, headers=both).status_code == 200


def test_a_resent_webhook_id_returns_the_original_run(client, app, api_key):
    trigger, secret = signed_trigger(client, api_key)
    body = b'{"text": "once"}'
    first = client.post(trigger.path, data=body, headers=signed_headers(secret, body, "msg_same"))
    again = client.post(trigger.path, data=body, headers=signed_headers(secret, body, "msg_same"))
    assert again.json["run_id"] == first.json["run_id"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(run_rows(app)) == 1


def test_signature_and_bearer_can_both_be_required(client, api_key):
    trigger, secret = signed_trigger(client, api_key)
    client.patch(f"/api/v1/triggers/{trigger.trigger['id']}", json={"config": {"authenticate": True}},
                 headers=bearer(api_key))
    body = b'{"text": "x"}'
    signed_only = client.post(trigger.path, data=body, headers=signed_headers(secret, body, "a"))
    assert signed_only.status_code == 401 and signed_only.json["error"]["code"] == "unauthorized"
    both = client.post(trigger.path, data=body, headers={**signed_headers(secret, body, "b"), **bearer(trigger.secret)})
    assert both.status_code == 200
