"""Rolling back publishes a new version only when it changes something, and refuses bad input in words.

Found by review: rolling back to a version the same as the live one (the live one itself, or one a
previous rollback already restored) published a copy under a new number, with an audit row saying
a rollback happened. Now it publishes nothing, writes nothing and says so, on the page and on the API.
"""

from __future__ import annotations

import json

import pytest

from tests.app.audit.audit_helpers import audit_rows, form_token
from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.manage.manage_helpers import publish
from tests.app.trigger_helpers import bearer


def _rows(app, flow_id: str) -> dict:
    """What a rollback could write: versions, trigger rows (with their secrets) and audit rows."""
    from app.extensions import db
    from app.models import AuditEvent, Flow, FlowVersion, Trigger

    with app.app_context():
        count = lambda model, *where: db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))  # noqa: E731
        return {"versions": count(FlowVersion, FlowVersion.flow_id == flow_id),
                "triggers": sorted((t.node_id, t.status.value, t.secret_hash) for t in db.session.execute(
                    db.select(Trigger).where(Trigger.flow_id == flow_id)).scalars()),
                "audit": count(AuditEvent),
                "latest": db.session.get(Flow, flow_id).latest_version}


def _three_versions(client, api_key) -> tuple[dict, str]:
    """v1, v2 (another text) and v3 (a rollback to v1): v1 and v3 are the same, v2 differs."""
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    url = f"/api/v1/flows/{flow['id']}"
    assert client.put(url, json={"document": with_reply_text(greeting_flow(name="Support bot"), "two")},
                      headers=bearer(api_key)).status_code == 200
    back = client.post(f"{url}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert back.status_code == 201 and back.json["version"] == 3 and back.json["published"] is True, back.json
    return flow, url


def test_rolling_back_to_a_version_the_same_as_the_live_one_publishes_nothing_and_says_so(app, client, api_key):
    flow, url = _three_versions(client, api_key)
    before = _rows(app, flow["id"])

    same = client.post(f"{url}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert same.status_code == 200, same.json
    assert same.json["published"] is False and same.json["version"] == 3
    assert same.json["message"] == "Version 1 is the same as the current version 3; nothing was published."
    assert "secrets" not in same.json  # no trigger was made again
    itself = client.post(f"{url}/rollback", json={"version": 3}, headers=bearer(api_key))
    assert itself.status_code == 200 and itself.json["published"] is False, itself.json
    assert itself.json["message"] == "Version 3 is already the current version; nothing was published."

    assert _rows(app, flow["id"]) == before  # no version, trigger or audit row was written
    assert [v["number"] for v in client.get(f"{url}/versions", headers=bearer(api_key)).json["versions"]] == [3, 2, 1]
    assert [r["details"] for r in audit_rows(app, "flow.rolled_back")] == [{"from": 2, "to": 1, "version": 3}]

    differs = client.post(f"{url}/rollback", json={"version": 2}, headers=bearer(api_key))
    assert differs.status_code == 201 and differs.json["published"] is True and differs.json["version"] == 4
    assert "message" not in differs.json
    assert audit_rows(app, "flow.rolled_back")[0]["details"] == {"from": 3, "to": 2, "version": 4}


def test_the_page_says_nothing_was_published_and_writes_nothing(app, client, auth, api_key):
    flow, url = _three_versions(client, api_key)
    before = _rows(app, flow["id"])
    page = client.post(f"/flows/{flow['id']}/versions/1/rollback", data={"csrf_token": form_token(client)},
                       follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Version 1 is the same as the current version 3; nothing was published." in html
    assert "republished" not in html
    assert _rows(app, flow["id"]) == before

    changed = client.post(f"/flows/{flow['id']}/versions/2/rollback", data={"csrf_token": form_token(client)},
                          follow_redirects=True)
    assert "Version 2 was republished as version 4." in changed.get_data(as_text=True)
    assert _rows(app, flow["id"])["latest"] == 4


def test_the_compare_answer_says_whether_two_versions_are_the_same(client, api_key):
    flow, url = _three_versions(client, api_key)
    assert client.get(f"{url}/versions/3/compare/1", headers=bearer(api_key)).json["same"] is True
    assert client.get(f"{url}/versions/3/compare/2", headers=bearer(api_key)).json["same"] is False


HOSTILE_VERSIONS = [
    ("1" + "0" * 998, 404), ("-1", 404), ("0", 404), (str(2**31), 404), (str(2**63), 404),
    ("1.5", 400), ("1e3", 400), ('"1"', 400), ('"\\ud800"', 400), ("true", 400), ("null", 400), ("[]", 400),
    ("{}", 400), ("[" * 100 + "]" * 100, 400), ("1" + "0" * 1001, 400),
]


@pytest.mark.parametrize("raw, status", HOSTILE_VERSIONS, ids=lambda value: str(value)[:20])
def test_hostile_version_values_are_a_small_4xx_saying_what_to_fix(app, client, api_key, raw, status):
    flow = publish(client, api_key, greeting_flow())
    answer = client.post(f"/api/v1/flows/{flow['id']}/rollback", data=f'{{"version": {raw}}}',
                         headers={**bearer(api_key), "Content-Type": "application/json"})
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    assert answer.json["error"]["message"] and len(answer.get_data()) < 2000
    assert _rows(app, flow["id"])["latest"] == 1


@pytest.mark.parametrize("body, content_type", [
    (b"version=1", "application/x-www-form-urlencoded"),
    (b"<rollback><version>1</version></rollback>", "application/xml"),
    (b"\xff\xfe\x00", "application/json"),
    (json.dumps({"version": 1, **{f"k{i}": i for i in range(10_000)}}).encode(), "application/json"),
    (b'{"version": 1, "\\ud800": 2}', "application/json"),
    (b"", "application/json"),
])
def test_bodies_that_are_not_a_version_are_a_small_400(app, client, api_key, body, content_type):
    flow = publish(client, api_key, greeting_flow())
    answer = client.post(f"/api/v1/flows/{flow['id']}/rollback", data=body,
                         headers={**bearer(api_key), "Content-Type": content_type})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:500]
    assert answer.json["error"]["message"] and len(answer.get_data()) < 4000
    assert _rows(app, flow["id"])["latest"] == 1


def test_another_workspaces_flow_cannot_be_rolled_back(app, client, api_key, make_account):
    from app.extensions import db
    from app.models import Flow, Workspace
    from app.services.versions import publishing

    other = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        flow_id = publishing.create_flow(db.session.get(Workspace, other.workspace_id), greeting_flow(), None).flow.id
        publishing.save_flow(db.session.get(Flow, flow_id), with_reply_text(greeting_flow(), "two"), None)
        db.session.commit()
    answer = client.post(f"/api/v1/flows/{flow_id}/rollback", json={"version": 1}, headers=bearer(api_key))
    assert answer.status_code == 404 and answer.json["error"]["code"] == "flow_not_found"
    assert _rows(app, flow_id)["latest"] == 2
