"""Comparing two versions through the API: shape, field paths, moved-only nodes, hostile path segments."""

from __future__ import annotations

import copy

import pytest

from tests.app.flowdocs import compared_flow, greeting_flow, with_reply_text
from tests.app.trigger_helpers import bearer


def _publish(client, token, *documents) -> str:
    """Create a flow from the first document and save each next one: versions 1, 2, …"""
    flow = client.post("/api/v1/flows", json={"document": documents[0]}, headers=bearer(token)).json
    for document in documents[1:]:
        saved = client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=bearer(token))
        assert saved.status_code == 200 and saved.json["published"], saved.json
    return flow["id"]


def _compare(client, token, flow_id, a, b):
    return client.get(f"/api/v1/flows/{flow_id}/versions/{a}/compare/{b}", headers=bearer(token))


def test_compare_lists_added_removed_changed_moved_and_edges(client, api_key):
    flow_id = _publish(client, api_key, greeting_flow(), compared_flow(greeting_flow()))
    response = _compare(client, api_key, flow_id, 1, 2)
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) >= {"added", "removed", "changed", "edges_added", "edges_removed", "moved"}
    assert body["from"] == 1 and body["to"] == 2 and body["latest_version"] == 2
    assert body["added"] == [{"node_id": "note", "name": "Farewell", "type": "reply", "type_title": "Reply"}]
    assert [n["node_id"] for n in body["removed"]] == ["manual"]
    assert body["removed"][0]["name"] == "Run now"
    assert [c["node_id"] for c in body["changed"]] == ["reply"]
    field = body["changed"][0]["fields"][0]
    assert field["path"] == "config.text" and field["before"] == "{{ nodes.greet.text }}"
    assert field["after"] == "Bye {{ inputs.person }}" and field["title"]
    assert [m["node_id"] for m in body["moved"]] == ["start"]  # position alone is not a change
    assert {(e["source"], e["target"]) for e in body["edges_added"]} == {("route", "note")}
    assert {(e["source"], e["target"]) for e in body["edges_removed"]} == {("manual", "start")}
    assert body["edges_removed"][0]["source_name"] == "Run now"

    back = _compare(client, api_key, flow_id, 2, 1).json
    assert [n["node_id"] for n in back["added"]] == ["manual"]
    assert [n["node_id"] for n in back["removed"]] == ["note"]
    assert back["changed"][0]["fields"][0]["before"] == "Bye {{ inputs.person }}"


def test_nested_paths_name_the_list_item_and_the_field(client, api_key):
    after = copy.deepcopy(greeting_flow())
    route = next(n for n in after["nodes"] if n["id"] == "route")
    route["config"]["branches"][0]["port"] = "state"
    route["name"] = "Asks about state?"
    after["edges"] = [dict(e, source_port="state") if e["id"] == "e5" else e for e in after["edges"]]
    flow_id = _publish(client, api_key, greeting_flow(), after)
    changed = _compare(client, api_key, flow_id, 1, 2).json["changed"]
    fields = {f["path"]: f for f in changed[0]["fields"]}
    assert set(fields) == {"name", "config.branches[0].port"}
    assert fields["config.branches[0].port"]["before"] == "status"
    assert fields["config.branches[0].port"]["title"] == "Branch 1 › Port"
    assert fields["name"]["title"] == "Name" and fields["name"]["after"] == "Asks about state?"
    assert changed[0]["name"] == "Asks about state?"


def test_what_differs_outside_the_lists_is_named_in_details_changed(client, api_key):
    # Such versions compared "same: false" with every list empty, and the rollback dialog said "the same".
    base = greeting_flow()
    reordered = greeting_flow()
    reordered["nodes"].reverse()
    renamed = greeting_flow(name="Other name")
    renamed["description"] = "Another description."
    relabelled = greeting_flow()
    relabelled["edges"][0]["id"] = "first"
    flow_id = _publish(client, api_key, base, reordered, renamed, relabelled)
    expected = {2: ["order"], 3: ["name", "description"], 4: ["edge_ids"]}
    for number, details in expected.items():
        body = _compare(client, api_key, flow_id, 1, number).json
        assert body["same"] is False and body["details_changed"] == details, (number, body)
        assert all(body[key] == [] for key in ("added", "removed", "changed", "moved", "edges_added", "edges_removed"))
    assert _compare(client, api_key, flow_id, 1, 1).json["details_changed"] == []


def test_a_version_compared_with_itself_is_an_empty_diff(client, api_key):
    flow_id = _publish(client, api_key, greeting_flow())
    body = _compare(client, api_key, flow_id, 1, 1).json
    assert all(body[key] == [] for key in ("added", "removed", "changed", "moved", "edges_added", "edges_removed"))


@pytest.mark.parametrize("a, b, status", [
    ("1", "3", 404), ("0", "1", 404), ("1", "99999999999", 404), ("99999999999999999999999999", "1", 404),
    ("1", "9" * 1000, 404), ("-" + "9" * 1000, "1", 404), ("1", "9" * 1000 + "x", 400),
    ("-1", "1", 404), ("1", "-2", 404), ("abc", "1", 400), ("1", "1.5", 400), ("1", "%ED%A0%80", 400),
    ("%F0%9F%98%80", "1", 400), ("1", "%00", 400), ("1", "1e3", 400), ("1", "+1", 400), ("１", "1", 400),
])
def test_hostile_version_numbers_are_clear_4xx_json(client, api_key, a, b, status):
    flow_id = _publish(client, api_key, greeting_flow())
    response = _compare(client, api_key, flow_id, a, b)
    assert response.status_code == status, (a, b, response.get_data(as_text=True)[:300])
    assert response.json["error"]["message"]
    assert response.json["error"]["code"] in ("version_not_found", "invalid_version", "invalid_text")  # NUL: app-wide


def test_a_version_number_of_19_or_more_digits_is_answered_as_rollback_answers_it(client, api_key):
    # Compare said 400 "not a whole number" where rollback said 404 "no version that large" (README: a 404).
    flow_id = _publish(client, api_key, greeting_flow())
    for digits in ("9223372036854775807", "9" * 1000):
        compared = _compare(client, api_key, flow_id, 1, digits)
        rolled = client.post(f"/api/v1/flows/{flow_id}/rollback", data=f'{{"version": {digits}}}',
                             content_type="application/json", headers=bearer(api_key))
        assert compared.status_code == rolled.status_code == 404
        assert compared.json["error"] == rolled.json["error"] == {
            "code": "version_not_found", "message": "This flow has no version that large; its latest is version 1."}
        assert digits not in compared.get_data(as_text=True)


def test_drafts_are_not_comparable(client, api_key):
    flow_id = _publish(client, api_key, greeting_flow())
    message = _compare(client, api_key, flow_id, -1, 1).json["error"]["message"]
    assert "published versions" in message


def test_unknown_flow_and_another_workspaces_flow_are_404(client, app, api_key, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    flow_id = _publish(client, api_key, greeting_flow(), with_reply_text(greeting_flow(), "Hi"))
    other = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, other_key = create_api_key(db.session.get(Workspace, other.workspace_id), "eve")
        db.session.commit()
    response = _compare(client, other_key, flow_id, 1, 2)
    assert response.status_code == 404 and response.json["error"]["code"] == "flow_not_found"
    assert _compare(client, api_key, "f" * 500, 1, 2).status_code == 404
    assert _compare(client, api_key, "%ED%A0%80", 1, 2).status_code == 404


def test_compare_needs_authentication(client, api_key):
    flow_id = _publish(client, api_key, greeting_flow())
    assert client.get(f"/api/v1/flows/{flow_id}/versions/1/compare/1").status_code == 401


def test_documents_come_only_when_asked_and_other_parameters_are_400(client, api_key):
    flow_id = _publish(client, api_key, greeting_flow(), with_reply_text(greeting_flow(), "Hi"))
    url = f"/api/v1/flows/{flow_id}/versions/1/compare/2"
    assert "documents" not in client.get(url, headers=bearer(api_key)).json
    body = client.get(f"{url}?include=documents", headers=bearer(api_key)).json
    assert body["documents"]["from"] == greeting_flow() and body["documents"]["to"]["nodes"][-1]["config"]["text"] == "Hi"
    for query in ("include=everything", "limit=5", "include=%ED%A0%80"):
        response = client.get(f"{url}?{query}", headers=bearer(api_key))
        assert response.status_code == 400 and response.json["error"]["code"] == "invalid_parameter", query
    # The refusal names the parameter actually sent, not `include`.
    error = client.get(f"{url}?foo=bar", headers=bearer(api_key)).json["error"]
    assert error["message"] == 'Unknown query parameter "foo"; the only one here is include=documents.'
    assert error["details"] == [{"field": "foo", "reason": "unknown parameter"}]
    error = client.get(f"{url}?include=everything", headers=bearer(api_key)).json["error"]
    assert error["details"] == [{"field": "include", "reason": "unknown value"}]
    error = client.get(f"{url}?{'q' * 5000}=1&include=documents", headers=bearer(api_key)).json["error"]
    assert f'"{"q" * 60}…" (5,000 characters)' in error["message"] and len(str(error)) < 1000
