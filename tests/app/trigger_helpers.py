"""Publish flows through the API and call their REST triggers, as an external system would."""

from __future__ import annotations

from tests.app.flowdocs import echo_flow


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


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
