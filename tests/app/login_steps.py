"""Log in through the real login form with the Flask test client, from a chosen client address.

Why an address: the login throttle counts failures per client address too, so tests that fail
logins on purpose give each scenario its own address and stay out of each other's counts.
"""

from __future__ import annotations

from tests.conftest import csrf_from

DEFAULT_ADDRESS = "10.9.0.1"


def log_in(client, email: str, password: str, remember: bool = False, address: str = DEFAULT_ADDRESS):
    """Post the login form as a browser would (CSRF token from the page); returns the response."""
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    data = {"email": email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


def copy_cookies(source, target, *names: str) -> None:
    """Copy the named cookies of one test client into another, as a thief copying them would."""
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie to copy"
        target.set_cookie(name, cookie.value, domain=cookie.domain, path=cookie.path)


def signed_in(client) -> bool:
    """Whether the client's cookies still open a page that needs a login."""
    response = client.get("/flows")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True
