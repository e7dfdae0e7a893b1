"""The JSON management API: create, save (= publish), versions, rollback, secrets, scoping."""

from __future__ import annotations

from tests.app.flowdocs import greeting_flow, with_reply_text, without_node
from tests.app.trigger_helpers import bearer



def create(client, token, document, **extra):
    return client.post("/api/v1/flows", json={"document": document, **extra}, headers=bearer(token))


def test_create_flow_publishes_version_1_with_trigger_urls_and_a_secret_shown_once(client, api_key):
    response = create(client, api_key, greeting_flow())
    assert response.status_code == 201, response.json
    body = response.json
    assert body["version"] == 1 and body["published"] is True
    triggers = {t["node_id"]: t for t in body["triggers"]}
    assert triggers["api"]["type"] == "api_trigger"
    assert triggers["api"]["key"] == "hello"
    assert triggers["api"]["url"].endswith(f"/hooks/{body['workspace_id']}/hello")
    assert triggers["manual"]["url"].endswith(f"/api/v1/flows/{body['id']}/triggers/manual/run")
    assert body["secrets"]["api"].startswith("sbt_")

    again = client.get(f"/api/v1/flows/{body['id']}", headers=bearer(api_key))
    assert again.status_code == 200
    assert "secrets" not in again.json
    assert again.json["triggers"][0]["secret_hint"] == "…" + body["secrets"]["api"][-4:]


def test_invalid_document_is_refused_with_every_problem_by_node_and_nothing_is_created(client, api_key):
    document = greeting_flow()
    document["nodes"][3]["config"] = {}  # template without its template
    document["edges"].append({"id": "bad", "source": "greet", "source_port": "out", "target": "ghost",
                              "target_port": "in"})
    response = create(client, api_key, document)
    assert response.status_code == 400
    problems = response.json["error"]["details"]
    assert {"invalid_config", "dangling_edge"} <= {p["code"] for p in problems}
    assert any(p.get("node_id") == "greet" for p in problems)
    assert client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"] == []


def test_save_publishes_only_when_the_graph_changed(client, api_key):
    flow = create(client, api_key, greeting_flow()).json
    url = f"/api/v1/flows/{flow['id']}"

    same = client.put(url, json={"document": greeting_flow()}, headers=bearer(api_key))
    assert same.status_code == 200
    assert same.json["published"] is False and same.json["version"] == 1

    changed = client.put(url, json={"document": with_reply_text(greeting_flow(), "Hi!")}, headers=bearer(api_key))
    assert changed.json["published"] is True and changed.json["version"] == 2
    assert "secrets" not in changed.json  # the trigger keeps its secret across versions
    versions = client.get(f"{url}/versions", headers=bearer(api_key)).json["versions"]
    assert [v["number"] for v in versions] == [2, 1]
    v1 = client.get(f"{url}/versions/1", headers=bearer(api_key)).json
    assert v1["document"] == greeting_flow()


def test_invalid_save_keeps_the_published_version(client, api_key):
    flow = create(client, api_key, greeting_flow()).json
    broken = greeting_flow()
    broken["nodes"] = [n for n in broken["nodes"] if n["id"] != "start"]
    response = client.put(f"/api/v1/flows/{flow['id']}", json={"document": broken}, headers=bearer(api_key))
    assert response.status_code == 400
    assert "no_start_node" in {p["code"] for p in response.json["error"]["details"]}
    current = client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json
    assert current["version"] == 1 and current["document"] == greeting_flow()


def test_stale_base_version_is_a_conflict_not_an_overwrite(client, api_key):
    flow = create(client, api_key, greeting_flow()).json
    url = f"/api/v1/flows/{flow['id']}"
    first = client.put(url, json={"document": with_reply_text(greeting_flow(), "A"), "base_version": 1},
                       headers=bearer(api_key))
    assert first.status_code == 200 and first.json["version"] == 2
    second = client.put(url, json={"document": with_reply_text(greeting_flow(), "B"), "base_version": 1},
                        headers=bearer(api_key))
    assert second.status_code == 409
    assert second.json["error"]["details"]["latest_version"] == 2
    assert client.get(url, headers=bearer(api_key)).json["document"]["nodes"][-1]["config"]["text"] == "A"


def test_rollback_republishes_an_old_version_as_a_new_one(client, api_key):
    flow = create(client, api_key, greeting_flow()).json
    url = f"/api/v1/flows/{flow['id']}"
    client.put(url, json={"document": with_reply_text(greeting_flow(), "v2")}, headers=bearer(api_key))
    response = client.post(f"{url}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert response.status_code == 201
    assert response.json["version"] == 3
    assert response.json["document"] == greeting_flow()
    missing = client.post(f"{url}/rollback", json={"version": 99}, headers=bearer(api_key))
    assert missing.status_code == 404


def test_trigger_keys_are_unique_in_a_workspace_ignoring_case(client, api_key):
    create(client, api_key, greeting_flow(key="Orders"))
    clash = create(client, api_key, greeting_flow(key="orders", name="Other"))
    assert clash.status_code == 400
    problem = clash.json["error"]["details"][0]
    assert problem["code"] == "trigger_key_taken" and problem["node_id"] == "api"
    assert "Greeter" in problem["message"]
    assert len(client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"]) == 1


def test_a_removed_trigger_frees_its_key(client, api_key):
    flow = create(client, api_key, greeting_flow(key="shared")).json
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": without_node(greeting_flow(key="shared"), "api")},
               headers=bearer(api_key))
    other = create(client, api_key, greeting_flow(key="shared", name="Second"))
    assert other.status_code == 201, other.json


def test_rotate_secret_returns_a_new_secret_once(client, api_key):
    flow = create(client, api_key, greeting_flow()).json
    response = client.post(f"/api/v1/flows/{flow['id']}/triggers/api/rotate-secret", headers=bearer(api_key))
    assert response.status_code == 200
    assert response.json["secret"].startswith("sbt_")
    assert response.json["secret"] != flow["secrets"]["api"]
    manual = client.post(f"/api/v1/flows/{flow['id']}/triggers/manual/rotate-secret", headers=bearer(api_key))
    assert manual.status_code == 400


def test_another_workspaces_flow_answers_404(client, app, api_key, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    flow = create(client, api_key, greeting_flow()).json
    other = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, other_key = create_api_key(db.session.get(Workspace, other.workspace_id), "eve")
        db.session.commit()
    for method, path in [("get", f"/api/v1/flows/{flow['id']}"), ("get", f"/api/v1/flows/{flow['id']}/versions"),
                         ("put", f"/api/v1/flows/{flow['id']}")]:
        response = getattr(client, method)(path, json={"document": greeting_flow()}, headers=bearer(other_key))
        assert response.status_code == 404, (method, path)


def test_api_needs_a_valid_key(client):
    assert client.get("/api/v1/flows").status_code == 401
    response = client.get("/api/v1/flows", headers=bearer("sbk_not-a-real-key"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.json["request_id"] == response.headers["X-Request-Id"]


def test_unknown_fields_and_bad_json_are_400_with_a_reason(client, api_key):
    response = client.post("/api/v1/flows", json={"document": greeting_flow(), "colour": "red"}, headers=bearer(api_key))
    assert response.status_code == 400 and "colour" in response.json["error"]["message"]
    response = client.post("/api/v1/flows", data="{nope", headers=bearer(api_key), content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"
    response = client.post("/api/v1/flows", json=[1, 2], headers=bearer(api_key))
    assert response.status_code == 400
    response = client.post("/api/v1/flows", json={}, headers=bearer(api_key))
    assert response.status_code == 400 and response.json["error"]["code"] == "missing_field"
    response = client.post("/api/v1/flows", json={"document": "not a flow"}, headers=bearer(api_key))
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_flow"


def test_viewers_can_read_but_not_save(client, make_account, api_key):
    from tests.conftest import csrf_from

    flow = create(client, api_key, greeting_flow()).json
    viewer = make_account(email="viewer@example.com", role="viewer")
    page = client.get("/login")
    client.post("/login", data={"email": viewer.email, "password": viewer.password,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert client.get(f"/api/v1/flows/{flow['id']}").status_code == 200
    token = csrf_from(client.get(f"/flows/{flow['id']}").get_data(as_text=True))
    response = client.put(f"/api/v1/flows/{flow['id']}", json={"document": with_reply_text(greeting_flow(), "x")},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 403


def test_session_writes_need_the_csrf_token(client, auth):
    response = client.post("/api/v1/flows", json={"document": greeting_flow()})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
