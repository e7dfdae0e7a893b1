"""Every way a flow version goes live, is rolled back, archived or restored leaves one audit row
naming who did it and the flow in words, written with the change (and not when it is refused)."""

from __future__ import annotations

import io
import json

from tests.app.audit.audit_helpers import audit_rows, csrf_header, form_token, only_row
from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.manage.manage_helpers import publish
from tests.app.trigger_helpers import bearer

KEY_ACTOR = "API key “tests”"


def test_creating_a_flow_with_a_document_through_the_api_is_a_publish_by_the_key(app, client, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    row = only_row(app, "flow.published")
    assert row["actor"] == KEY_ACTOR and row["actor_api_key_id"] and row["actor_user_id"] is None
    assert (row["target_type"], row["target_id"], row["target"]) == ("flow", flow["id"], "Support bot")
    assert row["details"] == {"version": 1}
    assert row["workspace_id"] == flow["workspace_id"]


def test_a_canvas_save_is_a_publish_by_the_signed_in_user_and_an_unchanged_save_is_not(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    document = with_reply_text(greeting_flow(name="Support bot"), "Changed")
    saved = client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=csrf_header(client))
    assert saved.status_code == 200, saved.json
    again = client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=csrf_header(client))
    assert again.status_code == 200 and again.json["published"] is False
    rows = audit_rows(app, "flow.published")
    assert [(r["actor"], r["details"]) for r in rows] == [("owner@example.com", {"version": 2}),
                                                           (KEY_ACTOR, {"version": 1})]
    assert rows[0]["actor_user_id"] is not None and rows[0]["workspace_id"] == auth.workspace_id


def test_a_refused_save_leaves_no_row(app, client, api_key):
    flow = publish(client, api_key, greeting_flow())
    broken = greeting_flow()
    broken["edges"] = []
    refused = client.put(f"/api/v1/flows/{flow['id']}", json={"document": broken}, headers=bearer(api_key))
    assert refused.status_code == 400
    assert len(audit_rows(app, "flow.published")) == 1


def test_the_first_save_of_an_empty_flow_on_the_canvas_publishes_version_1(app, client, auth):
    created = client.post("/flows/new", data={"name": "Blank", "csrf_token": form_token(client)})
    assert created.status_code == 302
    assert audit_rows(app, "flow.published") == []  # nothing is live yet
    flow_id = created.headers["Location"].rstrip("/").split("/")[-1]
    saved = client.put(f"/api/v1/flows/{flow_id}", json={"document": greeting_flow(name="Blank")},
                       headers=csrf_header(client))
    assert saved.status_code == 200, saved.json
    row = only_row(app, "flow.published")
    assert (row["target"], row["details"], row["actor"]) == ("Blank", {"version": 1}, "owner@example.com")


def test_importing_a_file_on_the_page_and_through_the_api_publishes_version_1(app, client, auth, api_key):
    file = json.dumps({"format": "switchboard-flow", "name": "From a file", "document": greeting_flow(key="f1")})
    page = client.post("/flows/import", data={"csrf_token": form_token(client),
                                              "file": (io.BytesIO(file.encode()), "flow.json")})
    assert page.status_code == 302
    answer = client.post("/api/v1/flows/import", json=greeting_flow(key="f2", name="Bare"), headers=bearer(api_key))
    assert answer.status_code == 201, answer.json
    rows = audit_rows(app, "flow.published")
    assert [(r["target"], r["actor"], r["details"]) for r in rows] == [
        ("Bare", KEY_ACTOR, {"version": 1}), ("From a file", "owner@example.com", {"version": 1})]


def test_duplicating_on_the_page_and_through_the_api_publishes_the_copy(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    page = client.post(f"/flows/{flow['id']}/duplicate", data={"csrf_token": form_token(client)})
    assert page.status_code == 302
    answer = client.post(f"/api/v1/flows/{flow['id']}/duplicate", json={"name": "Second copy"},
                         headers=bearer(api_key))
    assert answer.status_code == 201, answer.json
    rows = audit_rows(app, "flow.published")
    assert [(r["target"], r["actor"]) for r in rows[:2]] == [("Second copy", KEY_ACTOR),
                                                             ("Copy of Support bot", "owner@example.com")]
    assert rows[0]["target_id"] == answer.json["id"]


def test_changing_a_trigger_through_the_trigger_api_publishes_a_version(app, client, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    trigger = next(t for t in flow["triggers"] if t["node_id"] == "api")
    changed = client.patch(f"/api/v1/triggers/{trigger['id']}", json={"name": "Front desk"}, headers=bearer(api_key))
    assert changed.status_code == 200, changed.json
    assert [r["details"] for r in audit_rows(app, "flow.published")] == [{"version": 2}, {"version": 1}]


def test_rollback_on_the_page_and_through_the_api_says_from_which_version_to_which(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    url = f"/api/v1/flows/{flow['id']}"
    client.put(url, json={"document": with_reply_text(greeting_flow(name="Support bot"), "two")}, headers=bearer(api_key))
    page = client.post(f"/flows/{flow['id']}/versions/1/rollback", data={"csrf_token": form_token(client)})
    assert page.status_code == 302
    answer = client.post(f"{url}/rollback", json={"version": 2}, headers=bearer(api_key))
    assert answer.status_code in (200, 201), answer.json
    rows = audit_rows(app, "flow.rolled_back")
    assert [(r["actor"], r["target"], r["details"]) for r in rows] == [
        (KEY_ACTOR, "Support bot", {"from": 3, "to": 2, "version": 4}),
        ("owner@example.com", "Support bot", {"from": 2, "to": 1, "version": 3})]
    # A rollback is its own kind of row, not also a "published" one.
    assert [r["details"]["version"] for r in audit_rows(app, "flow.published")] == [2, 1]


def test_archive_and_restore_on_the_page_and_through_the_api(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    assert client.post(f"/flows/{flow['id']}/archive", data={"csrf_token": form_token(client)}).status_code == 302
    assert client.post(f"/flows/{flow['id']}/archive", data={"csrf_token": form_token(client)}).status_code == 302
    assert client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key)).status_code == 200
    assert client.delete(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).status_code == 200
    assert client.post(f"/flows/{flow['id']}/restore", data={"csrf_token": form_token(client)}).status_code == 302
    archived = audit_rows(app, "flow.archived")
    restored = audit_rows(app, "flow.restored")
    assert [r["actor"] for r in archived] == [KEY_ACTOR, "owner@example.com"]  # archiving twice: one row
    assert [r["actor"] for r in restored] == ["owner@example.com", KEY_ACTOR]
    assert {(r["target"], r["target_id"], r["workspace_id"]) for r in archived + restored} == {
        ("Support bot", flow["id"], auth.workspace_id)}
