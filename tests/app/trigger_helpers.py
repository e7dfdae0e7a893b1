"""Publish flows through the API and call their REST triggers, as an external system would."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from tests.app.flowdocs import echo_flow


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post_json(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    """POST `body` to a real server (`live_server`) and return the status and the JSON answer, errors too."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def burst(url: str, body: dict, headers: dict, count: int) -> list[tuple[int, dict]]:
    """Send `count` identical POSTs at once from as many threads; return each (status, answer)."""
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(count)

    def send():
        barrier.wait()
        results.append(post_json(url, body, headers))

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == count, "a request did not come back within 60 s"
    return results


def local_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


class Published:
    """A published flow with one REST trigger: its ids, path and secret."""

    def __init__(self, client, api_key: str, document: dict):
        body = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key)).json
        assert "id" in body, body
        self.flow = body
        self.trigger = next(t for t in body["triggers"] if t["type"] == "api_trigger")
        self.path = local_path(self.trigger["url"])
        self.secret = body["secrets"][self.trigger["node_id"]]
        self.client = client

    def call(self, json=None, headers=None, **kwargs):
        return self.client.post(self.path, json=json, headers={**bearer(self.secret), **(headers or {})}, **kwargs)


def publish(client, api_key: str, document: dict | None = None, **trigger_config) -> Published:
    return Published(client, api_key, document or echo_flow(**trigger_config))


def run_rows(app) -> list:
    """Every run in the database, oldest first (to count runs a request must not have started)."""
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        rows = db.session.execute(db.select(Run).order_by(Run.created_at)).scalars().all()
        db.session.expunge_all()
        return rows


def signed_trigger(client, api_key: str, **config) -> tuple[Published, str]:
    """Publish a trigger that accepts only Standard Webhooks signed requests; return it and its signing secret."""
    trigger = publish(client, api_key, verify_signature=True, authenticate=False, **config)
    response = client.post(f"/api/v1/triggers/{trigger.trigger['id']}/signing-secret", json={},
                           headers=bearer(api_key))
    assert response.status_code == 200, response.json
    assert response.json["signing_secret"].startswith("whsec_")
    return trigger, response.json["signing_secret"]


def signed_headers(secret: str, body: bytes, message_id: str = "msg_1", timestamp: int | None = None,
                   extra_signatures: str = "") -> dict:
    """The webhook-id, webhook-timestamp and webhook-signature headers a Standard Webhooks sender sends."""
    from app.services.triggers.webhook_signing import sign

    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = sign(secret, message_id, timestamp, body)
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": f"{extra_signatures} {signature}".strip(), "Content-Type": "application/json"}
