"""Shared steps of the audit tests: read the log's rows, sign in as an owner, a CSRF header for JSON writes."""

from __future__ import annotations

from tests.conftest import csrf_from


def audit_rows(app, action: str | None = None) -> list[dict]:
    """Every audit row (newest first) as plain dicts, optionally of one action."""
    from app.extensions import db
    from app.models import AuditEvent

    with app.app_context():
        query = db.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        if action:
            query = query.where(AuditEvent.action == action)
        return [{"action": e.action, "actor": e.actor_label, "actor_user_id": e.actor_user_id,
                 "actor_api_key_id": e.actor_api_key_id, "target_type": e.target_type, "target_id": e.target_id,
                 "target": e.target_label, "details": e.details, "workspace_id": e.workspace_id}
                for e in db.session.execute(query).scalars()]


def only_row(app, action: str) -> dict:
    rows = audit_rows(app, action)
    assert len(rows) == 1, rows
    return rows[0]


def csrf_header(client) -> dict:
    """The CSRF header a signed-in browser sends on JSON API writes (taken from a page)."""
    return {"X-CSRFToken": csrf_from(client.get("/flows").get_data(as_text=True))}


def form_token(client, path: str = "/flows") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def sign_in(client, account) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": account.email, "password": account.password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
