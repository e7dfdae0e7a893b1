"""Rename, duplicate and list flows through the JSON API: what each answers, who may, and hostile input."""

from __future__ import annotations

import pytest

from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.app.manage.manage_helpers import other_workspace_key, publish, viewer_session
from tests.app.trigger_helpers import bearer, local_path


def test_patch_renames_and_describes_the_flow_and_a_later_save_keeps_the_new_name(client, api_key):
    flow = publish(client, api_key, greeting_flow())
    url = f"/api/v1/flows/{flow['id']}"
    answer = client.patch(url, json={"name": "  Order desk  ", "description": "Answers about orders.\nTwo lines."},
                          headers=bearer(api_key))
    assert answer.status_code == 200, answer.json
    assert answer.json["name"] == "Order desk" and answer.json["description"] == "Answers about orders.\nTwo lines."
    assert answer.json["version"] == 1  # settings are not a new version
    saved = client.put(url, json={"document": {**greeting_flow(), "name": "Stale canvas name"}}, headers=bearer(api_key))
    assert saved.status_code == 200 and saved.json["name"] == "Order desk"


@pytest.mark.parametrize("body, field, says", [
    ({"name": ""}, "name", "must not be empty"), ({"name": "   "}, "name", "must not be empty"),
    ({"name": "x" * 201}, "name", "at most 200"), ({"name": 12}, "name", "must be text"),
    ({"name": None}, "name", "must be text"), ({"name": ["a"]}, "name", "must be text"),
    ({"name": "two\nlines"}, "name", "one line"), ({"description": "d" * 2001}, "description", "at most 2000"),
    ({"description": {"a": 1}}, "description", "must be text"), ({"description": "bell\x07"}, "description", "control"),
])
def test_a_bad_name_or_description_is_a_400_naming_the_field_and_changes_nothing(client, api_key, body, field, says):
    flow = publish(client, api_key, greeting_flow())
    answer = client.patch(f"/api/v1/flows/{flow['id']}", json={"name": "Fine", **body}, headers=bearer(api_key))
    assert answer.status_code == 400, answer.json
    error = answer.json["error"]
    assert error["code"] == f"invalid_{field}" and field in error["message"] and says in error["message"], error
    assert error["details"] == [{"field": field, "reason": error["message"]}]
    assert client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json["name"] == "Greeter"


@pytest.mark.parametrize("raw, says", [
    (b'{"name": "\\ud800"}', "lone surrogate (\\ud800)"), (b'{"description": "ok \\udfff"}', "lone surrogate"),
    (b'{"name": 1e999}', "too large"), (b'{"name": ' + b"9" * 5000 + b"}", "characters long"),
    (b'{"name": ' + b"[" * 100 + b"]" * 100 + b"}", "nested"),
    (b'{"name": {' + b", ".join(b'"k%d": 1' % i for i in range(20_000)) + b"}}", "name must be text"),
])
def test_hostile_settings_get_a_400_that_names_the_problem(client, api_key, raw, says):
    flow = publish(client, api_key, greeting_flow())
    answer = client.patch(f"/api/v1/flows/{flow['id']}", data=raw, headers={**bearer(api_key),
                                                                              "Content-Type": "text/plain"})
    assert answer.status_code == 400 and says in answer.json["error"]["message"], answer.json
    assert len(answer.get_data()) < 5000


def test_a_lone_surrogate_is_refused_naming_the_field_it_is_in(client, api_key):
    flow = publish(client, api_key, greeting_flow())
    answer = client.patch(f"/api/v1/flows/{flow['id']}", data=b'{"description": "x", "name": "a\\ud83d"}',
                          headers=bearer(api_key))
    assert answer.status_code == 400
    assert "(in name)" in answer.json["error"]["message"] and answer.json["error"]["details"][0]["field"] == "name"


def test_duplicate_publishes_a_copy_with_new_keys_and_secrets_shown_once(client, api_key):
    original = publish(client, api_key, greeting_flow(key="orders"))
    answer = client.post(f"/api/v1/flows/{original['id']}/duplicate", headers=bearer(api_key))
    assert answer.status_code == 201, answer.json
    copy = answer.json
    assert copy["id"] != original["id"] and copy["name"] == "Copy of Greeter" and copy["version"] == 1
    assert copy["description"] == original["description"]
    rest = {t["node_id"]: t for t in copy["triggers"]}["api"]
    assert rest["key"] == "orders-copy" and rest["url"].endswith("/orders-copy")
    assert copy["secrets"]["api"].startswith("sbt_") and copy["secrets"]["api"] != original["secrets"]["api"]
    # The original's URL still reaches the original, with its own secret only.
    path = local_path(original["triggers"][0]["url"])
    assert client.post(path, json={"message": "hi"}, headers=bearer(copy["secrets"]["api"])).status_code == 401
    called = client.post(path, json={"message": "hi"}, headers=bearer(original["secrets"]["api"]))
    assert called.status_code == 200, called.json
    runs = client.get(f"/api/v1/flows/{original['id']}/runs", headers=bearer(api_key)).json["runs"]
    assert len(runs) == 1
    copied_call = client.post(local_path(rest["url"]), json={"message": "hi"}, headers=bearer(copy["secrets"]["api"]))
    assert copied_call.status_code == 200 and copied_call.json["run_id"] != called.json["run_id"]
    again = client.post(f"/api/v1/flows/{original['id']}/duplicate", json={"name": "Third"}, headers=bearer(api_key))
    assert again.status_code == 201 and again.json["name"] == "Third"
    assert {t["key"] for t in again.json["triggers"] if t["key"]} == {"orders-copy-2"}


def test_a_flow_never_published_duplicates_as_an_empty_flow(app, client, api_key, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    account = make_account()
    with app.app_context():
        flow = publishing.create_empty_flow(db.session.get(Workspace, account.workspace_id), "Sketch")
        db.session.commit()
        flow_id = flow.id
    answer = client.post(f"/api/v1/flows/{flow_id}/duplicate", headers=bearer(api_key))
    assert answer.status_code == 201, answer.json
    assert answer.json["name"] == "Copy of Sketch" and answer.json["version"] == 0 and answer.json["document"] is None
    assert "secrets" not in answer.json


def test_duplicate_refuses_a_bad_name(client, api_key):
    flow = publish(client, api_key, greeting_flow())
    for name, says in (("", "must not be empty"), (7, "must be text"), ("n" * 300, "at most 200")):
        answer = client.post(f"/api/v1/flows/{flow['id']}/duplicate", json={"name": name}, headers=bearer(api_key))
        assert answer.status_code == 400 and says in answer.json["error"]["message"], answer.json
    assert len(client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"]) == 1


def test_viewers_and_other_workspaces_cannot_manage_the_flow(app, client, api_key, make_account):
    flow = publish(client, api_key, greeting_flow())
    eve = other_workspace_key(app, make_account)
    base = f"/api/v1/flows/{flow['id']}"
    calls = [("patch", base, {"name": "x"}), ("post", f"{base}/duplicate", {}), ("delete", base, None),
             ("post", f"{base}/restore", {}), ("get", f"{base}/versions/1/export", None)]
    for method, url, body in calls:
        answer = getattr(client, method)(url, json=body, headers=bearer(eve))
        assert answer.status_code == 404 and answer.json["error"]["code"] == "flow_not_found", (url, answer.json)
    headers = viewer_session(client, make_account, flow["id"])
    for method, url, body in calls[:4]:
        answer = getattr(client, method)(url, json=body, headers=headers)
        assert answer.status_code == 403, (url, answer.json)
    assert client.get(f"{base}/versions/1/export").status_code == 200  # viewers may read and export
    assert client.post("/api/v1/flows/import", json={"document": greeting_flow(key="v")}, headers=headers
                       ).status_code == 403


def test_the_list_searches_names_and_descriptions_and_hides_archived_flows(client, api_key):
    orders = publish(client, api_key, greeting_flow(key="o", name="Orders bot"))
    client.patch(f"/api/v1/flows/{orders['id']}", json={"description": "Tracks 100% of parcels"}, headers=bearer(api_key))
    weather = publish(client, api_key, schedule_flow(name="Weather"))
    client.patch(f"/api/v1/flows/{weather['id']}", json={"description": "Daily forecast_report"},
                 headers=bearer(api_key))
    names = lambda query="": [f["name"] for f in client.get(f"/api/v1/flows{query}", headers=bearer(api_key)).json["flows"]]
    assert sorted(names()) == ["Orders bot", "Weather"]
    assert names("?q=ORDERS") == ["Orders bot"] and names("?q=forecast") == ["Weather"]
    assert names("?q=100%25") == ["Orders bot"] and names("?q=t_r") == ["Weather"] and names("?q=%25%25") == []
    assert client.delete(f"/api/v1/flows/{weather['id']}", headers=bearer(api_key)).status_code == 200
    assert names() == ["Orders bot"] and names("?archived=true") == ["Weather"]
    assert names("?archived=true&q=orders") == []
    for query, field in (("?archived=maybe", "archived"), ("?q=" + "x" * 201, "q")):
        answer = client.get(f"/api/v1/flows{query}", headers=bearer(api_key))
        assert answer.status_code == 400 and answer.json["error"]["details"][0]["field"] == field
