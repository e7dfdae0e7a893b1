"""Slow down, then pause, logins that keep failing: per account and per client address.

Why Redis: every web process must see the same counts, or an attacker spreading guesses over
processes would get a fresh allowance from each. Why per account *and* per address: the account
count stops guessing one person's password from many addresses; the address count stops one
address guessing across many accounts. The account key is the normalised email whether or not
such a user exists, so the throttle answers the same for every email and reveals nothing.

How it behaves (thresholds in `app.config`): from half the allowed failures on, each attempt
waits before the password is checked (0.25 s, doubling, at most LOGIN_MAX_DELAY_MS) -- before,
not after, so a client cannot cut the wait short and read a fast answer as success. At the limit
the account (or address) is locked for LOGIN_LOCKOUT_SECONDS: every attempt, the right password
too, is refused with 429 and Retry-After. A successful login clears its account's count (not the
address's, or one valid account would let an address reset its own count).

The trade-off: someone who knows an email can lock its owner out for a lockout period by failing
on purpose; they cannot learn the password that way, and the owner can log in again afterwards.

Redis down: logins are not throttled (fail open) and each attempt logs a warning, because locking
every user out while Redis restarts is worse than a short window without throttling.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

import redis

from app.config import settings
from app.queueing.connection import get_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "switchboard:login:"
FIRST_DELAY_SECONDS = 0.25


@dataclass(frozen=True)
class Lockout:
    """Logging in is paused for this account or address for `retry_after` more seconds."""

    retry_after: int


def _subject_keys(email: str, address: str | None) -> tuple[str, str]:
    """Redis key stems for the account and the address; the email is hashed so Redis holds no emails."""
    digest = hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
    return f"account:{digest}", f"address:{address or 'unknown'}"


def _limits() -> tuple[int, int]:
    values = settings()
    return values.login_account_max_failures, values.login_address_max_failures


def check(email: str, address: str | None) -> Lockout | None:
    """Return the lockout in force for this email or address, else wait as long as their failures ask.

    Call before checking the password. Fails open (None, no wait) when Redis is unreachable.
    """
    try:
        conn = get_redis()
        pipe = conn.pipeline(transaction=False)
        for stem in _subject_keys(email, address):
            pipe.ttl(KEY_PREFIX + "lock:" + stem)
            pipe.get(KEY_PREFIX + "fail:" + stem)
        lock_account, fails_account, lock_address, fails_address = pipe.execute()
    except redis.RedisError as exc:
        log.warning("login throttling is off for this attempt: Redis is unreachable (%s)", exc)
        return None
    remaining = max(lock_account, lock_address)
    if remaining > 0:
        return Lockout(retry_after=int(remaining))
    account_limit, address_limit = _limits()
    wait = max(_delay(int(fails_account or 0), account_limit), _delay(int(fails_address or 0), address_limit))
    if wait > 0:
        time.sleep(wait)
    return None


def _delay(failures: int, limit: int) -> float:
    """Seconds to wait before checking: none below half the limit, then doubling, bounded."""
    start = math.ceil(limit / 2)
    if failures < start:
        return 0.0
    bound = settings().login_max_delay_ms / 1000
    return min(bound, FIRST_DELAY_SECONDS * 2 ** min(failures - start, 16))


def record_failure(email: str, address: str | None) -> Lockout | None:
    """Count a failed attempt; return the lockout it starts when it reaches a limit."""
    values = settings()
    limits = dict(zip(_subject_keys(email, address), _limits()))
    try:
        conn = get_redis()
        pipe = conn.pipeline(transaction=True)
        for stem in limits:
            # The window starts at the first failure: INCR keeps the expiry SET NX gave the key.
            pipe.set(KEY_PREFIX + "fail:" + stem, 0, ex=values.login_failure_window_seconds, nx=True)
            pipe.incr(KEY_PREFIX + "fail:" + stem)
        counts = pipe.execute()[1::2]
        locked = False
        for (stem, limit), count in zip(limits.items(), counts):
            if count >= limit:
                # A fresh allowance after the lockout, instead of re-locking at the next failure.
                conn.set(KEY_PREFIX + "lock:" + stem, "1", ex=values.login_lockout_seconds)
                conn.delete(KEY_PREFIX + "fail:" + stem)
                locked = True
    except redis.RedisError as exc:
        log.warning("a failed login was not counted: Redis is unreachable (%s)", exc)
        return None
    return Lockout(retry_after=values.login_lockout_seconds) if locked else None


def record_success(email: str, address: str | None) -> None:
    """Forget the account's failures after a successful login (the address keeps its count)."""
    account, _ = _subject_keys(email, address)
    try:
        get_redis().delete(KEY_PREFIX + "fail:" + account)
    except redis.RedisError as exc:
        log.warning("a successful login did not clear its failure count: Redis is unreachable (%s)", exc)


def clear_all() -> None:
    """Forget every count and lockout (tests; an operator unlocking everyone)."""
    conn = get_redis()
    keys = list(conn.scan_iter(match=KEY_PREFIX + "*", count=500))
    if keys:
        conn.delete(*keys)
