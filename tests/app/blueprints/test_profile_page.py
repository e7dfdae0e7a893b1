"""The profile page: the name a user sets is what the nav shows, linking back to the profile."""

from __future__ import annotations

import re

from tests.app.login_steps import log_in
from tests.conftest import csrf_from


def _nav_link(html: str) -> str:
    match = re.search(r'<a href="/settings/profile" class="nav-profile"[^>]*>([^<]*)</a>', html)
    assert match, "no profile link in the nav"
    return match.group(1)


def test_a_new_name_shows_in_the_nav_and_an_empty_one_shows_the_email(client, make_account):
    account = make_account()
    log_in(client, account.email, account.password)
    page = client.get("/settings/profile").get_data(as_text=True)
    assert _nav_link(page) == account.email

    token = csrf_from(page)
    response = client.post("/settings/profile/name", data={"name": "  Ada   Lovelace ", "csrf_token": token})
    assert response.status_code == 302
    assert "Your name is saved." in client.get("/settings/profile").get_data(as_text=True)
    assert _nav_link(client.get("/flows").get_data(as_text=True)) == "Ada Lovelace"

    client.post("/settings/profile/name", data={"name": "", "csrf_token": token})
    page = client.get("/settings/profile").get_data(as_text=True)
    assert _nav_link(page) == account.email
    assert "teammates see your email" in page


def test_the_profile_page_explains_each_action_in_words(client, make_account):
    account = make_account()
    log_in(client, account.email, account.password)
    page = client.get("/settings/profile").get_data(as_text=True)
    for words in ("Your name", "Change your password", "at least 10 characters", "Sign out everywhere",
                  "this one stays signed in"):
        assert words in page
    assert "<script" not in page.split("</head>")[1] and "onclick" not in page and 'style="' not in page
