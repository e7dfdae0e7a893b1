"""MAIL_URL and friends: parsed at start, a bad value named with what to fix, the password never in a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, MailServer, Settings

BASE = {"SECRET_KEY": "s", "CREDENTIALS_KEY": "vB5rEDCD9TFCiwY36pZ5Z2zyI1T5XpLwACGJE2EYZH0="}


def _settings(**env) -> Settings:
    return Settings.from_env(Path("/nonexistent"), env={**BASE, **env})


def test_no_mail_url_means_links_are_only_shown():
    values = _settings()
    assert (values.mail_url, values.mail_from, values.invitation_days, values.reset_link_hours) == (None, None, 7, 24)


def test_mail_urls_are_parsed_with_their_defaults():
    plain = _settings(MAIL_URL="smtp://bot%40corp:p%3Ass@mail.example.com", MAIL_FROM="bot@example.com")
    assert plain.mail_url == MailServer("mail.example.com", 587, False, "bot@corp", "p:ss")
    assert "p:ss" not in repr(plain) and "p:ss" not in repr(plain.mail_url)
    tls = _settings(MAIL_URL="smtps://mail.example.com", MAIL_FROM="Bot <bot@example.com>", INVITATION_DAYS="2")
    assert (tls.mail_url.port, tls.mail_url.tls, tls.mail_url.username, tls.invitation_days) == (465, True, None, 2)


@pytest.mark.parametrize(("env", "says"), [
    ({"MAIL_URL": "http://mail.example.com", "MAIL_FROM": "a@b.c"}, "MAIL_URL must start with smtp://"),
    ({"MAIL_URL": "smtp://mail.example.com:99999", "MAIL_FROM": "a@b.c"}, "MAIL_URL has a port"),
    ({"MAIL_URL": "smtp://:25", "MAIL_FROM": "a@b.c"}, "MAIL_URL names no mail server host"),
    ({"MAIL_URL": "smtp://mail.example.com"}, "MAIL_FROM must be set when MAIL_URL is"),
    ({"MAIL_URL": "smtp://mail.example.com", "MAIL_FROM": "not an address"}, "MAIL_FROM must be an email address"),
    ({"INVITATION_DAYS": "0"}, "INVITATION_DAYS must be at least 1"),
    ({"RESET_LINK_HOURS": "soon"}, "RESET_LINK_HOURS must be an integer"),
])
def test_bad_mail_settings_fail_at_start_naming_the_variable(env, says):
    with pytest.raises(ConfigError, match=says):
        _settings(**env)
