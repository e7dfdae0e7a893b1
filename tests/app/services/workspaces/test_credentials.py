"""Workspace credentials: stored encrypted, chosen by name, and never shown back by the API or the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import csrf_from
from tests.app.trigger_helpers import bearer

SECRET = "sk-do-not-show-9931"



def test_create_list_update_delete_never_return_the_secret(app, client, api_key):
    created = client.post("/api/v1/credentials", json={"name": "openai", "kind": "api_key", "value": SECRET},
                          headers=bearer(api_key))
    assert created.status_code == 201, created.json
    credential = created.json
    assert (credential["name"], credential["kind"], credential["header"]) == ("openai", "api_key", None)

    listed = client.get("/api/v1/credentials", headers=bearer(api_key))
    renamed = client.patch(f"/api/v1/credentials/{credential['id']}", json={"name": "openai-prod", "value": "sk-new-1234"},
                           headers=bearer(api_key))
    one = client.get(f"/api/v1/credentials/{credential['id']}", headers=bearer(api_key))
    for response in (created, listed, renamed, one):
        assert SECRET not in response.get_data(as_text=True) and "sk-new-1234" not in response.get_data(as_text=True)
    assert [c["name"] for c in listed.json["credentials"]] == ["openai"]
    assert renamed.json["name"] == "openai-prod"

    from app.extensions import db
    from app.services.workspaces.credentials import resolver
    with app.app_context():
        raw = db.session.execute(text("SELECT secret FROM credentials")).scalar_one()
        assert b"sk-new-1234" not in bytes(raw)  # encrypted at rest
        workspace_id = db.session.execute(text("SELECT workspace_id FROM credentials")).scalar_one()
        assert resolver(workspace_id)("openai-prod")["value"] == "sk-new-1234"  # what a node would get
        assert resolver(workspace_id)("openai") is None

    assert client.delete(f"/api/v1/credentials/{credential['id']}", headers=bearer(api_key)).status_code == 204
    assert client.get("/api/v1/credentials", headers=bearer(api_key)).json == {"credentials": []}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "kind": "password", "value": "v"}, "kind"),
    ({"name": "", "kind": "bearer", "value": "v"}, "name"),
    ({"name": "ok", "kind": "bearer"}, "value"),
    ({"name": "ok", "kind": "basic", "username": "u"}, "password"),
    ({"name": "ok", "kind": "header", "value": "v"}, "header"),
    ({"name": "ok", "kind": "header", "value": "v", "header": "bad header"}, "header"),
    ({"name": "ok", "kind": "bearer", "value": 5}, "value"),
    ({"name": "ok", "kind": "bearer", "value": "v", "colour": "red"}, "colour"),
    ({"name": "ok", "kind": "bearer", "value": "v", "password": "p"}, "password"),
    ({"name": "ok", "kind": "bearer", "value": "v", "header": "X-Key"}, "header"),
    ({"name": "ok", "kind": "basic", "username": "u", "password": "p", "value": "v"}, "value"),
    ({"name": "ok", "kind": "api_key", "value": "v", "username": {}}, "username"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(app, client, api_key, body, field):
    response = client.post("/api/v1/credentials", json=body, headers=bearer(api_key))

    assert response.status_code == 400, response.json
    assert field in [d["field"] for d in response.json["error"]["details"]]
    from app.extensions import db
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM credentials")).scalar_one() == 0


@pytest.mark.parametrize("change", [{"header": [1]}, {"username": {}, "password": 5}, {"header": "X-Key"},
                                    {"username": "robot", "password": "hunter2hunter2"}])
def test_a_change_a_kind_does_not_take_is_refused_not_dropped(app, client, api_key, change):
    created = client.post("/api/v1/credentials", json={"name": "tok", "kind": "bearer", "value": SECRET},
                          headers=bearer(api_key)).json

    refused = client.patch(f"/api/v1/credentials/{created['id']}", json=change, headers=bearer(api_key))

    assert refused.status_code == 400
    assert sorted(d["field"] for d in refused.json["error"]["details"]) == sorted(change)
    assert "not apply to a credential of kind 'bearer' (it takes: value)" in refused.json["error"]["message"]
    again = client.get(f"/api/v1/credentials/{created['id']}", headers=bearer(api_key)).json
    assert again["updated_at"] == created["updated_at"]


def test_names_are_unique_per_workspace_and_other_workspaces_see_nothing(app, client, api_key, make_account):
    body = {"name": "ops", "kind": "basic", "username": "robot", "password": "hunter2hunter2"}
    first = client.post("/api/v1/credentials", json=body, headers=bearer(api_key))
    again = client.post("/api/v1/credentials", json=body, headers=bearer(api_key))
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json["error"]["code"] == "duplicate_name"

    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key
    other = make_account(email="other@example.com", workspace="Other")
    with app.app_context():
        _, other_key = create_api_key(db.session.get(Workspace, other.workspace_id), "other")
        db.session.commit()
    assert client.get("/api/v1/credentials", headers=bearer(other_key)).json == {"credentials": []}
    assert client.delete(f"/api/v1/credentials/{first.json['id']}", headers=bearer(other_key)).status_code == 404


def test_the_credentials_page_adds_and_lists_without_showing_secrets(client, auth):
    page = client.get("/credentials")
    assert page.status_code == 200
    response = client.post("/credentials", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "action": "create", "name": "status-api",
        "kind": "header", "header": "X-Token", "value": SECRET}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "status-api" in html and "X-Token" in html
    assert SECRET not in html


def test_the_page_saves_only_the_chosen_kinds_boxes(client, auth):
    """The form keeps every kind's boxes; what was typed in another kind's (hidden) boxes is not an error."""
    page = client.get("/credentials")
    response = client.post("/credentials", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "action": "create", "name": "github",
        "kind": "bearer", "value": SECRET, "username": "typed before switching", "header": "X-Old"},
        follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Saved the credential &#39;github&#39;" in html or "Saved the credential 'github'" in html
    assert "X-Old" not in html


def test_a_refused_form_says_what_to_type_and_keeps_what_was_typed_but_never_a_secret(client, auth):
    token = csrf_from(client.get("/credentials").get_data(as_text=True))
    cases = [
        ({"name": "crm", "kind": "basic", "username": "robot", "password": ""}, "Type the password (at most 10,000"),
        ({"name": "hooks", "kind": "header", "header": "", "value": SECRET}, "Type the name of the header"),
        ({"name": "-bad", "kind": "bearer", "value": SECRET}, "Give the credential a name of 1 to 100 characters"),
    ]
    for typed, words in cases:
        response = client.post("/credentials", data={"csrf_token": token, "action": "create", **typed})

        html = response.get_data(as_text=True)
        assert response.status_code == 400 and words in html, typed
        assert "non-empty string" not in html and "for kind" not in html
        form = html.split('aria-label="New credential"')[1].split("</form>")[0]
        assert f'value="{typed["name"]}"' in form and f'<option value="{typed["kind"]}" selected>' in form
        assert SECRET not in html
    assert 'value="robot"' in client.post("/credentials", data={"csrf_token": token, "action": "create",
                                                                 **cases[0][0]}).get_data(as_text=True)


def test_replacing_with_an_empty_box_says_nothing_changed(client, auth):
    page = client.get("/credentials")
    client.post("/credentials", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "action": "create",
                                      "name": "shipping", "kind": "bearer", "value": SECRET})
    listing = client.get("/credentials").get_data(as_text=True)
    credential_id = listing.split('name="action" value="update">')[1].split('name="id" value="')[1].split('"')[0]

    response = client.post("/credentials", data={"csrf_token": csrf_from(listing), "action": "update",
                                                  "id": credential_id, "value": ""}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Nothing changed: type the new secret for &#39;shipping&#39; first" in html
    assert "Updated the credential" not in html


def _flow_calling_with(name: str, flow_name: str, key: str) -> dict:
    from tests.app.flowdocs import echo_flow

    document = echo_flow(key=key)
    document["name"] = flow_name
    document["nodes"].insert(2, {"id": "call", "type": "http_request", "position": {"x": 300, "y": 0},
                                 "config": {"url": "https://status.example/api", "credential": name}})
    document["edges"] = [
        {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
        {"id": "e2", "source": "start", "source_port": "out", "target": "call", "target_port": "in"},
        {"id": "e3", "source": "call", "source_port": "out", "target": "reply", "target_port": "in"},
    ]
    return document


def test_the_page_names_the_flows_that_use_each_credential_before_it_is_deleted(client, auth, api_key):
    for name in ("status-api", "spare"):
        assert client.post("/api/v1/credentials", json={"name": name, "kind": "bearer", "value": SECRET},
                           headers=bearer(api_key)).status_code == 201
    for flow_name, key in (("Service check", "check"), ("Orders", "orders"), ("Old one", "old")):
        made = client.post("/api/v1/flows", json={"document": _flow_calling_with("status-api", flow_name, key)},
                           headers=bearer(api_key))
        assert made.status_code == 201, made.json
    old = client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"]
    archived_id = next(flow["id"] for flow in old if flow["name"] == "Old one")
    assert client.delete(f"/api/v1/flows/{archived_id}", headers=bearer(api_key)).status_code in (200, 204)

    html = client.get("/credentials").get_data(as_text=True)
    rows = {row.split("<td>")[1].split("</td>")[0]: row for row in html.split("<tr>")[2:]}
    assert '<td class="used-by">Orders, Service check</td>' in rows["status-api"]  # the archived flow runs nothing
    assert "It is used by Orders, Service check: their steps that send it will fail" in rows["status-api"]
    assert '<span class="muted">no flow</span>' in rows["spare"] and "No flow uses it." in rows["spare"]


def test_the_canvas_offers_credential_names_only(client, auth, api_key):
    from tests.app.flowdocs import greeting_flow

    client.post("/api/v1/credentials", json={"name": "openai", "kind": "bearer", "value": SECRET}, headers=bearer(api_key))
    flow_id = client.post("/api/v1/flows", json={"document": greeting_flow()}, headers=bearer(api_key)).json["id"]

    html = client.get(f"/flows/{flow_id}").get_data(as_text=True)

    assert '"credentials": ["openai"]' in html or '"credentials":["openai"]' in html
    assert SECRET not in html
