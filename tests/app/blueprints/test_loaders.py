"""One loader per resource: a missing, foreign or absurd id is the same 404, a page or JSON by door.

Each resource (flow, version, run, trigger, credential, API key, conversation) is asked for by an
id that does not exist, by one 200 characters long and by another workspace's real id: the
pages answer the error page, the API a JSON error with the resource's code, and never a 5xx.
"""

from __future__ import annotations

from tests.app.trigger_helpers import bearer, publish

LONG = "x" * 200


def test_missing_and_overlong_ids_are_404_pages_on_pages_and_json_on_the_api(client, auth, api_key):
    published = publish(client, api_key)
    flow_id, node_id = published.flow["id"], published.trigger["node_id"]
    run_id = published.call({"user_message": "hi"}).json["run_id"]
    headers = bearer(api_key)
    for bad in ("0" * 32, LONG):
        pages = [f"/flows/{bad}", f"/flows/{flow_id}/versions/999", f"/runs/{bad}",
                 f"/flows/{flow_id}/triggers/{bad}/panel", f"/conversations/{bad}", f"/flows/{bad}/overview"]
        for path in pages:
            page = client.get(path)
            assert page.status_code == 404 and page.mimetype == "text/html", (path, page.status_code)
            assert "No " in page.get_data(as_text=True) or "has no" in page.get_data(as_text=True), path
        api = {f"/api/v1/flows/{bad}": "flow_not_found", f"/api/v1/flows/{flow_id}/versions/999": "version_not_found",
               f"/api/v1/runs/{bad}": "run_not_found", f"/api/v1/triggers/{bad}": "trigger_not_found",
               f"/api/v1/credentials/{bad}": "credential_not_found"}
        for path, code in api.items():
            answer = client.get(path, headers=headers)
            assert answer.status_code == 404 and answer.json["error"]["code"] == code, (path, answer.json)
        for method, path, code in [("post", f"/api/v1/flows/{flow_id}/triggers/{bad}/rotate-secret", "trigger_not_found"),
                                   ("delete", f"/api/v1/api-keys/{bad}", "api_key_not_found")]:
            answer = getattr(client, method)(path, headers=headers)
            assert answer.status_code == 404 and answer.json["error"]["code"] == code, (path, answer.json)
    assert client.get(f"/runs/{run_id}").status_code == 200
    assert client.get(f"/flows/{flow_id}/triggers/{node_id}/panel").status_code == 200


def test_another_workspaces_ids_are_404_through_every_loader(client, app, api_key, make_account):
    published = publish(client, api_key)
    run_id = published.call({"user_message": "hi"}).json["run_id"]
    credential = client.post("/api/v1/credentials", json={"name": "c", "kind": "bearer", "value": "v"},
                             headers=bearer(api_key)).json
    outsider = make_account(email="other@example.com", workspace="Elsewhere")
    from tests.conftest import csrf_from

    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": outsider.email, "password": outsider.password, "csrf_token": csrf_from(login)})
    flow_id = published.flow["id"]
    for path in (f"/flows/{flow_id}", f"/runs/{run_id}", f"/flows/{flow_id}/versions/1",
                 f"/flows/{flow_id}/triggers/{published.trigger['node_id']}/panel"):
        assert client.get(path).status_code == 404, path
    for path in (f"/api/v1/flows/{flow_id}", f"/api/v1/runs/{run_id}", f"/api/v1/triggers/{published.trigger['id']}",
                 f"/api/v1/credentials/{credential['id']}"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.is_json, path
