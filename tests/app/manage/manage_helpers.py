"""Shared steps of the flow-management tests: publish (by API or as the pages do), archive (by API or
on the page), log in as a viewer, an API key of another workspace."""

from __future__ import annotations

from tests.app.trigger_helpers import bearer
from tests.conftest import csrf_from


def publish(client, token, document, **extra) -> dict:
    response = client.post("/api/v1/flows", json={"document": document, **extra}, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def publish_in_workspace(app, account, document) -> str:
    """Publish `document` in the account's workspace as its pages do (no API key); return the flow id."""
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        flow = publishing.create_flow(db.session.get(Workspace, account.workspace_id), document, None).flow
        db.session.commit()
        return flow.id


def archive(client, token, flow_id) -> dict:
    """Archive the flow by API (DELETE); return the answer."""
    answer = client.delete(f"/api/v1/flows/{flow_id}", headers=bearer(token))
    assert answer.status_code == 200, answer.json
    assert answer.json["archived_at"] is not None
    return answer.json


def archive_on_page(client, flow_id: str) -> dict:
    """Archive the flow with its page's button (a logged-in `client`); return the CSRF header for more writes."""
    csrf = {"X-CSRFToken": csrf_from(client.get(f"/flows/{flow_id}").get_data(as_text=True))}
    assert client.post(f"/flows/{flow_id}/archive", headers=csrf).status_code == 302
    return csrf


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
