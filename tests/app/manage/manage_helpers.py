"""Shared steps of the flow-management tests: publish, log in as a viewer, an API key of another workspace."""

from __future__ import annotations

from tests.app.trigger_helpers import bearer
from tests.conftest import csrf_from


def publish(client, token, document, **extra) -> dict:
    response = client.post("/api/v1/flows", json={"document": document, **extra}, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def viewer_session(client, make_account, flow_id: str) -> dict:
    """Log `client` in as a viewer of the first workspace; return the CSRF header for its writes."""
    viewer = make_account(email="viewer@example.com", role="viewer")
    page = client.get("/login")
    client.post("/login", data={"email": viewer.email, "password": viewer.password,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    return {"X-CSRFToken": csrf_from(client.get(f"/flows/{flow_id}").get_data(as_text=True))}


def other_workspace_key(app, make_account) -> str:
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    other = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, token = create_api_key(db.session.get(Workspace, other.workspace_id), "eve")
        db.session.commit()
    return token
