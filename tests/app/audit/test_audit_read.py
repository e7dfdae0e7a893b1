"""Reading the audit log: GET /api/v1/audit and the /settings/audit page — owners only, newest first,
paged by a cursor that stays right while events arrive, filtered by kind, one workspace at a time,
and every malformed parameter answered with a 400 naming it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.app.audit.audit_helpers import sign_in
from tests.app.flowdocs import greeting_flow
from tests.app.manage.manage_helpers import publish
from tests.app.trigger_helpers import bearer


def _events(app, workspace_id: str, count: int, label: str = "Flow", at: datetime | None = None) -> None:
    """Log `count` archive events (`label` 0…n-1), all at the same instant when `at` is given."""
    from app.extensions import db
    from app.services import audit

    with app.app_context():
        for number in range(count):
            event = audit.record(workspace_id, audit.Action.FLOW_ARCHIVED, target_type="flow",
                                 target_label=f"{label} {number}", actor=audit.Actor(label="Ana"))
            if at is not None:
                event.created_at = at
        db.session.commit()


def _all_pages(client, query: str = "", limit: int = 3) -> list[dict]:
    seen, cursor = [], None
    for _ in range(100):
        answer = client.get(f"/api/v1/audit?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status_code == 200, answer.json
        seen += answer.json["data"]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def test_an_owner_reads_events_newest_first_in_the_documented_shape(app, client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(name="Support bot"))
    answer = client.get("/api/v1/audit")
    assert answer.status_code == 200, answer.json
    newest = answer.json["data"][0]
    assert set(newest) == {"id", "at", "action", "action_words", "actor", "target", "details"}
    assert (newest["action"], newest["action_words"]) == ("flow.published", "Published a flow")
    assert newest["actor"]["label"] == "API key “tests”" and newest["actor"]["user_id"] is None
    assert newest["actor"]["api_key_id"]
    assert newest["target"] == {"type": "flow", "id": flow["id"], "label": "Support bot"}
    assert newest["details"] == {"version": 1} and newest["at"].endswith("Z")
    assert answer.json["data"][-1]["action"] == "api_key.created"  # the fixture's key, from the command line
    assert answer.json["data"][-1]["actor"] == {"label": "The server's command line", "user_id": None,
                                                "api_key_id": None}
    assert answer.json["next_cursor"] is None


def test_pages_neither_repeat_nor_skip_rows_at_the_same_instant_nor_when_new_ones_arrive(app, client, auth):
    instant = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    _events(app, auth.workspace_id, 7, "Tie", at=instant)
    _events(app, auth.workspace_id, 5, "Later")
    first = client.get("/api/v1/audit?limit=4").json
    _events(app, auth.workspace_id, 3, "Newer")  # arrive while someone pages back
    rest = _all_pages(client, "", limit=4)  # from the top again, for the expected order
    cursor, paged = first["next_cursor"], list(first["data"])
    while cursor:
        answer = client.get(f"/api/v1/audit?limit=4&cursor={cursor}").json
        paged += answer["data"]
        cursor = answer["next_cursor"]
    labels = [e["target"]["label"] for e in paged]
    assert len(labels) == len(set(labels)) == 12  # 7 + 5 before the new ones, each once
    assert labels == [e["target"]["label"] for e in rest if not e["target"]["label"].startswith("Newer")][:12]
    assert labels[:5] == [f"Later {n}" for n in range(4, -1, -1)]


def test_the_action_filter_and_the_limit(app, client, auth, api_key):
    publish(client, api_key, greeting_flow())
    _events(app, auth.workspace_id, 3)
    archived = client.get("/api/v1/audit?action=flow.archived&limit=2").json
    assert [e["action"] for e in archived["data"]] == ["flow.archived"] * 2 and archived["next_cursor"]
    assert len(_all_pages(client, "&action=flow.archived")) == 3
    assert [e["action"] for e in client.get("/api/v1/audit?action=flow.published").json["data"]] == ["flow.published"]
    assert client.get("/api/v1/audit?action=member.removed").json == {"data": [], "next_cursor": None}
    assert len(client.get("/api/v1/audit?limit=1").json["data"]) == 1


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_are_refused_on_the_api_and_the_page(app, client, make_account, role):
    owner = make_account()
    _events(app, owner.workspace_id, 1)
    sign_in(client, make_account(email=f"{role}@example.com", role=role))
    answer = client.get("/api/v1/audit")
    assert answer.status_code == 403 and answer.json["error"]["details"]["required_permission"] == "view_audit"
    assert "owners" in answer.json["error"]["message"]
    page = client.get("/settings/audit")
    assert page.status_code == 403 and "owners read the audit log." in page.get_data(as_text=True)
    assert "Audit log" not in client.get("/flows").get_data(as_text=True)


def test_api_keys_are_refused_even_with_every_scope(app, client, api_key):
    answer = client.get("/api/v1/audit", headers=bearer(api_key))
    assert answer.status_code == 403 and answer.json["error"]["details"]["required_permission"] == "view_audit"
    assert client.get("/api/v1/audit").status_code == 401  # nobody signed in, no key


def test_another_workspaces_events_are_never_visible(app, client, make_account):
    mine = make_account()
    theirs = make_account(email="eve@example.com", workspace="Elsewhere")
    _events(app, theirs.workspace_id, 3, "Secret plan")
    _events(app, mine.workspace_id, 3, "Mine")
    sign_in(client, mine)
    labels = [e["target"]["label"] for e in _all_pages(client, limit=2)]
    assert labels and not any("Secret plan" in label for label in labels)
    assert client.get(f"/api/v1/audit?workspace_id={theirs.workspace_id}").status_code == 404
    assert "Secret plan" not in client.get("/settings/audit").get_data(as_text=True)

    other = client.application.test_client()
    sign_in(other, theirs)
    their_cursor = other.get("/api/v1/audit?limit=1").json["next_cursor"]
    replayed = client.get(f"/api/v1/audit?limit=1&cursor={their_cursor}")
    assert replayed.status_code == 400 and replayed.json["error"]["details"][0]["field"] == "cursor"


HOSTILE = [
    ("limit=0", "limit"), ("limit=-1", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=1e3", "limit"),
    ("limit=" + "9" * 10000, "limit"), ("limit=%EF%BC%95", "limit"), ("limit=%ED%A0%80", "limit"), ("limit=+5", "limit"),
    ("limit=1&limit=2", "limit"), ("cursor=garbage", "cursor"), ("cursor=" + "a" * 10000, "cursor"),
    ("cursor=%ED%A0%80", "cursor"), ("cursor=W10.bad", "cursor"),
    ("action=flow.exploded", "action"), ("action=%ED%A0%80", "action"), ("action=" + "x" * 10000, "action"),
    ("action=flow.archived&action=flow.published", "action"), ("%ED%A0%80=1", ""), ("x" * 10000 + "=1", "x" * 40),
]


@pytest.mark.parametrize("query,field", HOSTILE, ids=[q[:40] for q, _ in HOSTILE])
def test_hostile_parameters_get_a_400_naming_the_parameter(app, client, auth, query, field):
    _events(app, auth.workspace_id, 2)
    answer = client.get(f"/api/v1/audit?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    error = answer.json["error"]
    assert error["code"] == "invalid_parameter" and error["details"][0]["field"].startswith(field)
    assert len(answer.get_data()) < 4000
    page = client.get(f"/settings/audit?{query}")
    assert page.status_code == 400 and "<html" in page.get_data(as_text=True)


def test_a_tampered_cursor_is_refused(app, client, auth):
    _events(app, auth.workspace_id, 3)
    cursor = client.get("/api/v1/audit?limit=1").json["next_cursor"]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    answer = client.get(f"/api/v1/audit?limit=1&cursor={flipped}")
    assert answer.status_code == 400 and "next_cursor" in answer.json["error"]["message"]
    assert client.get(f"/api/v1/audit?limit=1&cursor={cursor}").status_code == 200
