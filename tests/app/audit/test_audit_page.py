"""The owners' audit page: who did what on what, in words, newest first, 50 a page, filtered by kind."""

from __future__ import annotations

import html as markup
import re

from tests.app.audit.audit_helpers import form_token
from tests.app.audit.test_audit_read import _events
from tests.app.flowdocs import greeting_flow
from tests.app.manage.manage_helpers import publish


def _rows(html: str) -> list[str]:
    return [markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip())
            for row in re.findall(r"<tr data-audit-event.*?</tr>", html, re.S)]


def test_an_owner_sees_who_did_what_on_what_in_words_with_a_link_to_the_flow(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    client.post(f"/flows/{flow['id']}/archive", data={"csrf_token": form_token(client)})
    client.post("/api/v1/credentials", json={"name": "openai", "kind": "bearer", "value": "sk-x-1"},
                headers={"Authorization": f"Bearer {api_key}"})
    html = client.get("/settings/audit").get_data(as_text=True)
    assert "sk-x-1" not in html
    assert 'href="/settings/audit">Audit log</a>' in html  # the nav link, for owners
    rows = _rows(html)
    assert rows[0].endswith("API key “tests” Added a credential openai Kind: Bearer token."), rows[0]
    assert "owner@example.com Archived a flow Support bot" in rows[1]
    assert "API key “tests” Published a flow Support bot Version 1 is live." in rows[2]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows[0])
    assert f'<a href="/flows/{flow["id"]}">Support bot</a>' in html
    assert "The server's command line Created an API key tests" in rows[-1]
    for internal in ("flow.published", "api_key", "{", "None"):
        assert all(internal not in row for row in rows), internal


def test_the_filter_offers_every_kind_in_words_and_shows_only_that_kind(app, client, auth, api_key):
    publish(client, api_key, greeting_flow(name="Support bot"))
    _events(app, auth.workspace_id, 2, "Old flow")
    html = client.get("/settings/audit?action=flow.archived").get_data(as_text=True)
    assert '<option value="flow.archived" selected>Archived a flow</option>' in html
    assert '<option value="">Every kind of change</option>' in html
    assert [row.split(" Archived a flow ")[1] for row in _rows(html)] == ["Old flow 1", "Old flow 0"]
    empty = client.get("/settings/audit?action=member.removed").get_data(as_text=True)
    assert "No “Removed a member” changes." in empty
    assert client.get("/settings/audit?action=").status_code == 200  # "Every kind" sends an empty value


def test_fifty_a_page_with_an_older_link_that_keeps_the_filter(app, client, auth):
    _events(app, auth.workspace_id, 120, "Flow")
    first = client.get("/settings/audit?action=flow.archived").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "Flow 119" in _rows(first)[0]
    older = re.search(r'href="([^"]+)" rel="next">Older', first).group(1).replace("&amp;", "&")
    assert "action=flow.archived" in older and "← Newest" not in first
    second = client.get(older).get_data(as_text=True)
    assert "Flow 69" in _rows(second)[0] and "← Newest" in second
    assert client.get("/settings/audit?limit=10").get_data(as_text=True).count("limit=10") == 1  # kept by Older
    third = client.get(re.search(r'href="([^"]+)" rel="next">Older', second).group(1).replace("&amp;", "&"))
    assert len(_rows(third.get_data(as_text=True))) == 20 and 'rel="next"' not in third.get_data(as_text=True)


def test_a_rotated_trigger_secret_links_to_its_flow(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    client.post(f"/api/v1/flows/{flow['id']}/triggers/api/rotate-secret", headers={"Authorization": f"Bearer {api_key}"})
    html = client.get("/settings/audit").get_data(as_text=True)
    assert "API key “tests” Made a new trigger secret REST in Support bot A new secret; the old one stopped working." \
        in markup.unescape(_rows(html)[0])
    assert f'<a href="/flows/{flow["id"]}">REST in Support bot</a>' in html


def test_details_of_a_kind_without_its_own_sentence_still_read_as_words(app, client, auth):
    from app.extensions import db
    from app.services import audit

    with app.app_context():
        audit.record(auth.workspace_id, audit.Action.MEMBER_REMOVED, target_type="user", target_id="7",
                     target_label="Bea", details={"to_role": "editor", "from_role": "viewer", "notified": True},
                     actor=audit.Actor(label="Ana"))
        db.session.commit()
    row = _rows(client.get("/settings/audit").get_data(as_text=True))[0]
    assert row.endswith("Ana Removed a member Bea From role: viewer; Notified: yes; To role: editor"), row
    with app.app_context():
        audit.record(auth.workspace_id, audit.Action.MEMBER_ROLE_CHANGED, target_type="user", target_id="7",
                     target_label="Bea", details={"from": "viewer", "to": "editor"}, actor=audit.Actor(label="Ana"))
        db.session.commit()
    row = _rows(client.get("/settings/audit").get_data(as_text=True))[0]
    assert row.endswith("Ana Changed a member's role Bea From viewer to editor."), row
