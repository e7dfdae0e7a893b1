"""Set up runs and conversations for the run-page, filter and retention tests.

Runs are made the real way (HTTP to the REST trigger with `sessionId`, `contact`, `outId`,
`Idempotency-Key`; a real worker runs them). Only time travel goes through the models: backdating
`created_at` or a session's expiry stands in for waiting hours or days.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.app.flowdocs import greeting_flow
from tests.app.trigger_helpers import bearer, local_path


class Flows:
    """Publish a flow and call its REST trigger."""

    def __init__(self, client, api_key):
        self.client, self.api_key = client, api_key

    def publish(self, document=None) -> dict:
        body = self.client.post("/api/v1/flows", json={"document": document or greeting_flow()},
                                headers=bearer(self.api_key)).json
        trigger = next(t for t in body["triggers"] if t["type"] == "api_trigger")
        body["hook_path"] = local_path(trigger["url"])
        body["secret"] = body["secrets"][trigger["node_id"]]
        return body

    def call(self, flow: dict, message: str, headers: dict | None = None, **inputs) -> dict:
        response = self.client.post(flow["hook_path"], json={"user_message": message, **inputs},
                                    headers={**bearer(flow["secret"]), **(headers or {})})
        assert response.status_code in (200, 202), response.json
        return response.json


def stranger_flows(app, client, make_account) -> Flows:
    """A second workspace (Eve's, with an API key) whose runs nobody in the first may see."""
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    stranger = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, key = create_api_key(db.session.get(Workspace, stranger.workspace_id), "eve")
        db.session.commit()
    return Flows(client, key)


def attach(app, run_id: str, **fields) -> None:
    """Set trigger-contract fields (out_id, idempotency_key, session_id, created_at...) on a run."""
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        run = db.session.get(Run, run_id)
        for name, value in fields.items():
            setattr(run, name, value)
        db.session.commit()


def conversation_of(app, run_id: str) -> str:
    """The conversation (session row id) the trigger put a run in."""
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        return db.session.get(Run, run_id).session_id


def expire_session(app, session_id: str) -> None:
    """Time travel: the session's duration has run out."""
    from app.extensions import db
    from app.models import ConversationSession

    with app.app_context():
        db.session.get(ConversationSession, session_id).expires_at = ago(minutes=1)
        db.session.commit()


def make_session(app, flow_id: str, key: str, node_id: str = "api", contact: dict | None = None,
                 expires_in: timedelta = timedelta(minutes=30), runs: list[str] = ()) -> str:
    """A conversation session of the flow's trigger `node_id`, holding `runs` as its turns."""
    from app.extensions import db
    from app.models import ConversationSession, Run, Trigger

    contact = contact or {}
    with app.app_context():
        trigger = db.session.execute(
            db.select(Trigger).where(Trigger.flow_id == flow_id, Trigger.node_id == node_id)).scalar_one()
        now = datetime.now(timezone.utc)
        row = ConversationSession(workspace_id=trigger.workspace_id, flow_id=flow_id, trigger_id=trigger.id, key=key,
                                  contact_name=contact.get("name"), contact_email=contact.get("email"),
                                  contact_phone=contact.get("phone"), turns=len(runs), created_at=now - timedelta(minutes=5),
                                  last_active_at=now, expires_at=now + expires_in)
        db.session.add(row)
        db.session.flush()
        for run_id in runs:
            db.session.get(Run, run_id).session_id = row.id
        db.session.commit()
        return row.id


def ago(**delta) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)
