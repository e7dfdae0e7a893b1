"""Export a version as a file and import it as a new flow: what the file holds, and every way a file is refused."""

from __future__ import annotations

import io
import json

import pytest

from tests.app.flowdocs import greeting_flow
from tests.app.manage.manage_helpers import publish
from tests.app.trigger_helpers import bearer
from tests.conftest import csrf_from


def _export(client, token, flow_id, number=1):
    return client.get(f"/api/v1/flows/{flow_id}/versions/{number}/export", headers=bearer(token))


def _flow_count(client, token) -> int:
    return len(client.get("/api/v1/flows", headers=bearer(token)).json["flows"])


def test_export_is_a_download_with_the_document_name_and_description_and_no_secret(client, api_key):
    flow = publish(client, api_key, greeting_flow(key="desk", name="Front desk: orders/returns"))
    client.patch(f"/api/v1/flows/{flow['id']}", json={"description": "Answers customers."}, headers=bearer(api_key))
    answer = _export(client, api_key, flow["id"])
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="front-desk-orders-returns-v1.json"'
    data = json.loads(answer.get_data(as_text=True))
    assert data["format"] == "switchboard-flow" and data["version"] == 1
    assert data["name"] == "Front desk: orders/returns" and data["description"] == "Answers customers."
    assert data["document"] == greeting_flow(key="desk", name="Front desk: orders/returns")
    text = answer.get_data(as_text=True)
    assert flow["secrets"]["api"] not in text and "sbt_" not in text and "secret_hash" not in text
    assert _export(client, api_key, flow["id"], 2).status_code == 404
    assert client.get(f"/api/v1/flows/{flow['id']}/versions/{2**40}/export", headers=bearer(api_key)).status_code == 404


def test_an_exported_file_imports_as_a_new_flow_without_taking_the_originals_urls(client, api_key):
    flow = publish(client, api_key, greeting_flow(key="desk"))
    client.patch(f"/api/v1/flows/{flow['id']}", json={"name": "Desk", "description": "Front desk"},
                 headers=bearer(api_key))
    exported = _export(client, api_key, flow["id"]).get_data()
    answer = client.post("/api/v1/flows/import", data=exported, headers={**bearer(api_key),
                                                                          "Content-Type": "application/json"})
    assert answer.status_code == 201, answer.json
    imported = answer.json
    assert imported["id"] != flow["id"] and imported["version"] == 1
    assert imported["name"] == "Desk" and imported["description"] == "Front desk"
    assert {t["node_id"]: t["key"] for t in imported["triggers"]}["api"] == "desk-copy"
    assert imported["secrets"]["api"].startswith("sbt_")
    # A bare flow document (what POST /api/v1/flows takes) imports too, keeping a free key.
    bare = client.post("/api/v1/flows/import", json=greeting_flow(key="fresh", name="Bare"), headers=bearer(api_key))
    assert bare.status_code == 201 and bare.json["name"] == "Bare"
    assert {t["node_id"]: t["key"] for t in bare.json["triggers"]}["api"] == "fresh"


BROKEN = greeting_flow(key="broken")
BROKEN["nodes"][3]["config"] = {}  # a template node without its template


@pytest.mark.parametrize("raw, says", [
    (b"", "empty"), (b"name,document\nx,y", "not valid JSON"), (b"[1, 2]", "must be a JSON object"),
    (b'{"name": "x"}', "no document"), (b'{"document": [], "name": "x"}', "no document"),
    (b'{"document": {}, "colour": "red"}', "unknown field(s) colour"),
    (b'{"document": {"nodes": []}, "format": "other-tool"}', "format"),
    (b'{"document": {"nodes": []}, "name": 5}', "name"),
    (b'{"document": {"nodes": []}, "name": "\\ud800"}', "lone surrogate"),
    (b'{"document": ' + b"[" * 200 + b"]" * 200 + b"}", "nested"),
    (b'{"document": {"n": 1e999}}', "too large"),
])
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_created(client, api_key, raw, says):
    answer = client.post("/api/v1/flows/import", data=raw, headers={**bearer(api_key), "Content-Type": "text/plain"})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert says in answer.json["error"]["message"], answer.json
    assert _flow_count(client, api_key) == 0


def test_a_document_with_problems_lists_each_one_and_creates_nothing(client, api_key):
    answer = client.post("/api/v1/flows/import", json={"document": BROKEN, "name": "Broken"}, headers=bearer(api_key))
    assert answer.status_code == 400
    error = answer.json["error"]
    assert error["code"] == "invalid_flow_file" and "problem(s)" in error["message"]
    assert any(p.get("node_id") == "greet" for p in error["details"])
    assert _flow_count(client, api_key) == 0


def test_a_file_over_the_body_limit_is_a_413_and_creates_nothing(client, api_key):
    answer = client.post("/api/v1/flows/import", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                         headers={**bearer(api_key), "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert _flow_count(client, api_key) == 0


def _upload(client, content: bytes, filename="flow.json"):
    token = csrf_from(client.get("/flows").get_data(as_text=True))
    return client.post("/flows/import", data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_the_flows_page_imports_a_file_and_lists_the_problems_of_a_bad_one(client, auth, api_key):
    page = _upload(client, json.dumps({"document": BROKEN, "name": "Broken"}).encode())
    text = page.get_data(as_text=True)
    assert "Not imported" in text and "problem(s)" in text and "Template" in text
    assert _flow_count(client, api_key) == 0
    assert "not valid JSON" in _upload(client, b"hello").get_data(as_text=True)
    big = json.dumps({"document": {"nodes": [], "pad": "x" * 600_000}}).encode()
    assert "a flow file may be at most 512 KiB" in _upload(client, big).get_data(as_text=True)
    done = _upload(client, json.dumps({"document": greeting_flow(key="page"), "name": "From a file"}).encode())
    assert done.status_code == 200 and "Imported “From a file”" in done.get_data(as_text=True)
    assert _flow_count(client, api_key) == 1


def test_import_and_duplicate_need_a_key_that_may_create_flows_in_that_workspace(app, client, api_key, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key
    from tests.app.manage.manage_helpers import other_workspace_key

    flow = publish(client, api_key, greeting_flow(key="desk"))
    account = make_account()
    with app.app_context():
        workspace = db.session.get(Workspace, account.workspace_id)
        _, limited = create_api_key(workspace, "one flow", flow_ids=[flow["id"]])
        _, reader = create_api_key(workspace, "reader", scopes=["flows:read"])
        db.session.commit()
    file = {"document": greeting_flow(key="other")}
    for token in (limited, reader):
        assert client.post("/api/v1/flows/import", json=file, headers=bearer(token)).status_code == 403
        assert client.post(f"/api/v1/flows/{flow['id']}/duplicate", headers=bearer(token)).status_code == 403
    eve = other_workspace_key(app, make_account)
    elsewhere = client.post(f"/api/v1/flows/import?workspace_id={account.workspace_id}", json=file, headers=bearer(eve))
    assert elsewhere.status_code == 404 and elsewhere.json["error"]["code"] == "workspace_not_found"
    assert _flow_count(client, api_key) == 1
