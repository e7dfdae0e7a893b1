"""Publish only what can run: the API refuses flows that would fail for a caller, and says where.

Each refusal names the node (its display name) and the setting (its title) and publishes
nothing; warnings come back with a published flow and never block.
"""

from __future__ import annotations

import copy

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.trigger_helpers import bearer


def _create(client, api_key, document):
    return client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key))


def _versions(client, api_key, flow_id):
    return [v["number"] for v in client.get(f"/api/v1/flows/{flow_id}/versions", headers=bearer(api_key)).json["versions"]]


def _with_node(document: dict, node_id: str, **config) -> dict:
    changed = copy.deepcopy(document)
    for node in changed["nodes"]:
        if node["id"] == node_id:
            node["config"].update(config)
    return changed


def _http_flow(url: str, credential: str | None = None) -> dict:
    document = greeting_flow()
    call = {"id": "greet", "type": "http_request", "name": "Fetch status", "config": {"url": url}}
    if credential:
        call["config"]["credential"] = credential
    document["nodes"][3] = {**call, "position": {"x": 400, "y": 60}}
    for node in document["nodes"]:
        if node["type"] == "reply":
            node["config"]["text"] = "{{ nodes.greet.body }}"
    return document


def _refused(answer, code: str, node_id: str, *named: str) -> dict:
    assert answer.status_code == 400, answer.get_data(as_text=True)
    problems = answer.json["error"]["details"]
    found = [p for p in problems if p["code"] == code and p.get("node_id") == node_id]
    assert found, problems
    assert found[0]["severity"] == "error" and found[0].get("path")
    for text in named:
        assert text in found[0]["message"], found[0]["message"]
    return found[0]


def test_each_blocking_problem_is_refused_naming_node_and_field_and_nothing_is_published(client, api_key):
    flow = _create(client, api_key, greeting_flow()).json
    url = f"/api/v1/flows/{flow['id']}"
    cases = [
        (with_reply_text(greeting_flow(), ""), "empty_field", "reply", ("Answer", '"Text"')),
        (with_reply_text(greeting_flow(), "{{ inputs.mesage }}"), "unknown_input", "reply", ("Answer", "mesage")),
        (with_reply_text(greeting_flow(), "{{ nodes.template_1.text }}"), "unknown_node", "reply", ("template_1",)),
        (with_reply_text(greeting_flow(), "{{ nodes.status_reply.text }}"), "node_not_upstream", "reply",
         ("Answer", "Status")),
        (with_reply_text(greeting_flow(), "{{ nodes.greet.txt }}"), "unknown_output", "reply", ("Compose", "txt")),
        (with_reply_text(greeting_flow(), "{{ nodes.greet.text "), "template_syntax_error", "reply", ("Answer",)),
        (_http_flow("https://"), "invalid_url", "greet", ("Fetch status", '"URL"', "https://")),
        (_http_flow("status.example.com/api"), "invalid_url", "greet", ("Fetch status",)),
        (_http_flow("https://status.example.com", credential="nope"), "unknown_credential", "greet",
         ("Fetch status", '"Credential"', "nope")),
    ]
    for document, code, node_id, named in cases:
        _refused(client.put(url, json={"document": document}, headers=bearer(api_key)), code, node_id, *named)
        _refused(client.post("/api/v1/flows/validate", json={"document": document}, headers=bearer(api_key)).json
                 and client.put(url, json={"document": document}, headers=bearer(api_key)), code, node_id)
    assert _versions(client, api_key, flow["id"]) == [1]
    assert [f["id"] for f in client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"]] == [flow["id"]]


def test_a_new_flow_that_cannot_run_is_not_created(client, api_key):
    _refused(_create(client, api_key, with_reply_text(greeting_flow(), "  ")), "empty_field", "reply", "Answer")
    assert client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"] == []


def test_templated_urls_and_existing_credentials_publish(client, api_key):
    created = client.post("/api/v1/credentials", json={"name": "status-token", "kind": "bearer", "value": "s3cret"},
                          headers=bearer(api_key))
    assert created.status_code == 201, created.json
    for url in ("{{ inputs.message }}", "https://status.example.com/{{ inputs.message | urlencode }}",
                "https://{{ inputs.person }}.example.com/api"):
        document = _http_flow(url, credential="status-token")
        document["nodes"][0]["config"]["key"] = f"k{abs(hash(url))}"
        answer = _create(client, api_key, document)
        assert answer.status_code == 201, answer.json


def test_schedule_inputs_must_satisfy_the_start_node(client, api_key):
    document = greeting_flow()
    document["nodes"][1] = {"id": "manual", "type": "schedule_trigger", "name": "Every morning",
                            "config": {"inputs": {"person": "Ann"}}, "position": {"x": 0, "y": 120}}
    _refused(_create(client, api_key, document), "invalid_schedule_inputs", "manual", "Every morning", "message")
    document["nodes"][1]["config"]["inputs"] = {"user_message": "status please"}  # the message alias fills it
    assert _create(client, api_key, document).status_code == 201


def test_warnings_are_returned_with_the_published_flow(client, api_key):
    document = greeting_flow()
    document["edges"] = [e for e in document["edges"] if e["id"] != "e6"]  # the "else" branch now ends nowhere
    document["nodes"] = [n for n in document["nodes"] if n["id"] != "reply"]
    created = _create(client, api_key, document)
    assert created.status_code == 201, created.json
    assert created.json["published"] is True
    [warning] = created.json["warnings"]
    assert warning["code"] == "branch_without_reply" and warning["severity"] == "warning"
    assert warning["node_id"] == "route" and "Status?" in warning["message"]

    saved = client.put(f"/api/v1/flows/{created.json['id']}", json={"document": greeting_flow()},
                       headers=bearer(api_key))
    assert saved.status_code == 200 and saved.json["warnings"] == []
    back = client.post(f"/api/v1/flows/{created.json['id']}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert back.status_code == 201 and [w["code"] for w in back.json["warnings"]] == ["branch_without_reply"]

    checked = client.post("/api/v1/flows/validate", json={"document": document}, headers=bearer(api_key))
    assert checked.status_code == 200 and [p["severity"] for p in checked.json["problems"]] == ["warning"]


def test_rollback_to_a_version_that_can_no_longer_run_is_refused(client, api_key):
    auth = bearer(api_key)
    credential = client.post("/api/v1/credentials", json={"name": "tok", "kind": "bearer", "value": "s3cret"},
                             headers=auth).json
    flow = _create(client, api_key, _http_flow("https://status.example.com", credential="tok")).json
    assert client.put(f"/api/v1/flows/{flow['id']}", json={"document": greeting_flow()}, headers=auth).status_code == 200
    assert client.delete(f"/api/v1/credentials/{credential['id']}", headers=auth).status_code in (200, 204)
    _refused(client.post(f"/api/v1/flows/{flow['id']}/rollback", json={"version": 1}, headers=auth),
             "unknown_credential", "greet", "tok")
    assert _versions(client, api_key, flow["id"]) == [2, 1]


def test_validate_checks_credentials_in_the_flows_workspace_and_refuses_bad_ids(client, api_key):
    auth = bearer(api_key)
    flow = _create(client, api_key, greeting_flow()).json
    document = _http_flow("https://status.example.com", credential="missing")
    by_flow = client.post("/api/v1/flows/validate", json={"document": document, "flow_id": flow["id"]}, headers=auth)
    assert "unknown_credential" in {p["code"] for p in by_flow.json["problems"]}
    for body, status in (({"flow_id": 5}, 400), ({"flow_id": "nope"}, 404), ({"workspace_id": "nope"}, 404),
                         ({"workspace_id": ["x"]}, 400)):
        answer = client.post("/api/v1/flows/validate", json={"document": document, **body}, headers=auth)
        assert answer.status_code == status, (body, answer.json)


def test_a_trailing_comment_opener_is_refused_like_any_unclosed_comment(client, api_key):
    # "Hi {#" passed the check and the run answered "Hi ", dropping the rest without a word.
    for text in ("Hi {#", "Hi {# note"):
        answer = _create(client, api_key, with_reply_text(greeting_flow(), text))
        problem = _refused(answer, "template_syntax_error", "reply")
        assert problem["message"] == ('Answer: "Text" is not a valid template (line 1: a comment "{#" is never '
                                      'closed: add "#}"); fix it, or pick a value with Insert value.'), text


def test_an_unclosed_quote_is_said_in_words(client, api_key):
    answer = _create(client, api_key, with_reply_text(greeting_flow(), "{{ 'abc }}"))
    problem = _refused(answer, "template_syntax_error", "reply")
    assert "a quote (') is never closed: add another ' after the text" in problem["message"]
    assert "unexpected char" not in problem["message"]
