"""Send the one kind of mail Switchboard sends: a link for a person (an invitation, a password reset).

Why optional and never fatal: without MAIL_URL the page shows the link to copy, which is all a
small team needs; with it, the link is also mailed. A mail server that is down or refuses must
not undo the invitation or reset, so `send_link_mail` answers in words what went wrong and the
page says it beside the link. Every connection has a timeout so a silent server cannot hold a
request thread.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from app.config import settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


def mail_configured() -> bool:
    return settings().mail_url is not None


def send_link_mail(to: str, subject: str, text: str) -> str | None:
    """Mail `text` to `to`; None when sent (or no mail server is set), else why it was not sent."""
    server = settings().mail_url
    if server is None:
        return None
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings().mail_from, to, subject
    message.set_content(text)
    try:
        with _connect(server) as smtp:
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        return "The mail server refused the user name and password in MAIL_URL."
    except smtplib.SMTPRecipientsRefused:
        return f"The mail server refused to deliver to {to}."
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mail to the %s:%s server failed: %s", server.host, server.port, exc)
        return f"The mail server at {server.host}:{server.port} could not be reached or refused the message."
    return None


def _connect(server) -> smtplib.SMTP:
    if server.tls:
        return smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp
