"""A wrong password takes as long for an unknown email as for a known one: timing names no accounts.

Measured through the real login form, in process and against a gunicorn server, with the
throttle kept out of the way (raised limits, or its counts cleared before each attempt) so the
only work measured is the login itself. Attempts alternate between the two emails so that load
on the machine falls on both alike; within a pair of attempts, the typical gap must be under 5 ms
or 15 %, whichever is larger.

Like with like: the test stack hashes cheaply (PASSWORD_HASH_METHOD, tests/conftest.py), so here
the account and the dummy hash both use the production default, as a deployment would.
"""

from __future__ import annotations

import re
import statistics
import time

import httpx

from app.config import Settings, replace_settings
from tests.app.login_steps import log_in
from tests.conftest import csrf_from, web_server

ATTEMPTS = 15
DEFAULT_METHOD = Settings.__dataclass_fields__["password_hash_method"].metadata["default"]  # what production uses


def _agree(known: list[float], unknown: list[float]) -> None:
    """The typical gap within a pair of back-to-back attempts is within 5 ms or 15 %.

    Judged on the pairs (known i, unknown i), not on the two sets' medians: a burst of load
    from a neighbour slows a few consecutive attempts, and in a set of 15 it moved one median
    by 60 ms (a `make test` run, other xdist worker busy); within a pair both attempts meet the
    same load. A real leak, e.g. an unknown email skipping the hash, shows in every pair.
    """
    a, b = statistics.median(known), statistics.median(unknown)
    gap = statistics.median(k - u for k, u in zip(known, unknown))
    allowed = max(0.005, 0.15 * max(a, b))
    assert abs(gap) < allowed, (f"known minus unknown, median of pairs {gap * 1000:.1f} ms "
                                f"(medians: known {a * 1000:.1f} ms, unknown {b * 1000:.1f} ms)")
    assert min(a, b) > 0.005, "the password check itself should cost milliseconds; was it skipped?"


def _assert_like_with_like(app, email: str) -> None:
    """The account's hash and the dummy hash are of one method, the production default."""
    from app.extensions import db
    from app.models import User
    from app.services.workspaces.login import dummy_hash

    with app.app_context():
        stored = db.session.execute(db.select(User).where(User.email == email)).scalar_one().password_hash
        assert stored.split("$")[0] == dummy_hash().split("$")[0] and stored.startswith(f"{DEFAULT_METHOD}:")


def _alternate(attempt) -> tuple[list[float], list[float]]:
    attempt(True), attempt(False)  # warm-up: the dummy hash is made on first use
    known, unknown = [], []
    for _ in range(ATTEMPTS):
        known.append(attempt(True))
        unknown.append(attempt(False))
    return known, unknown


def test_wrong_password_takes_as_long_for_an_unknown_email(app, client, make_account):
    replace_settings(app, login_account_max_failures=10_000, login_address_max_failures=10_000,
                     login_max_delay_ms=0, password_hash_method=DEFAULT_METHOD)
    account = make_account()
    _assert_like_with_like(app, account.email)

    def attempt(known: bool) -> float:
        started = time.perf_counter()
        response = log_in(client, account.email if known else "nobody-here@example.com", "not the password")
        elapsed = time.perf_counter() - started
        assert response.status_code == 401
        return elapsed

    _agree(*_alternate(attempt))


def test_wrong_password_timing_on_the_live_server(app, stack, make_account):
    from app.services.workspaces.login_throttle import clear_all

    replace_settings(app, password_hash_method=DEFAULT_METHOD)
    account = make_account()
    _assert_like_with_like(app, account.email)  # the server below hashes by the same setting
    with web_server(stack, PASSWORD_HASH_METHOD=DEFAULT_METHOD) as live_server, \
            httpx.Client(base_url=live_server, timeout=30) as http:
        token = csrf_from(http.get("/login").text)

        def attempt(known: bool) -> float:
            with app.app_context():
                clear_all()  # no slowdown or lockout: only the login's own work is timed
            data = {"email": account.email if known else "nobody-here@example.com", "password": "nope",
                    "csrf_token": token}
            started = time.perf_counter()
            response = http.post("/login", data=data)
            elapsed = time.perf_counter() - started
            assert response.status_code == 401 and re.search("Wrong email or password", response.text)
            return elapsed

        _agree(*_alternate(attempt))
