"""Make and check bearer tokens (trigger secrets and API keys).

Why SHA-256 and not a password hash: these tokens carry 256 random bits, so a fast hash is
as safe as a slow one and keeps trigger authentication to microseconds. Only the hash is stored;
the token is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TRIGGER_SECRET_PREFIX = "sbt_"
API_KEY_PREFIX = "sbk_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def matches(token: str, stored_hash: str | None) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer …` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token
