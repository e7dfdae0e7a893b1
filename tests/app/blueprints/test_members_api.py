"""/api/v1/members and /api/v1/invitations: the members page's rules as JSON, for signed-in owners only."""

from __future__ import annotations

import pytest

from tests.app.blueprints.members_helpers import local, log_in
from tests.app.trigger_helpers import bearer


@pytest.fixture
def owner(client, make_account):
    account = make_account(email="olga@example.com")
    return {"X-CSRFToken": log_in(client, account.email, account.password)}


def test_invite_list_withdraw_change_and_remove(app, client, owner, make_account):
    made = client.post("/api/v1/invitations", json={"email": "Tea@Example.com", "role": "viewer"}, headers=owner)
    assert made.status_code == 201, made.json
    assert made.json["invitation"]["email"] == "tea@example.com" and "/invite/sbi_" in made.json["link"]
    assert app.test_client().get(local(made.json["link"])).status_code == 200
    listing = client.get("/api/v1/members").json
    assert [m["email"] for m in listing["members"]] == ["olga@example.com"]
    assert [i["invited_by"] for i in listing["invitations"]] == ["olga@example.com"]

    withdrawn = client.delete(f"/api/v1/invitations/{made.json['invitation']['id']}", headers=owner)
    assert withdrawn.status_code == 200 and app.test_client().get(local(made.json["link"])).status_code == 404
    assert client.delete(f"/api/v1/invitations/{made.json['invitation']['id']}", headers=owner).status_code == 404

    make_account(email="ed@example.com", role="editor")
    ed_id = next(m["user_id"] for m in client.get("/api/v1/members").json["members"] if m["email"] == "ed@example.com")
    olga_id = next(m["user_id"] for m in client.get("/api/v1/members").json["members"] if m["role"] == "owner")
    assert client.patch(f"/api/v1/members/{ed_id}", json={"role": "viewer"}, headers=owner).json["member"]["role"] \
        == "viewer"
    last = client.patch(f"/api/v1/members/{olga_id}", json={"role": "editor"}, headers=owner)
    assert last.status_code == 409 and last.json["error"]["code"] == "last_owner"
    assert client.delete(f"/api/v1/members/{olga_id}", headers=owner).json["error"]["code"] == "last_owner"
    assert client.delete(f"/api/v1/members/{ed_id}", headers=owner).status_code == 200
    assert client.delete(f"/api/v1/members/{ed_id}", headers=owner).status_code == 404


@pytest.mark.parametrize(("body", "code"), [
    ({"email": "x@example.com", "role": "admin"}, "invalid_role"), ({"email": "x@example.com", "role": 1}, "invalid_role"),
    ({"email": ["x@example.com"], "role": "viewer"}, "invalid_email"), ({"email": "x" * 5000, "role": "viewer"}, "invalid_email"),
    ({"email": "olga@example.com", "role": "viewer"}, "already_member"), ({"email": "x@example.com"}, "missing_field"),
    ({"email": "x@example.com", "role": "viewer", "admin": True}, "unknown_field"),
])
def test_bad_invitations_are_refused_with_what_to_fix(client, owner, body, code):
    answer = client.post("/api/v1/invitations", json=body, headers=owner)
    assert answer.status_code == 400 and answer.json["error"]["code"] == code, answer.json


@pytest.mark.parametrize("user_id", ["0", "-1", "abc", "9" * 40, "1.5"])
def test_member_ids_that_cannot_exist_answer_404(client, owner, user_id):
    assert client.patch(f"/api/v1/members/{user_id}", json={"role": "viewer"}, headers=owner).status_code == 404
    assert client.delete(f"/api/v1/members/{user_id}", headers=owner).status_code == 404
    assert client.delete(f"/api/v1/invitations/{'x' * 5000}", headers=owner).status_code == 404


def test_api_keys_editors_and_strangers_are_refused(app, client, api_key, make_account):
    for method, path in (("GET", "/api/v1/members"), ("POST", "/api/v1/invitations")):
        answer = client.open(path, method=method, json={"email": "x@example.com", "role": "viewer"},
                             headers=bearer(api_key))
        assert answer.status_code == 403 and answer.json["error"]["details"]["required_permission"] == "manage_members"
    assert app.test_client().get("/api/v1/members").status_code == 401
    make_account(email="ed@example.com", password="ed password 1", role="editor")
    editor = app.test_client()
    csrf = log_in(editor, "ed@example.com", "ed password 1")
    refused = editor.post("/api/v1/invitations", json={"email": "x@example.com", "role": "viewer"},
                          headers={"X-CSRFToken": csrf})
    assert refused.status_code == 403 and "owners manage members" in refused.json["error"]["message"]
    assert client.post("/api/v1/invitations", json={"email": "x@example.com", "role": "viewer"}).status_code in (400, 401, 403)
