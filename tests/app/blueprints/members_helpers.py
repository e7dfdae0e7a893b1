"""Shared steps of the members tests: log in through the real form, read a page's CSRF token and shown link."""

from __future__ import annotations

import re

from tests.conftest import csrf_from

LINK = re.compile(r'data-link>([^<]+)</code>')


def log_in(client, email: str, password: str) -> str:
    """Log `client` in; return a CSRF token for its later form posts."""
    page = client.get("/login")
    answer = client.post("/login", data={"email": email, "password": password,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return csrf_from(client.get("/flows").get_data(as_text=True))


def token_of(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def shown_link(html: str) -> str:
    match = LINK.search(html)
    assert match, "no link shown on the page"
    return match.group(1)


def local(link: str) -> str:
    """The path of an absolute link, for the test client."""
    return "/" + link.split("/", 3)[3]
