"""API keys, credentials and trigger secrets: each change through each door (page, JSON API, CLI)
leaves one audit row naming who and what in words, and no secret ever reaches the log."""

from __future__ import annotations

import json
import re

from tests.app.audit.audit_helpers import audit_rows, csrf_header, form_token, only_row
from tests.app.flowdocs import greeting_flow
from tests.app.manage.manage_helpers import publish
from tests.app.test_cli import flask
from tests.app.trigger_helpers import bearer

KEY_ACTOR = "API key “tests”"
CREDENTIAL_SECRET = "sk-never-in-the-log-5521"


def _everything_logged(app) -> str:
    return json.dumps(audit_rows(app), ensure_ascii=False)


def test_api_keys_made_on_the_page_by_the_json_api_and_the_cli_are_logged_without_their_token(
        app, stack, client, auth, api_key):
    page = client.post("/settings/api-keys", data={"csrf_token": form_token(client, "/settings/api-keys"),
                                                    "name": "Support bot", "scopes": ["runs:trigger"]})
    assert page.status_code == 201
    page_token = re.search(r"data-token>([^<]+)<", page.get_data(as_text=True)).group(1)
    made = client.post("/api/v1/api-keys", json={"name": "CRM", "scopes": ["runs:read"]}, headers=csrf_header(client))
    assert made.status_code == 201, made.json
    cli_token = flask(stack, "create-api-key", "--workspace", "Acme", "--name", "nightly").stdout.splitlines()[-1]

    rows = audit_rows(app, "api_key.created")
    assert [(r["actor"], r["target"]) for r in rows[:3]] == [
        ("The server's command line", "nightly"), ("owner@example.com", "CRM"), ("owner@example.com", "Support bot")]
    assert rows[1]["target_id"] == made.json["api_key"]["id"] and rows[1]["details"] == {"scopes": ["runs:read"]}
    assert rows[0]["actor_user_id"] is None and rows[0]["actor_api_key_id"] is None
    assert {r["workspace_id"] for r in rows} == {auth.workspace_id}
    logged = _everything_logged(app)
    for token in (page_token, made.json["token"], cli_token, api_key):
        assert token not in logged and token[:10] not in logged


def test_a_key_made_by_a_key_is_logged_as_that_key_with_its_flow_limit(app, client, api_key):
    flow = publish(client, api_key, greeting_flow())
    made = client.post("/api/v1/api-keys", json={"name": "one flow", "flow_ids": [flow["id"]]}, headers=bearer(api_key))
    assert made.status_code == 201, made.json
    row = audit_rows(app, "api_key.created")[0]
    assert (row["actor"], row["target"], row["details"]["flow_count"]) == (KEY_ACTOR, "one flow", 1)


def test_revoking_on_the_page_and_through_the_api_is_logged_once_each(app, client, auth, api_key):
    first = client.post("/api/v1/api-keys", json={"name": "Support bot"}, headers=csrf_header(client)).json["api_key"]
    second = client.post("/api/v1/api-keys", json={"name": "CRM"}, headers=csrf_header(client)).json["api_key"]
    token = form_token(client, "/settings/api-keys")
    for _ in range(2):  # a second revoke of a revoked key changes nothing, and logs nothing
        assert client.post(f"/settings/api-keys/{first['id']}/revoke", data={"csrf_token": token}).status_code == 200
        assert client.delete(f"/api/v1/api-keys/{second['id']}", headers=csrf_header(client)).status_code == 200
    rows = audit_rows(app, "api_key.revoked")
    assert [(r["target"], r["target_id"], r["actor"]) for r in rows] == [
        ("CRM", second["id"], "owner@example.com"), ("Support bot", first["id"], "owner@example.com")]


def test_credentials_added_changed_and_deleted_through_the_api_never_log_the_secret(app, client, api_key):
    created = client.post("/api/v1/credentials", json={"name": "openai", "kind": "api_key",
                                                       "value": CREDENTIAL_SECRET}, headers=bearer(api_key))
    assert created.status_code == 201, created.json
    url = f"/api/v1/credentials/{created.json['id']}"
    assert client.patch(url, json={"name": "openai-prod", "value": "sk-second-0042"},
                        headers=bearer(api_key)).status_code == 200
    assert client.patch(url, json={}, headers=bearer(api_key)).status_code == 200  # nothing changed: no row
    assert client.delete(url, headers=bearer(api_key)).status_code == 204

    added, changed, deleted = (only_row(app, f"credential.{what}") for what in ("created", "changed", "deleted"))
    assert (added["actor"], added["target"], added["details"]) == (KEY_ACTOR, "openai", {"kind": "api_key"})
    assert (changed["target"], changed["details"]) == ("openai-prod", {"changed": ["name", "secret"],
                                                                       "renamed_from": "openai"})
    assert (deleted["target"], deleted["target_id"]) == ("openai-prod", created.json["id"])
    logged = _everything_logged(app)
    assert CREDENTIAL_SECRET not in logged and "sk-second-0042" not in logged


def test_the_credentials_page_logs_add_replace_and_delete_by_the_signed_in_user(app, client, auth):
    token = form_token(client, "/credentials")
    client.post("/credentials", data={"csrf_token": token, "action": "create", "name": "Support bot",
                                      "kind": "bearer", "value": CREDENTIAL_SECRET})
    credential_id = only_row(app, "credential.created")["target_id"]
    client.post("/credentials", data={"csrf_token": token, "action": "update", "id": credential_id,
                                      "value": "another-secret-77"})
    client.post("/credentials", data={"csrf_token": token, "action": "delete", "id": credential_id})
    rows = audit_rows(app)
    assert [(r["action"], r["actor"], r["target"], r["workspace_id"]) for r in rows] == [
        ("credential.deleted", "owner@example.com", "Support bot", auth.workspace_id),
        ("credential.changed", "owner@example.com", "Support bot", auth.workspace_id),
        ("credential.created", "owner@example.com", "Support bot", auth.workspace_id)]
    assert rows[1]["details"] == {"changed": ["secret"]}
    logged = _everything_logged(app)
    assert CREDENTIAL_SECRET not in logged and "another-secret-77" not in logged


def test_a_refused_credential_leaves_no_row(app, client, api_key):
    refused = client.post("/api/v1/credentials", json={"name": "bad name!", "kind": "api_key", "value": "x"},
                          headers=bearer(api_key))
    assert refused.status_code == 400
    assert audit_rows(app, "credential.created") == []


def test_every_door_that_rotates_a_trigger_secret_is_logged_and_publishing_is_not_a_rotation(
        app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    trigger = next(t for t in flow["triggers"] if t["node_id"] == "api")
    assert audit_rows(app, "trigger.secret_rotated") == []  # the first secret comes with the publish
    token = form_token(client, f"/flows/{flow['id']}")
    answers = [
        client.post(f"/flows/{flow['id']}/triggers/api/rotate", data={"csrf_token": token}),
        client.post(f"/flows/{flow['id']}/triggers/api/signing-secret", data={"csrf_token": token},
                    headers={"HX-Request": "true"}),
        client.post(f"/api/v1/flows/{flow['id']}/triggers/api/rotate-secret", headers=bearer(api_key)),
        client.post(f"/api/v1/triggers/{trigger['id']}/rotate-secret", json={}, headers=bearer(api_key)),
        client.post(f"/api/v1/triggers/{trigger['id']}/signing-secret", json={}, headers=bearer(api_key)),
    ]
    assert [a.status_code for a in answers] == [302, 200, 200, 200, 200], [a.get_data(as_text=True)[:300]
                                                                           for a in answers]
    rows = audit_rows(app, "trigger.secret_rotated")
    assert [(r["actor"], r["details"]["secret"]) for r in rows] == [
        (KEY_ACTOR, "signing_secret"), (KEY_ACTOR, "secret"), (KEY_ACTOR, "secret"),
        ("owner@example.com", "signing_secret"), ("owner@example.com", "secret")]
    assert {(r["target"], r["target_id"], r["details"]["flow_id"], r["workspace_id"]) for r in rows} == {
        ("REST in Support bot", trigger["id"], flow["id"], auth.workspace_id)}
    logged = _everything_logged(app)
    for answer in answers[2:]:
        secret = answer.json.get("secret") or answer.json.get("signing_secret")
        assert secret and secret not in logged
    assert flow["secrets"]["api"] not in logged
