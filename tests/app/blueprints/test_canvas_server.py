"""What the canvas page relies on from the server: its data, panels, validation and Run now."""

from __future__ import annotations

import html
import json
import re

from tests.app.flowdocs import greeting_flow, with_reply_text, without_node
from tests.conftest import csrf_from, wait_for


def _canvas_data(page_html: str) -> dict:
    match = re.search(r'<script type="application/json" id="canvas-data">(.*?)</script>', page_html, re.S)
    assert match, "the page carries no canvas data"
    return json.loads(match.group(1))


def _publish(app, account, document=None):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, account.workspace_id), document or greeting_flow(), None)
        db.session.commit()
        return result.flow.id, result.secrets


def test_new_flow_opens_an_empty_canvas_and_the_first_save_is_version_1(client, auth):
    page = client.get("/flows").get_data(as_text=True)
    response = client.post("/flows/new", data={"name": "Support bot", "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    canvas_page = client.get(response.headers["Location"]).get_data(as_text=True)
    data = _canvas_data(canvas_page)
    assert data["version"] == 0 and data["document"]["nodes"] == [] and data["readonly"] is False
    assert {entry["type"] for entry in data["palette"]} >= {"api_trigger", "start", "template", "condition", "reply"}

    token = csrf_from(canvas_page)
    saved = client.put(data["urls"]["save"], json={"document": greeting_flow(), "base_version": 0},
                       headers={"X-CSRFToken": token})
    assert saved.status_code == 200, saved.json
    assert saved.json["version"] == 1 and saved.json["secrets"]["api"].startswith("sbt_")
    assert "not published yet" not in client.get(data["urls"]["flow_page"]).get_data(as_text=True)


def test_new_flow_needs_a_name(client, auth):
    page = client.get("/flows").get_data(as_text=True)
    response = client.post("/flows/new", data={"name": "  ", "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Give the flow a name" in response.get_data(as_text=True)


def test_run_now_on_an_unpublished_flow_says_save_first(client, auth):
    page = client.get("/flows").get_data(as_text=True)
    location = client.post("/flows/new", data={"name": "Draft", "csrf_token": csrf_from(page)}).headers["Location"]
    data = _canvas_data(client.get(location).get_data(as_text=True))
    response = client.post(data["urls"]["run"], json={}, headers={"X-CSRFToken": csrf_from(page)})
    assert response.status_code == 409 and response.json["error"]["code"] == "not_published"


def test_validate_returns_problems_without_saving(client, auth):
    token = csrf_from(client.get("/flows").get_data(as_text=True))
    broken = without_node(greeting_flow(), "greet")
    response = client.post("/api/v1/flows/validate", json={"document": broken}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    problems = response.json["problems"]
    assert problems and all("message" in p for p in problems)
    ok = client.post("/api/v1/flows/validate", json={"document": greeting_flow()}, headers={"X-CSRFToken": token})
    assert ok.json["problems"] == []


def test_run_now_from_the_canvas_enters_at_the_start_node(client, app, auth):
    flow_id, _ = _publish(app, auth)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    data = _canvas_data(page)
    response = client.post(data["urls"]["run"], json={"message": "from canvas"}, headers={"X-CSRFToken": csrf_from(page)})
    assert response.status_code == 202
    status_url = data["urls"]["run_status"].replace("__RUN__", response.json["run_id"])
    run = wait_for(lambda: (r := client.get(status_url).json)["status"] == "succeeded" and r)
    assert [s["node_id"] for s in run["steps"]] == ["start", "greet", "route", "reply"]
    assert run["output"]["text"] == "Hello friend x1: from canvas"


def test_trigger_panel_snippets_are_requests_the_flow_accepts(client, app, auth):
    flow_id, secrets = _publish(app, auth)
    data = _canvas_data(client.get(f"/flows/{flow_id}").get_data(as_text=True))
    panel = client.get(data["urls"]["trigger_panel"].replace("__NODE__", "api")).get_data(as_text=True)
    assert f"/hooks/{auth.workspace_id}/hello" in panel
    for language in ("curl", "python", "javascript"):
        assert f'data-snippet="{language}"' in panel
    curl = html.unescape(re.search(r'data-snippet="curl">(.*?)</pre>', panel, re.S).group(1))
    body = json.loads(re.search(r"-d '(.*)'", curl).group(1))
    path = "/" + re.search(r"curl -X POST '(\S+)'", curl).group(1).split("://", 1)[1].split("/", 1)[1]
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {secrets['api']}"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "succeeded"


def test_rotating_from_the_panel_shows_the_new_secret_in_the_fragment(client, app, auth):
    flow_id, secrets = _publish(app, auth)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/triggers/api/rotate",
                           headers={"HX-Request": "true", "X-CSRFToken": csrf_from(page)})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    new_secret = re.search(r"data-trigger-secret>(sbt_[^<]+)<", fragment).group(1)
    assert new_secret != secrets["api"] and f"Bearer {new_secret}" in html.unescape(fragment)


def test_version_history_says_who_when_and_what_changed(client, app, auth):
    from app.extensions import db
    from app.models import Flow, User
    from app.services.versions import publishing

    flow_id, _ = _publish(app, auth)
    with app.app_context():
        user = db.session.execute(db.select(User)).scalars().first()
        publishing.save_flow(db.session.get(Flow, flow_id), with_reply_text(greeting_flow(), "changed"), user)
        db.session.commit()
    panel = client.get(f"/flows/{flow_id}/versions").get_data(as_text=True)
    assert "1 node changed (Answer)" in panel
    assert auth.email in panel and "Roll back to v1" in panel
    old = client.get(f"/flows/{flow_id}/versions/1").get_data(as_text=True)
    data = _canvas_data(old)
    assert data["readonly"] is True and data["version"] == 1
