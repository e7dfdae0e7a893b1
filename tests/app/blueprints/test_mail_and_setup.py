"""Links by mail through a real SMTP server on loopback, "Forgot your password?", the first-start page, the CLI link."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app.config import MailServer, replace_settings
from app.extensions import db
from app.models import PasswordReset, User
from tests.app.blueprints.members_helpers import local, log_in, shown_link, token_of
from tests.conftest import ROOT, wait_for
from tests.smtp_stub import smtp_server

MAILED_LINK = re.compile(r"http://\S+/(?:invite|reset)/\S+")
PAGE_CSRF_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def without_csrf_token(page: str) -> str:
    """The page with its CSRF token blanked: the token embeds the second it was made in, so two
    pages served either side of a second boundary differ in it and in nothing a person reads."""
    token = PAGE_CSRF_TOKEN.search(page)
    assert token, "no CSRF token on the page"
    return page.replace(token.group(1), "<csrf token>")


@pytest.fixture
def mailbox(app):
    with smtp_server() as (box, port):
        replace_settings(app, mail_url=MailServer("127.0.0.1", port, tls=False, username="bot", password="pw"),
                         mail_from="Switchboard <bot@example.com>")
        yield box


def test_an_invitation_is_mailed_and_the_mailed_link_works(app, client, make_account, mailbox):
    account = make_account(email="olga@example.com")
    csrf = log_in(client, account.email, account.password)
    answer = client.post("/settings/members/invite", data={"email": "tea@example.com", "role": "viewer",
                                                           "csrf_token": csrf})
    assert answer.status_code == 201 and "also sent by mail to tea@example.com" in answer.get_data(as_text=True)
    message = mailbox.messages[0]
    assert message["To"] == "tea@example.com" and message["Subject"] == "Join Acme on Switchboard"
    assert mailbox.logins == [("bot", "pw")]
    mailed = MAILED_LINK.search(message.get_content()).group(0)
    assert mailed == shown_link(answer.get_data(as_text=True))
    teammate = app.test_client()
    joined = teammate.post(local(mailed), data={"name": "Tea", "password": "a long password", "password2":
                                                "a long password", "csrf_token": token_of(teammate, local(mailed))})
    assert joined.status_code == 302 and teammate.get("/flows").status_code == 200


def test_a_failing_mail_server_is_said_in_words_and_the_invitation_stands(app, client, make_account, mailbox):
    mailbox.refuse_auth = True
    account = make_account(email="olga@example.com")
    csrf = log_in(client, account.email, account.password)
    answer = client.post("/settings/members/invite", data={"email": "tea@example.com", "role": "viewer",
                                                           "csrf_token": csrf})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 201 and "The link was not mailed" in page and "user name and password" in page
    assert app.test_client().get(local(shown_link(page))).status_code == 200


def test_nobody_listening_is_said_in_words_too(app, client, make_account):
    from app.processes.children import free_port

    replace_settings(app, mail_url=MailServer("127.0.0.1", free_port(), tls=False), mail_from="bot@example.com")
    account = make_account(email="olga@example.com")
    csrf = log_in(client, account.email, account.password)
    page = client.post("/settings/members/invite", data={"email": "tea@example.com", "role": "viewer",
                                                         "csrf_token": csrf}).get_data(as_text=True)
    assert "could not be reached" in page and "/invite/sbi_" in page


def test_forgot_password_mails_a_link_and_answers_the_same_for_unknown_emails(app, client, make_account, mailbox):
    make_account(email="olga@example.com")
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    answers = []
    for email in ("olga@example.com", "nobody@example.com"):
        answer = client.post("/forgot", data={"email": email, "csrf_token": token_of(client, "/forgot")})
        answers.append((answer.status_code, without_csrf_token(answer.get_data(as_text=True)).replace(email, "")))
    assert answers[0] == answers[1] and "If an account exists for that email" in answers[0][1]
    wait_for(lambda: mailbox.messages, timeout=30)
    assert [m["To"] for m in mailbox.messages] == ["olga@example.com"]
    link = local(MAILED_LINK.search(mailbox.messages[0].get_content()).group(0))
    form = {"password": "my new password", "password2": "my new password", "csrf_token": token_of(client, link)}
    assert client.post(link, data=form).status_code == 302
    log_in(app.test_client(), "olga@example.com", "my new password")
    bad = client.post("/forgot", data={"email": "x" * 5000, "csrf_token": token_of(client, "/forgot")})
    assert bad.status_code == 400 and "email address" in bad.get_data(as_text=True)


def test_first_start_offers_the_owner_account_once(app, client):
    assert client.get("/login").headers["Location"].endswith("/setup")
    assert client.get("/").headers["Location"].endswith("/setup")
    page = client.get("/setup").get_data(as_text=True)
    assert "No one has an account here yet" in page
    form = {"name": "Olga", "email": "Olga@Example.com", "password": "a long password", "password2": "a long password",
            "workspace": "Team", "csrf_token": token_of(client, "/setup")}
    refused = client.post("/setup", data={**form, "password2": "different!!"})
    assert refused.status_code == 400 and "differ" in refused.get_data(as_text=True)
    assert client.post("/setup", data={**form, "workspace": ""}).status_code == 400
    created = client.post("/setup", data=form)
    assert created.status_code == 302 and "Team" in client.get("/flows").get_data(as_text=True)
    assert client.get("/setup").status_code == 404 and app.test_client().get("/setup").status_code == 404
    assert app.test_client().get("/login").status_code == 200
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        assert (user.email, user.name, [m.role.value for m in user.memberships]) == ("olga@example.com", "Olga", ["owner"])


def test_a_second_setup_submit_is_refused_plainly(app, client):
    first, second = app.test_client(), app.test_client()
    forms = [{"name": "A", "email": f"{who}@example.com", "password": "a long password", "password2": "a long password",
              "workspace": "Team", "csrf_token": token_of(c, "/setup")} for who, c in (("a", first), ("b", second))]
    assert first.post("/setup", data=forms[0]).status_code == 302
    answer = second.post("/setup", data=forms[1])
    assert answer.status_code in (404, 409)


def test_the_cli_prints_a_reset_link_for_a_locked_out_owner(app, stack, client, make_account):
    make_account(email="olga@example.com")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "reset-link", "OLGA@example.com"],
                            cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip().splitlines()[-1]
    assert "/reset/sbr_" in link
    assert "Set a new password" in client.get(local(link)).get_data(as_text=True)
    missing = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "reset-link", "who@example.com"],
                             cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "No account has the email 'who@example.com'" in missing.stderr


def test_forgot_answers_known_and_unknown_emails_in_about_the_same_time(app, client, make_account, mailbox):
    """The mail leaves on a thread, so a known email's answer does not wait for the mail server."""
    import statistics
    import time

    make_account(email="olga@example.com")
    csrf = token_of(client, "/forgot")
    timings = {"olga@example.com": [], "nobody@example.com": []}
    for _ in range(9):
        for email, spent in timings.items():
            started = time.perf_counter()
            assert client.post("/forgot", data={"email": email, "csrf_token": csrf}).status_code == 200
            spent.append(time.perf_counter() - started)
    known, unknown = (statistics.median(spent) for spent in timings.values())
    assert abs(known - unknown) < 0.1, (known, unknown)
    # Nine asks in a row mail one link: the account gets at most one self-service mail per interval.
    wait_for(lambda: len(mailbox.messages) == 1, timeout=60)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(PasswordReset)).scalar() == 1
