"""Workspace API keys: scopes, flow limits, shown once, revocable, last use — API, UI and CLI."""

from __future__ import annotations

import re

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.test_cli import flask
from tests.app.trigger_helpers import bearer, publish
from tests.conftest import csrf_from


def _key(client, api_key, **settings) -> str:
    response = client.post("/api/v1/api-keys", json={"name": "scoped", **settings}, headers=bearer(api_key))
    assert response.status_code == 201, response.json
    return response.json["token"]


def test_a_key_with_only_the_trigger_scope_can_call_triggers_and_nothing_else(client, api_key):
    trigger = publish(client, api_key)
    token = _key(client, api_key, scopes=["runs:trigger"])
    called = client.post(trigger.path, json={"text": "x"}, headers=bearer(token))
    assert called.status_code == 200
    for method, path in (("GET", "/api/v1/flows"), ("GET", f"/api/v1/runs/{called.json['run_id']}"),
                         ("PUT", f"/api/v1/flows/{trigger.flow['id']}"), ("GET", "/api/v1/triggers")):
        response = client.open(path, method=method, json={"document": echo_flow()}, headers=bearer(token))
        assert response.status_code == 403, (path, response.json)
        assert response.json["error"]["code"] == "insufficient_scope"
        assert response.json["error"]["details"]["required_scope"] in response.json["error"]["message"]


def test_a_read_runs_key_reads_runs_but_cannot_start_them(client, api_key):
    trigger = publish(client, api_key)
    run_id = trigger.call({"text": "x"}).json["run_id"]
    token = _key(client, api_key, scopes=["runs:read"])
    assert client.get(f"/api/v1/runs/{run_id}", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v1/flows/{trigger.flow['id']}/runs", headers=bearer(token)).status_code == 200
    refused = client.post(trigger.path, json={"text": "x"}, headers=bearer(token))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    assert client.post(f"/api/v1/flows/{trigger.flow['id']}/run", json={"message": "x"},
                       headers=bearer(token)).status_code == 403


def test_flows_read_can_look_but_not_change_and_manage_implies_read(client, api_key):
    trigger = publish(client, api_key)
    reader = _key(client, api_key, scopes=["flows:read"])
    manager = _key(client, api_key, scopes=["flows:manage"])
    url = f"/api/v1/flows/{trigger.flow['id']}"
    assert client.get(url, headers=bearer(reader)).status_code == 200
    assert client.put(url, json={"document": echo_flow(reply="v2")}, headers=bearer(reader)).status_code == 403
    assert client.get(url, headers=bearer(manager)).status_code == 200
    assert client.put(url, json={"document": echo_flow(reply="v2")}, headers=bearer(manager)).status_code == 200


def test_a_key_limited_to_flows_sees_and_triggers_only_those(client, api_key):
    mine = publish(client, api_key, echo_flow(key="mine"))
    other = publish(client, api_key, echo_flow(key="other"))
    token = _key(client, api_key, flow_ids=[mine.flow["id"]])
    assert [f["id"] for f in client.get("/api/v1/flows", headers=bearer(token)).json["flows"]] == [mine.flow["id"]]
    assert client.get(f"/api/v1/flows/{other.flow['id']}", headers=bearer(token)).status_code == 404
    assert client.post(mine.path, json={"text": "x"}, headers=bearer(token)).status_code == 200
    refused = client.post(other.path, json={"text": "x"}, headers=bearer(token))
    assert refused.status_code == 403
    other_run = other.call({"text": "x"}).json["run_id"]
    assert client.get(f"/api/v1/runs/{other_run}", headers=bearer(token)).status_code == 404
    assert [t["key"] for t in client.get("/api/v1/triggers", headers=bearer(token)).json["triggers"]] == ["mine"]
    assert client.post("/api/v1/flows", json={"document": echo_flow(key="new")},
                       headers=bearer(token)).status_code == 403


def test_created_keys_are_shown_once_listed_with_last_use_and_revocable(client, api_key):
    created = client.post("/api/v1/api-keys", json={"name": "crm", "scopes": ["runs:read"]}, headers=bearer(api_key))
    assert created.status_code == 201
    token, key_id = created.json["token"], created.json["api_key"]["id"]
    listed = {k["id"]: k for k in client.get("/api/v1/api-keys", headers=bearer(api_key)).json["api_keys"]}
    assert "token" not in listed[key_id] and listed[key_id]["last_used_at"] is None
    assert token not in str(listed)
    client.get("/api/v1/flows/none/runs", headers=bearer(token))
    listed = {k["id"]: k for k in client.get("/api/v1/api-keys", headers=bearer(api_key)).json["api_keys"]}
    assert listed[key_id]["last_used_at"] is not None
    revoked = client.delete(f"/api/v1/api-keys/{key_id}", headers=bearer(api_key))
    assert revoked.status_code == 200 and revoked.json["api_key"]["active"] is False
    assert client.get("/api/v1/flows/none/runs", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("settings, message", [
    ({"scopes": ["runs:everything"]}, "scopes"),
    ({"scopes": []}, "scopes"),
    ({"flow_ids": ["does-not-exist"]}, "unknown flow"),
    ({"flow_ids": []}, "limited to no flows"),
    ({"name": ""}, "name"),
])
def test_bad_key_settings_are_400(client, api_key, settings, message):
    response = client.post("/api/v1/api-keys", json={"name": "k", **settings}, headers=bearer(api_key))
    assert response.status_code == 400 and message in response.json["error"]["message"]


def test_a_key_cannot_create_a_more_powerful_key(client, api_key):
    limited = _key(client, api_key, scopes=["flows:manage"])
    response = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["runs:trigger"]}, headers=bearer(limited))
    assert response.status_code == 400 and "runs:trigger" in response.json["error"]["message"]
    assert client.post("/api/v1/api-keys", json={"name": "x"}, headers=bearer(_key(client, api_key,
                       scopes=["runs:trigger"]))).status_code == 403


def test_owners_manage_keys_in_the_ui_and_the_token_is_shown_once(client, auth, app):
    page = client.get("/settings/api-keys")
    assert page.status_code == 200
    created = client.post("/settings/api-keys", data={"name": "from the ui", "scopes": ["runs:trigger", "runs:read"],
                                                      "limit_flows": "all", "csrf_token": csrf_from(page.text)})
    assert created.status_code == 201
    token = created.text.split('data-token>')[1].split("<")[0]
    assert token.startswith("sbk_")
    again = client.get("/settings/api-keys")
    assert token not in again.text and "from the ui" in again.text and "runs:read" in again.text
    from app.extensions import db
    from app.models import ApiKey

    with app.app_context():
        key_id = db.session.execute(db.select(ApiKey.id).where(ApiKey.name == "from the ui")).scalar_one()
    revoked = client.post(f"/settings/api-keys/{key_id}/revoke", data={"csrf_token": csrf_from(again.text)})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert client.get("/api/v1/flows", headers=bearer(token)).status_code == 401
    bad = client.post("/settings/api-keys", data={"name": "none", "csrf_token": csrf_from(again.text)})
    assert bad.status_code == 400 and "Tick at least one thing the key may do." in bad.text
    assert 'value="none"' in bad.text  # what was typed comes back with the refusal


def test_a_refused_key_form_keeps_what_was_typed_and_no_flow_ticked_is_refused(client, auth, app):
    from tests.app.blueprints.test_ui import _publish

    flow_id, _ = _publish(app, auth)
    page = client.get("/settings/api-keys")
    none_ticked = client.post("/settings/api-keys", data={
        "name": "CRM hook", "scopes": ["runs:read"], "limit_flows": "some", "csrf_token": csrf_from(page.text)})
    assert none_ticked.status_code == 400 and "limited to no flows" in none_ticked.text
    form = none_ticked.text.split('id="new-key"')[1].split("</form>")[0]
    assert 'value="CRM hook"' in form and 'value="some" checked' in form
    assert re.search(r'value="runs:read"\s+checked', form) and not re.search(r'value="runs:trigger"\s+checked', form)
    with app.app_context():
        from app.extensions import db
        from app.models import ApiKey
        assert db.session.execute(db.select(ApiKey).where(ApiKey.name == "CRM hook")).first() is None
    ticked = client.post("/settings/api-keys", data={
        "name": "CRM hook", "scopes": ["runs:read"], "limit_flows": "some", "flow_ids": [flow_id],
        "csrf_token": csrf_from(page.text)})
    assert ticked.status_code == 201


def test_editors_cannot_manage_keys(client, make_account):
    account = make_account(email="ed@example.com", role="editor")
    page = client.get("/login")
    client.post("/login", data={"email": account.email, "password": account.password,
                                "csrf_token": csrf_from(page.text)})
    assert client.get("/settings/api-keys").status_code == 403


def test_cli_keys_have_every_scope_unless_told(app, stack, client, make_account):
    make_account(workspace="Ops")
    full = flask(stack, "create-api-key", "--workspace", "Ops", "--name", "all").stdout.strip().splitlines()[-1]
    narrow = flask(stack, "create-api-key", "--workspace", "Ops", "--name", "read",
                   "--scope", "runs:read").stdout.strip().splitlines()[-1]
    assert client.get("/api/v1/flows", headers=bearer(full)).status_code == 200
    assert client.get("/api/v1/flows", headers=bearer(narrow)).status_code == 403
    listed = client.get("/api/v1/api-keys", headers=bearer(full)).json["api_keys"]
    assert {k["name"]: k["scopes"] for k in listed} == {
        "all": ["runs:trigger", "runs:read", "flows:read", "flows:manage"], "read": ["runs:read"]}
    bad = flask(stack, "create-api-key", "--workspace", "Ops", "--name", "x", "--scope", "root", check=False)
    assert bad.returncode != 0 and "root" in bad.stderr


def test_chathive_style_x_api_key_header_works_like_bearer(client, api_key):
    trigger = publish(client, api_key)
    assert client.post(trigger.path, json={"text": "x"}, headers={"X-Api-Key": api_key}).status_code == 200
    assert client.post(trigger.path, json={"text": "x"}, headers={"X-Api-Key": trigger.secret}).status_code == 200
    assert client.post(trigger.path, json={"text": "x"}, headers={"X-Api-Key": "sbk_wrong"}).status_code == 401
