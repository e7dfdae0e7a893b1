"""Login that resists guessing: slower answers, then 429 with Retry-After, per account and address.

Thresholds are shortened per test with `replace_settings`; each scenario uses its own client
address so counts never leak between tests (the `app` fixture also clears them).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from app import create_app
from app.config import replace_settings
from app.processes.children import free_port
from tests.app.login_steps import log_in, signed_in
from tests.conftest import ROOT, csrf_from, wait_for


def _limits(app, **changes):
    values = {"login_account_max_failures": 4, "login_address_max_failures": 50, "login_max_delay_ms": 300,
              "login_lockout_seconds": 900, "login_failure_window_seconds": 900}
    values.update(changes)
    replace_settings(app, **values)


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def test_failures_slow_down_then_lock_the_account_even_for_the_right_password(app, client, make_account):
    _limits(app)
    account = make_account()
    for _ in range(2):
        assert log_in(client, account.email, "wrong guess").status_code == 401
    third, waited = _timed(log_in, client, account.email, "wrong guess")
    assert third.status_code == 401 and waited >= 0.25  # from half the allowance on, answers come slower
    locked = log_in(client, account.email, "wrong guess")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == 900
    page = locked.get_data(as_text=True)
    assert "Too many failed attempts to log in" in page and "try again in 15 minutes" in page
    assert "Traceback" not in page

    right = log_in(client, account.email, account.password)
    assert right.status_code == 429 and 0 < int(right.headers["Retry-After"]) <= 900
    assert not signed_in(client)
    # Another address is refused too: the lockout is the account's, not the address's.
    assert log_in(app.test_client(), account.email, account.password, address="10.9.9.9").status_code == 429


def test_the_lockout_ends_and_the_right_password_works_again(app, client, make_account):
    _limits(app, login_account_max_failures=2, login_lockout_seconds=1)
    account = make_account()
    log_in(client, account.email, "wrong guess")
    assert log_in(client, account.email, "wrong guess").status_code == 429
    assert wait_for(lambda: log_in(client, account.email, account.password).status_code == 302, timeout=20)
    assert signed_in(client)


def test_a_success_resets_the_account_count(app, client, make_account):
    _limits(app)
    account = make_account()
    for _ in range(3):
        assert log_in(client, account.email, "wrong guess").status_code == 401
    assert log_in(client, account.email, account.password).status_code == 302
    for _ in range(3):
        assert log_in(app.test_client(), account.email, "wrong guess").status_code == 401


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(app, make_account):
    _limits(app, login_max_delay_ms=0)
    account = make_account()
    answers = {}
    for email, address in ((account.email, "10.9.1.1"), ("nobody@example.com", "10.9.1.2")):
        client = app.test_client()
        answers[email] = [log_in(client, email, "wrong guess", address=address) for _ in range(4)]
    known, unknown = answers[account.email], answers["nobody@example.com"]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 401, 429]
    assert known[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"]


def test_the_email_is_normalised_before_counting(app, client, make_account):
    _limits(app, login_max_delay_ms=0)
    account = make_account()
    for variant in ("Owner@Example.com", " owner@example.com ", "OWNER@EXAMPLE.COM"):
        assert log_in(client, variant, "wrong guess").status_code == 401
    assert log_in(client, account.email, "wrong guess").status_code == 429


def test_one_address_guessing_across_accounts_is_locked(app, make_account):
    _limits(app, login_address_max_failures=3, login_max_delay_ms=0)
    account = make_account()
    client = app.test_client()
    for n in range(2):
        assert log_in(client, f"guess{n}@example.com", "wrong", address="10.9.2.1").status_code == 401
    assert log_in(client, "guess9@example.com", "wrong", address="10.9.2.1").status_code == 429
    assert log_in(client, account.email, account.password, address="10.9.2.1").status_code == 429
    # The account itself is not locked: its owner logs in from elsewhere.
    assert log_in(app.test_client(), account.email, account.password, address="10.9.2.2").status_code == 302


def test_login_still_works_when_redis_is_down_and_says_so_in_the_log(app, stack, make_account, caplog):
    account = make_account()
    down = create_app({"TESTING": True}, instance_path=str(stack.instance_path),
                      settings_overrides={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    client = down.test_client()
    with caplog.at_level(logging.WARNING, logger="app.services.workspaces.login_throttle"):
        assert log_in(client, account.email, "wrong guess").status_code == 401
        assert log_in(client, account.email, account.password).status_code == 302
    assert "Redis is unreachable" in caplog.text
    with down.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_guessing_the_current_password_on_the_profile_is_throttled_like_a_login(app, client, make_account):
    _limits(app, login_account_max_failures=3, login_max_delay_ms=0)
    account = make_account()
    assert log_in(client, account.email, account.password).status_code == 302
    token = csrf_from(client.get("/settings/profile").get_data(as_text=True))

    def change(current):
        return client.post("/settings/profile/password", data={
            "current_password": current, "new_password": "x" * 12, "repeat_password": "x" * 12, "csrf_token": token},
            environ_base={"REMOTE_ADDR": "10.9.3.1"})

    assert [change("guess one").status_code, change("guess two").status_code] == [400, 400]
    locked = change("guess three")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 900
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert change(account.password).status_code == 429  # the right one waits out the lockout too
    assert signed_in(client)  # this session is not ended by the lockout


def test_a_parallel_burst_of_guesses_gets_no_more_checks_than_the_limit(app, make_account):
    _limits(app, login_account_max_failures=3, login_max_delay_ms=0)
    account = make_account()

    def guess(n):
        return log_in(app.test_client(), account.email, f"guess {n}", address=f"10.9.4.{n}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(8)))
    assert sorted(statuses) == [401, 401] + [429] * 6  # the third failure locks; the rest wait it out


def test_successful_logins_do_not_use_up_an_addresses_allowance(app, make_account):
    _limits(app, login_address_max_failures=3, login_max_delay_ms=0)
    account = make_account()
    for _ in range(5):
        assert log_in(app.test_client(), account.email, account.password, address="10.9.5.1").status_code == 302
    assert log_in(app.test_client(), account.email, "wrong", address="10.9.5.1").status_code == 401


def test_ipv6_clients_are_counted_per_64_block(app, make_account):
    _limits(app, login_address_max_failures=2, login_max_delay_ms=0)
    account = make_account()
    assert log_in(app.test_client(), "a@example.com", "wrong", address="2001:db8:0:1::1").status_code == 401
    assert log_in(app.test_client(), "b@example.com", "wrong", address="2001:db8:0:1::ffff").status_code == 429
    assert log_in(app.test_client(), account.email, account.password, address="2001:db8:0:2::1").status_code == 302


def test_an_operator_unlocks_a_locked_account_from_the_command_line(app, stack, client, make_account):
    account = make_account()  # the default limits, as the command's process reads them
    for _ in range(4):
        log_in(client, account.email, "wrong guess", address="10.9.6.1")
    assert log_in(client, account.email, "wrong guess", address="10.9.6.2").status_code == 429
    unlocked = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "unlock-logins", "Owner@Example.com"],
                              cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "Logging in to owner@example.com is unlocked." in unlocked.stdout
    assert log_in(client, account.email, account.password, address="10.9.6.3").status_code == 302
