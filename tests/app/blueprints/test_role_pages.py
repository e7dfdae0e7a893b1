"""Pages show what the role may do and nothing else: a viewer sees no buttons that would be refused,
an editor no API keys link or workspace settings, an owner everything."""

from __future__ import annotations

import json
import re

import pytest

from tests.app.flowdocs import greeting_flow
from tests.app.role_clients import signed_in
from tests.app.runsetup import Flows
from tests.app.trigger_helpers import bearer
from tests.conftest import wait_for

CANVAS_DATA = re.compile(r'<script type="application/json" id="canvas-data">(.*?)</script>', re.S)


@pytest.fixture
def pages(app, client, api_key, make_account):
    """A published flow with a finished run and a credential; the owner, an editor and a viewer signed in."""
    flows = Flows(client, api_key)
    flow = flows.publish(greeting_flow(key="pages"))
    run_id = flows.call(flow, "hello")["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json["status"]
             in ("succeeded", "failed"), timeout=60)
    client.post("/api/v1/credentials", json={"name": "pages-cred", "kind": "bearer", "value": "v"},
                headers=bearer(api_key))
    accounts = {"owner": make_account(), **{role: make_account(email=f"{role}@example.com", role=role)
                                            for role in ("editor", "viewer")}}
    return flow["id"], run_id, {role: signed_in(app, account) for role, account in accounts.items()}


def _text(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def _canvas(client, path: str) -> dict:
    return json.loads(CANVAS_DATA.search(_text(client, path)).group(1))


def test_a_viewer_sees_no_button_that_would_be_refused(pages):
    flow_id, run_id, clients = pages
    viewer = clients["viewer"]
    flows = _text(viewer, "/flows")
    for absent in ("Create flow", 'id="import-flow"', ">Duplicate<", ">Set<", "API keys"):
        assert absent not in flows, absent
    assert re.search(r'name="timezone"[^>]*disabled', flows)
    flow_page = _text(viewer, f"/flows/{flow_id}")
    for absent in (">Archive<", ">Duplicate<", ">Rotate secret<", ">Rename<", 'class="runform"'):
        assert absent not in flow_page, absent
    assert {"readonly": True, "can_edit": False, "can_run": False}.items() <= _canvas(viewer, f"/flows/{flow_id}").items()
    run_page = _text(viewer, f"/runs/{run_id}")
    assert "Replay on" not in run_page and "Cancel run" not in run_page
    credentials = _text(viewer, "/credentials")
    for absent in ("Save credential", ">Replace<", ">Delete<"):
        assert absent not in credentials, absent
    assert "pages-cred" in credentials and "not add, change or delete them" in credentials


def test_an_editor_edits_and_runs_but_sees_no_owner_settings(pages):
    flow_id, run_id, clients = pages
    editor = clients["editor"]
    flows = _text(editor, "/flows")
    assert "Create flow" in flows and 'id="import-flow"' in flows
    assert "API keys" not in flows and ">Set<" not in flows
    assert re.search(r'name="timezone"[^>]*disabled', flows)
    assert {"readonly": False, "can_edit": True, "can_run": True}.items() <= _canvas(editor, f"/flows/{flow_id}").items()
    assert 'class="runform"' in _text(editor, f"/flows/{flow_id}")
    assert "Replay on" in _text(editor, f"/runs/{run_id}")
    assert "Save credential" in _text(editor, "/credentials")


def test_an_owner_sees_the_api_keys_link_and_the_workspace_settings(pages):
    _, _, clients = pages
    flows = _text(clients["owner"], "/flows")
    assert 'href="/settings/api-keys">API keys</a>' in flows and ">Set<" in flows
    assert not re.search(r'name="timezone"[^>]*disabled', flows)
