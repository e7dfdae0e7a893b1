"""Sessions that end: logout, a password change and "sign out everywhere" refuse copied cookies.

A thief's copy of a session or remember-me cookie is modelled by a second test client holding
the same cookie; it must stop working the moment the user logs out or changes the password.
"""

from __future__ import annotations

from tests.app.login_steps import copy_cookies, log_in, signed_in
from tests.conftest import csrf_from

NEW_PASSWORD = "a much longer secret"


def _post_form(client, path: str, data: dict, page: str = "/settings/profile"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def _thief_with(app, client, *names):
    thief = app.test_client()
    copy_cookies(client, thief, *names)
    return thief


def test_logout_refuses_a_session_cookie_copied_before(app, client, make_account):
    account = make_account()
    assert log_in(client, account.email, account.password).status_code == 302
    thief = _thief_with(app, client, "session")
    assert signed_in(thief)

    response = _post_form(client, "/logout", {}, page="/flows")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not signed_in(client)
    assert not signed_in(thief)
    # Logging in again works, and the old copy stays refused.
    assert log_in(client, account.email, account.password).status_code == 302
    assert signed_in(client) and not signed_in(thief)


def test_a_copied_remember_me_cookie_is_refused_after_logout(app, client, make_account):
    account = make_account()
    assert log_in(client, account.email, account.password, remember=True).status_code == 302
    copied = client.get_cookie("remember_token").value
    before = app.test_client()
    before.set_cookie("remember_token", copied, domain="localhost")
    assert signed_in(before)

    response = _post_form(client, "/logout", {}, page="/flows")
    assert "remember_token=;" in " ".join(response.headers.getlist("Set-Cookie"))  # this browser's is deleted
    after = app.test_client()
    after.set_cookie("remember_token", copied, domain="localhost")
    assert not signed_in(after)
    assert not signed_in(before)  # the session it got from the remember cookie ends too


def test_password_change_keeps_this_browser_and_ends_every_other_session(app, client, make_account):
    account = make_account()
    assert log_in(client, account.email, account.password, remember=True).status_code == 302
    session_copy = _thief_with(app, client, "session")
    remembered = client.get_cookie("remember_token").value
    assert signed_in(session_copy)

    response = _post_form(client, "/settings/profile/password", {
        "current_password": account.password, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})
    assert response.status_code == 302
    page = client.get("/settings/profile").get_data(as_text=True)
    assert "Your password is changed." in page
    assert signed_in(client)
    assert not signed_in(session_copy)
    remember_copy = app.test_client()
    remember_copy.set_cookie("remember_token", remembered, domain="localhost")
    assert not signed_in(remember_copy)
    # This browser's remember-me cookie was renewed with the new token and still works.
    renewed = _thief_with(app, client, "remember_token")
    assert signed_in(renewed)
    assert log_in(app.test_client(), account.email, account.password).status_code == 401
    assert log_in(app.test_client(), account.email, NEW_PASSWORD).status_code == 302


def test_password_change_without_remember_me_sets_no_remember_cookie(app, client, make_account):
    account = make_account()
    log_in(client, account.email, account.password)
    _post_form(client, "/settings/profile/password", {
        "current_password": account.password, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})
    assert signed_in(client)
    assert client.get_cookie("remember_token") is None


def test_sign_out_everywhere_ends_this_and_every_other_session(app, client, make_account):
    account = make_account()
    log_in(client, account.email, account.password)
    elsewhere = app.test_client()
    log_in(elsewhere, account.email, account.password, remember=True)

    response = _post_form(client, "/settings/profile/sign-out-everywhere", {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "You are signed out everywhere" in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(elsewhere)
    remembered = app.test_client()
    copy_cookies(elsewhere, remembered, "remember_token")
    assert not signed_in(remembered)


def test_sessions_of_other_users_are_untouched(app, client, make_account):
    account = make_account()
    other = make_account(email="other@example.com", workspace="Other")
    log_in(client, account.email, account.password)
    theirs = app.test_client()
    log_in(theirs, other.email, other.password)
    _post_form(client, "/settings/profile/sign-out-everywhere", {})
    assert signed_in(theirs)


def test_a_new_password_from_the_command_line_ends_every_session(app, client, make_account):
    """`flask create-user` on an existing email is the operator's password reset: old cookies stop working."""
    account = make_account()
    assert log_in(client, account.email, account.password, remember=True).status_code == 302
    thief = _thief_with(app, client, "session", "remember_token")
    make_account(password=account.password)  # the same password again is no reset: sessions stay
    assert signed_in(client) and signed_in(thief)

    make_account(password=NEW_PASSWORD)
    assert not signed_in(client) and not signed_in(thief)
    assert log_in(client, account.email, NEW_PASSWORD).status_code == 302
