"""A test client signed in as a given account, with its CSRF token at hand, for the role tests."""

from __future__ import annotations

from tests.conftest import csrf_from


def signed_in(app, account):
    """A new client logged in through the real form; `client.csrf` is the token its writes send."""
    client = app.test_client()
    page = client.get("/login")
    answer = client.post("/login", data={"email": account.email, "password": account.password,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    client.csrf = csrf_from(client.get("/flows").get_data(as_text=True))
    return client
