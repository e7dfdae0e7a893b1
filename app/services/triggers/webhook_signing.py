"""Verify Standard Webhooks signatures and keep the signing secrets (encrypted) for it.

Scheme (standardwebhooks.com): the sender signs `"{webhook-id}.{webhook-timestamp}.{body}"` with
HMAC-SHA256 under the base64 key of a `whsec_…` secret, and sends `v1,<base64 signature>`; the
header may hold several space-separated signatures so a sender can sign with an old and a new
secret while rotating. The timestamp must be within the trigger's tolerance, which stops replays
of captured requests.

Why encrypted and not hashed like trigger secrets: checking an HMAC needs the key itself. They
are encrypted like workspace credentials (CREDENTIALS_KEY), so a copy of the database alone does
not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from app.digits import ascii_whole
from app.models import Trigger
from app.models.types import utcnow
from app.services.workspaces.credentials import fernet

SECRET_PREFIX = "whsec_"
ROTATION_GRACE = timedelta(hours=24)
# Seconds since 1970 have 10 digits until the year 2286; 12 leaves room and keeps int -> float exact.
MAX_TIMESTAMP_DIGITS = 12
MAX_MESSAGE_ID = 255  # the webhook-id is the run's idempotency key (a 255-character column)


class SignatureError(Exception):
    """The request is not signed, or not by this trigger's secret; the message says which."""


def new_signing_secret(trigger: Trigger) -> str:
    """Give the trigger a new signing secret and return it; the old one works 24 h more."""
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    if trigger.signing_secret:
        trigger.previous_signing_secret = trigger.signing_secret
        trigger.previous_signing_valid_until = utcnow() + ROTATION_GRACE
    trigger.signing_secret = fernet().encrypt(secret.encode()).decode()
    return secret


def _keys(trigger: Trigger) -> list[bytes]:
    from cryptography.fernet import InvalidToken  # loaded by fernet() just before; see its docstring

    stored = [trigger.signing_secret]
    if trigger.previous_signing_secret and trigger.previous_signing_valid_until and \
            trigger.previous_signing_valid_until > utcnow():
        stored.append(trigger.previous_signing_secret)
    keys = []
    for item in stored:
        if not item:
            continue
        try:
            secret = fernet().decrypt(item.encode()).decode()
        except InvalidToken:  # CREDENTIALS_KEY changed since: the secret must be regenerated
            continue
        keys.append(base64.b64decode(secret[len(SECRET_PREFIX):]))
    return keys


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value for a body (used by our docs' examples and tests)."""
    key = base64.b64decode(secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret)
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(trigger: Trigger, headers, body: bytes, tolerance_seconds: int) -> str:
    """Check the request's signature; return its webhook-id, or raise SignatureError.

    The headers are read strictly, before any arithmetic or comparison: they come from whoever
    can reach the URL, and a 400-digit timestamp (an OverflowError when turned into a float), a
    non-ASCII signature (a TypeError in `hmac.compare_digest` on text) or `1_764_592_000` (which
    Python's int() accepts) must each be the documented 401 naming the header, never a 500.
    """
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not message_id or not timestamp or not signatures:
        raise SignatureError("This trigger requires Standard Webhooks signing: send webhook-id, webhook-timestamp "
                             "and webhook-signature headers.")
    if len(message_id) > MAX_MESSAGE_ID:
        raise SignatureError(f"webhook-id must be at most {MAX_MESSAGE_ID} characters; it is also the request's "
                             "idempotency key.")
    sent_at = _timestamp(timestamp)
    if abs(time.time() - sent_at) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from the server's clock; "
                             "the request may be a replay, or the sender's clock is wrong.")
    keys = _keys(trigger)
    if not keys:
        raise SignatureError("This trigger has no signing secret yet; generate one on the trigger panel.")
    signed = b".".join((_raw(message_id), timestamp.encode("ascii"), body))
    expected = [base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()) for key in keys]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and any(hmac.compare_digest(_raw(value), good) for good in expected):
            return message_id
    raise SignatureError("No webhook-signature matches this trigger's signing secret.")


def _timestamp(text: str) -> int:
    """Read webhook-timestamp as what the scheme allows: UNIX seconds in ASCII digits, nothing else.

    `str.isdigit` alone would pass other scripts' digits ("١٧٦٤…") and int() would also take
    underscores, signs and spaces; the length bound keeps the number within a float's range.
    """
    value = ascii_whole(text, 10**MAX_TIMESTAMP_DIGITS - 1) if len(text) <= MAX_TIMESTAMP_DIGITS else None
    if value is None:
        raise SignatureError(f"webhook-timestamp must be a UNIX time in seconds: 1 to {MAX_TIMESTAMP_DIGITS} "
                             "digits (0-9), nothing else.")
    return value


def _raw(header: str) -> bytes:
    """The bytes the sender put in a header, to sign or compare them as bytes.

    A WSGI server hands headers over decoded as Latin-1 (PEP 3333), so encoding them back gives
    the bytes on the wire; any other text (only a test client can make it) is compared as UTF-8.
    """
    try:
        return header.encode("latin-1")
    except UnicodeEncodeError:
        return header.encode("utf-8", "surrogatepass")
