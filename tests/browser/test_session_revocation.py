"""Sessions that end, in real browsers: a cookie copied into a second browser stops working.

Each "thief" is a separate Chromium context holding only the copied cookie(s). Screenshots of the
profile page and of the lockout message are taken at 1024x768.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS

NEW_PASSWORD = "a much longer secret"
SMALL = {"width": 1024, "height": 768}


@pytest.fixture
def contexts(browser):
    """Fresh browser contexts (like separate browsers), all closed after the test."""
    made = []

    def make():
        context = browser.new_context(viewport=SMALL)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def _log_in(context, base, email, password, remember=False):
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    if remember:
        page.check("input[name=remember]")
    with page.expect_response(lambda r: r.url.startswith(f"{base}/login") and r.request.method == "POST") as answer:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, answer.value


def _signed_in(context, base) -> bool:
    page = context.new_page()
    try:
        page.goto(f"{base}/flows")
        return "/login" not in page.url
    finally:
        page.close()


def _copy(source, target, *names):
    cookies = [c for c in source.cookies() if c["name"] in names]
    assert sorted(c["name"] for c in cookies) == sorted(names), source.cookies()
    target.add_cookies(cookies)


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(SMALL)
    page.screenshot(path=str(Path(ARTIFACTS) / f"{name}.png"), full_page=False)


def test_logout_ends_a_copied_session_and_a_copied_remember_me_cookie(live_server, make_account, contexts):
    account = make_account()
    mine = contexts()
    page, _ = _log_in(mine, live_server, account.email, account.password, remember=True)
    session_thief, remember_thief = contexts(), contexts()
    _copy(mine, session_thief, "session")
    _copy(mine, remember_thief, "remember_token")
    remembered = [c for c in mine.cookies() if c["name"] == "remember_token"]
    assert _signed_in(session_thief, live_server) and _signed_in(remember_thief, live_server)

    page.click("nav button:has-text('Log out')")
    page.wait_for_url(f"{live_server}/login")
    assert "You are logged out" in page.inner_text("main")
    assert not _signed_in(session_thief, live_server)
    assert not _signed_in(remember_thief, live_server)
    late_thief = contexts()
    late_thief.add_cookies(remembered)  # only the remember-me cookie, in a browser that never had a session
    assert not _signed_in(late_thief, live_server)


def test_password_change_keeps_this_browser_and_ends_the_copies(live_server, make_account, contexts):
    account = make_account()
    mine = contexts()
    page, _ = _log_in(mine, live_server, account.email, account.password, remember=True)
    session_thief, remember_thief = contexts(), contexts()
    _copy(mine, session_thief, "session")
    _copy(mine, remember_thief, "remember_token")
    assert _signed_in(session_thief, live_server) and _signed_in(remember_thief, live_server)

    page.click("a.nav-profile")
    page.wait_for_url(f"{live_server}/settings/profile")
    _shot(page, "profile-page-1024")
    page.fill("input[name=current_password]", account.password)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=repeat_password]", NEW_PASSWORD)
    page.click("#profile-password button[type=submit]")
    page.wait_for_selector("text=Your password is changed.")
    assert _signed_in(mine, live_server)
    assert not _signed_in(session_thief, live_server)
    assert not _signed_in(remember_thief, live_server)


def test_a_short_or_mistyped_new_password_is_explained(live_server, make_account, contexts):
    account = make_account()
    page, _ = _log_in(contexts(), live_server, account.email, account.password)
    page.goto(f"{live_server}/settings/profile")
    page.fill("input[name=current_password]", account.password)
    page.fill("input[name=new_password]", "short")
    page.fill("input[name=repeat_password]", "short")
    page.click("#profile-password button[type=submit]")
    assert "at least 10 characters" in page.inner_text("#profile-password .field-error")


def test_sign_out_everywhere_ends_another_browsers_session(live_server, make_account, contexts):
    account = make_account()
    mine, other = contexts(), contexts()
    page, _ = _log_in(mine, live_server, account.email, account.password)
    _log_in(other, live_server, account.email, account.password, remember=True)
    assert _signed_in(other, live_server)

    page.goto(f"{live_server}/settings/profile")
    page.once("dialog", lambda dialog: dialog.accept())  # the form's data-confirm question
    page.click("#profile-sign-out button[type=submit]")
    page.wait_for_url(f"{live_server}/login")
    assert "You are signed out everywhere" in page.inner_text("main")
    assert not _signed_in(mine, live_server)
    assert not _signed_in(other, live_server)


def test_wrong_passwords_lock_the_account_with_429_even_for_the_right_one(live_server, make_account, contexts):
    account = make_account()  # the live server runs the default limits: 5 failures, 15 minutes
    context = contexts()
    for _ in range(4):
        page, answer = _log_in(context, live_server, account.email, "a wrong guess")
        assert answer.status == 401
        assert "Wrong email or password." in page.inner_text(".field-error")
        page.close()
    page, answer = _log_in(context, live_server, account.email, "a wrong guess")
    assert answer.status == 429 and int(answer.headers["retry-after"]) == 900
    page.close()

    page, answer = _log_in(context, live_server, account.email, account.password)
    assert answer.status == 429 and 0 < int(answer.headers["retry-after"]) <= 900
    message = page.inner_text("#login-locked")
    assert "Too many failed attempts to log in" in message and "try again in 15 minutes" in message
    _shot(page, "login-lockout-1024")
    assert not _signed_in(context, live_server)
