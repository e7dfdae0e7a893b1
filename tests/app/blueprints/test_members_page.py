"""The members page and the invitation page: an owner brings a teammate in, with nothing but the browser's forms."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest

from app.extensions import db
from app.models import AuditEvent, Invitation, Membership, Role, User
from app.models.types import utcnow
from tests.app.blueprints.members_helpers import local, log_in, shown_link, token_of


@pytest.fixture
def owner(client, make_account):
    account = make_account(email="olga@example.com")
    return account, log_in(client, account.email, account.password)


def _invite(client, csrf, email="tea@example.com", role="editor"):
    return client.post("/settings/members/invite", data={"email": email, "role": role, "csrf_token": csrf})


def test_an_invited_teammate_sets_a_password_and_lands_in_the_workspace(app, client, owner):
    account, csrf = owner
    page = client.get("/settings/members").get_data(as_text=True)
    for words in ("Invite a teammate", "Editor", "Create, change, publish and run flows", "olga@example.com"):
        assert words in page
    answer = _invite(client, csrf, "Tea@Example.com")
    assert answer.status_code == 201
    link = shown_link(answer.get_data(as_text=True))
    assert f'data-copy="{link}"' in answer.get_data(as_text=True) and "/invite/sbi_" in link
    assert "tea@example.com" in client.get("/settings/members").get_data(as_text=True)

    teammate = app.test_client()
    invite_page = teammate.get(local(link)).get_data(as_text=True)
    assert "Join Acme" in invite_page and "as <strong>editor</strong>" in invite_page and "olga@example.com" in invite_page
    form = {"name": "Tea Person", "password": "tea's long password", "password2": "tea's long password",
            "csrf_token": token_of(teammate, local(link))}
    short = teammate.post(local(link), data={**form, "password": "short", "password2": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    joined = teammate.post(local(link), data=form)
    assert joined.status_code == 302 and joined.headers["Location"].endswith("/flows")
    assert "Acme" in teammate.get("/flows").get_data(as_text=True)

    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "tea@example.com")).scalar_one()
        assert user.name == "Tea Person" and db.session.get(Membership, (user.id, account.workspace_id)).role is Role.EDITOR
    again = app.test_client().get(local(link))
    assert again.status_code == 404 and "no longer valid" in again.get_data(as_text=True)


@pytest.mark.parametrize("spoil", ["expired", "withdrawn", "used", "unknown", "huge"])
def test_every_dead_link_gets_the_same_plain_page(app, client, owner, spoil):
    _, csrf = owner
    link = local(shown_link(_invite(client, csrf).get_data(as_text=True)))
    with app.app_context():
        invitation = db.session.execute(db.select(Invitation)).scalar_one()
        if spoil == "expired":
            invitation.expires_at = utcnow() - timedelta(seconds=1)
        elif spoil == "withdrawn":
            invitation.revoked_at = utcnow()
        elif spoil == "used":
            invitation.accepted_at = utcnow()
        db.session.commit()
    path = {"unknown": "/invite/sbi_nothing", "huge": "/invite/" + "x" * 100_000}.get(spoil, link)
    for answer in (app.test_client().get(path), app.test_client().post(path, data={"name": "x"})):
        assert answer.status_code in (404, 400), answer.status_code
    answer = app.test_client().get(path)
    assert answer.status_code == 404
    assert "This invitation link is no longer valid — ask for a new one." in answer.get_data(as_text=True)


def test_withdrawing_kills_the_link(app, client, owner):
    _, csrf = owner
    link = local(shown_link(_invite(client, csrf).get_data(as_text=True)))
    with app.app_context():
        invitation_id = db.session.execute(db.select(Invitation.id)).scalar_one()
    answer = client.post(f"/settings/members/invitations/{invitation_id}/withdraw", data={"csrf_token": csrf},
                         follow_redirects=True)
    assert "was withdrawn" in answer.get_data(as_text=True) and "No pending invitations." in answer.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 404


def test_inviting_a_member_or_nonsense_is_refused_in_words(client, owner):
    _, csrf = owner
    for email, role, says in [("olga@example.com", "viewer", "already a member"), ("nope", "viewer", "email address"),
                              ("x@example.com", "admin", "Choose a role"), ("a@b.co" + "x" * 5000, "viewer", "320"),
                              ("", "", "Enter an email")]:
        answer = _invite(client, csrf, email, role)
        assert answer.status_code == 400, (email, answer.status_code)
        assert says in answer.get_data(as_text=True), email
    for raw in (b"email=%ED%A0%80@example.com&role=viewer", b"email=a%FF@example.com&role=viewer",
                b"email=x@example.com&role=%ED%A0%80", b"email=x@example.com&email=y@example.com&role=editor&role=owner"):
        answer = client.post("/settings/members/invite", data=raw + b"&csrf_token=" + csrf.encode(),
                             content_type="application/x-www-form-urlencoded")
        assert answer.status_code in (400, 201), (raw, answer.status_code)
        assert answer.status_code == 201 or "Enter an email" in answer.get_data(as_text=True) \
            or "Choose a role" in answer.get_data(as_text=True) \
            or "not valid text (UTF-8)" in answer.get_data(as_text=True), raw
    wrong_type = client.post("/settings/members/invite", data=b'{"email": "j@example.com", "role": "viewer"}',
                             content_type="application/json", headers={"X-CSRFToken": csrf})
    assert wrong_type.status_code == 400 and "Enter an email" in wrong_type.get_data(as_text=True)


def test_an_existing_account_joins_with_a_button_and_someone_else_is_told_plainly(app, client, owner, make_account):
    _, csrf = owner
    make_account(email="ed@example.com", password="ed password 1", workspace="Other")
    make_account(email="zoe@example.com", password="zoe password", workspace="Zed")
    link = local(shown_link(_invite(client, csrf, "ed@example.com", "viewer").get_data(as_text=True)))

    stranger = app.test_client()
    assert "Log in to join" in stranger.get(link).get_data(as_text=True)
    zoe = app.test_client()
    log_in(zoe, "zoe@example.com", "zoe password")
    assert "You are logged in as <strong>zoe@example.com</strong>" in zoe.get(link).get_data(as_text=True)
    refused = zoe.post(link, data={"csrf_token": token_of(zoe, link)})
    assert refused.status_code == 403

    ed = app.test_client()
    log_in(ed, "ed@example.com", "ed password 1")
    joined = ed.post(link, data={"csrf_token": token_of(ed, link)})
    assert joined.status_code == 302
    assert "Acme" in ed.get("/flows").get_data(as_text=True)


def test_roles_change_and_members_leave_but_the_last_owner_stays(app, client, owner, make_account):
    account, csrf = owner
    make_account(email="ed@example.com", password="ed password 1", role="editor")
    ed = app.test_client()
    log_in(ed, "ed@example.com", "ed password 1")
    with app.app_context():
        olga_id, ed_id = (db.session.execute(db.select(User.id).where(User.email == e)).scalar_one()
                          for e in ("olga@example.com", "ed@example.com"))

    demoted = client.post(f"/settings/members/{olga_id}/role", data={"role": "viewer", "csrf_token": csrf})
    assert demoted.status_code == 409 and "last owner of Acme" in demoted.get_data(as_text=True)
    bad = client.post(f"/settings/members/{ed_id}/role", data={"role": "superuser", "csrf_token": csrf})
    assert bad.status_code == 400 and "Choose a role" in bad.get_data(as_text=True)
    assert client.post("/settings/members/99999999999999999999999/role", data={"role": "viewer",
                                                                               "csrf_token": csrf}).status_code == 404
    changed = client.post(f"/settings/members/{ed_id}/role", data={"role": "viewer", "csrf_token": csrf},
                          follow_redirects=True)
    assert "is now viewer" in changed.get_data(as_text=True)

    removed = client.post(f"/settings/members/{ed_id}/remove", data={"csrf_token": csrf}, follow_redirects=True)
    assert "signed out everywhere" in removed.get_data(as_text=True)
    assert ed.get("/flows").status_code == 302, "the removed member's session ended at once"
    assert client.post(f"/settings/members/{olga_id}/remove", data={"csrf_token": csrf}).status_code == 409
    with app.app_context():
        actions = {e.action for e in db.session.execute(db.select(AuditEvent)).scalars()}
    assert {"member.role_changed", "member.removed"} <= actions


def test_an_editor_gets_the_refusal_page_and_no_members_link(client, make_account):
    make_account(email="olga@example.com")
    make_account(email="ed@example.com", password="ed password 1", role="editor")
    csrf = log_in(client, "ed@example.com", "ed password 1")
    page = client.get("/settings/members")
    assert page.status_code == 403 and "Only the workspace's owners manage members." in unescape(page.get_data(as_text=True))
    assert _invite(client, csrf).status_code == 403
    assert 'href="/settings/members"' not in client.get("/flows").get_data(as_text=True)


def test_the_owner_sees_the_members_link(client, owner):
    assert 'href="/settings/members"' in client.get("/flows").get_data(as_text=True)


def test_an_owner_made_reset_link_sets_a_password_and_ends_other_sessions(app, client, owner, make_account):
    _, csrf = owner
    make_account(email="ed@example.com", password="ed password 1", role="editor")
    old_session = app.test_client()
    log_in(old_session, "ed@example.com", "ed password 1")
    with app.app_context():
        ed_id = db.session.execute(db.select(User.id).where(User.email == "ed@example.com")).scalar_one()
    made = client.post(f"/settings/members/{ed_id}/reset-link", data={"csrf_token": csrf})
    assert made.status_code == 201 and "Password reset link for ed@example.com" in made.get_data(as_text=True)
    link = local(shown_link(made.get_data(as_text=True)))

    ed = app.test_client()
    assert "Set a new password" in ed.get(link).get_data(as_text=True)
    form = {"password": "ed's new password", "password2": "ed's new password", "csrf_token": token_of(ed, link)}
    assert ed.post(link, data=form).status_code == 302
    assert ed.get("/flows").status_code == 200, "the person who reset is signed in"
    assert old_session.get("/flows").status_code == 302, "every other session ended"
    assert app.test_client().get(link).status_code == 404
    log_in(app.test_client(), "ed@example.com", "ed's new password")


def test_forgot_without_mail_says_to_ask_an_owner(client):
    page = client.get("/forgot").get_data(as_text=True)
    assert "Ask an owner of your workspace for a reset link" in page
    assert "Forgot your password?" not in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("fields", [
    {"name": "x" * 5000}, {"name": ""}, {"password": "p" * 5000, "password2": "p" * 5000}, {"password2": "other one!!"},
    {"name": "   "},
])
def test_hostile_accept_forms_get_a_plain_400_and_change_nothing(app, client, owner, fields):
    _, csrf = owner
    link = local(shown_link(_invite(client, csrf).get_data(as_text=True)))
    teammate = app.test_client()
    form = {"name": "Tea", "password": "a long password", "password2": "a long password",
            "csrf_token": token_of(teammate, link), **fields}
    answer = teammate.post(link, data=form)
    assert answer.status_code == 400 and "field-error" in answer.get_data(as_text=True)
    raw = teammate.post(link, data=b"name=%ED%A0%80&password=a+long+password&password2=a+long+password&csrf_token="
                        + form["csrf_token"].encode(), content_type="application/x-www-form-urlencoded")
    assert raw.status_code in (302, 400)
    nul = teammate.post(link, data={**form, "name": "a\x00b"})
    assert nul.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(User).where(User.email == "tea@example.com")).first() is None \
            or raw.status_code == 302


def test_a_json_body_to_the_setup_page_is_refused_in_words(app, client):
    csrf = token_of(client, "/setup")
    answer = client.post("/setup", data=b'{"name": "x"}', content_type="application/json", headers={"X-CSRFToken": csrf})
    assert answer.status_code == 400 and "Enter your name" in answer.get_data(as_text=True)
    huge = client.post("/setup", data={"name": "n", "email": "a@b.co" + "x" * 100_000, "password": "a long password",
                                       "password2": "a long password", "workspace": "W", "csrf_token": csrf})
    assert huge.status_code in (400, 413)
    with app.app_context():
        assert db.session.execute(db.select(User)).first() is None
