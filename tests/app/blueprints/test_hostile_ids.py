"""Numbers a client put in a path or a cookie: only ASCII digits name a row (app.digits).

`int()` reads "١" (Arabic-Indic), "𝟏" (mathematical bold) and "１" (fullwidth) as 1, and
`str.isdigit()` passes "²" that `int()` then refuses. A member id, a session cookie or a version
number spelled so must answer like an unknown one (404, or not signed in), never act on a real
row and never 500.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import Membership, Role, User
from tests.app.blueprints.members_helpers import log_in
from tests.app.login_steps import signed_in

SCRIPTS = {"arabic-indic": "٠١٢٣٤٥٦٧٨٩", "math-bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "fullwidth": "０１２３４５６７８９"}


def spelled(number: int, script: str) -> str:
    """`number` in another script's digits: the same value to int(), not an id to us."""
    return str(number).translate(str.maketrans("0123456789", SCRIPTS[script]))


def non_ascii_spellings(number: int) -> list[str]:
    """Other digits for `number`, and numbers too large for an id (PostgreSQL refused to compare them: a 500)."""
    return [spelled(number, script) for script in SCRIPTS] + ["²", f"{number}²", "2147483648", "9" * 18, "9" * 40]


@pytest.fixture
def team(app, client, make_account):
    """An owner signed in (form CSRF token) and an editor teammate's user id."""
    owner = make_account(email="olga@example.com")
    csrf = log_in(client, owner.email, owner.password)
    make_account(email="ed@example.com", role="editor")
    with app.app_context():
        ed_id = db.session.execute(db.select(User.id).where(User.email == "ed@example.com")).scalar_one()
    return owner, csrf, ed_id


def _role_of(app, user_id: int, workspace_id: str) -> Role | None:
    with app.app_context():
        membership = db.session.get(Membership, (user_id, workspace_id))
        return membership.role if membership else None


def test_member_ids_in_other_digits_are_unknown_members_on_the_api(app, client, team):
    owner, csrf, ed_id = team
    for user_id in non_ascii_spellings(ed_id):
        path = f"/api/v1/members/{quote(user_id)}"
        changed = client.patch(path, json={"role": "viewer"}, headers={"X-CSRFToken": csrf})
        assert changed.status_code == 404 and changed.json["error"]["code"] == "member_not_found", (user_id, changed.json)
        removed = client.delete(path, headers={"X-CSRFToken": csrf})
        assert removed.status_code == 404 and removed.json["error"]["code"] == "member_not_found", user_id
    assert _role_of(app, ed_id, owner.workspace_id) is Role.EDITOR


def test_member_ids_in_other_digits_are_unknown_members_on_the_page(app, client, team):
    owner, csrf, ed_id = team
    for user_id in non_ascii_spellings(ed_id):
        for action, form in (("role", {"role": "viewer"}), ("remove", {}), ("reset-link", {})):
            answer = client.post(f"/settings/members/{quote(user_id)}/{action}", data={**form, "csrf_token": csrf})
            assert answer.status_code == 404, (user_id, action, answer.status_code)
            assert "No member with this id" in answer.get_data(as_text=True)
    assert _role_of(app, ed_id, owner.workspace_id) is Role.EDITOR


def _user(app, email: str) -> User:
    with app.app_context():
        return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def test_a_session_cookie_naming_the_user_in_other_digits_signs_nobody_in(app, client, make_account):
    account = make_account()
    user = _user(app, account.email)
    for user_id in non_ascii_spellings(user.id):
        browser = app.test_client()
        with browser.session_transaction() as session:
            session["_user_id"] = f"{user_id}:{user.session_token}"
            session["_fresh"] = True
        assert not signed_in(browser), user_id
    honest = app.test_client()
    with honest.session_transaction() as session:
        session["_user_id"], session["_fresh"] = f"{user.id}:{user.session_token}", True
    assert signed_in(honest)  # the same cookie with ASCII digits is the user's own


def test_a_remember_me_cookie_naming_the_user_in_other_digits_signs_nobody_in(app, make_account):
    from flask_login.utils import encode_cookie

    account = make_account()
    user = _user(app, account.email)
    for user_id in non_ascii_spellings(user.id):
        with app.test_request_context():
            cookie = encode_cookie(f"{user_id}:{user.session_token}")
        browser = app.test_client()
        browser.set_cookie("remember_token", cookie, domain="localhost")
        assert not signed_in(browser), user_id


@pytest.fixture
def owned_flow(app, client, auth):
    """A flow with versions 1 and 2, its owner signed in; returns its id and a form CSRF token."""
    from app.models import Flow, Workspace
    from app.services.versions import publishing
    from tests.app.flowdocs import greeting_flow, with_reply_text
    from tests.conftest import csrf_from

    with app.app_context():
        flow_id = publishing.create_flow(db.session.get(Workspace, auth.workspace_id), greeting_flow(), None).flow.id
        publishing.save_flow(db.session.get(Flow, flow_id), with_reply_text(greeting_flow(), "changed"), None)
        db.session.commit()
    return flow_id, csrf_from(client.get(f"/flows/{flow_id}").get_data(as_text=True))


def _latest(client, api_key, flow_id: str) -> int:
    return client.get(f"/api/v1/flows/{flow_id}", headers={"Authorization": f"Bearer {api_key}"}).json["version"]


def test_version_urls_take_only_a_version_number_in_ascii_digits(client, api_key, owned_flow):
    flow_id, csrf = owned_flow
    headers = {"Authorization": f"Bearer {api_key}"}
    for number in non_ascii_spellings(1) + ["0", "99999999999999999999", "9999999999"]:
        segment = quote(number)
        assert client.get(f"/flows/{flow_id}/versions/{segment}").status_code == 404, number
        for path in (f"/api/v1/flows/{flow_id}/versions/{segment}", f"/api/v1/flows/{flow_id}/versions/{segment}/export"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 404 and answer.is_json and answer.json["error"]["message"], (path, answer.status_code)
        refused = client.post(f"/flows/{flow_id}/versions/{segment}/rollback", data={"csrf_token": csrf})
        assert refused.status_code == 404, (number, refused.status_code)
    assert _latest(client, api_key, flow_id) == 2  # nothing was rolled back
    assert client.get(f"/api/v1/flows/{flow_id}/versions/1", headers=headers).json["number"] == 1
    assert client.get(f"/flows/{flow_id}/versions/1").status_code == 200
    assert client.post(f"/flows/{flow_id}/versions/1/rollback", data={"csrf_token": csrf}).status_code == 302
    assert _latest(client, api_key, flow_id) == 3
