"""Slow down, then pause, logins that keep failing: per account and per client address.

Why Redis: every web process must see the same counts, or an attacker spreading guesses over
processes would get a fresh allowance from each. Why per account *and* per address: the account
count stops guessing one person's password from many addresses; the address count stops one
address guessing across many accounts. The account key is the normalised email whether or not
such a user exists, so the throttle answers the same for every email and reveals nothing.

How it behaves (thresholds in `app.config`): every attempt is counted as a failure *before* the
password is checked, so a burst of parallel guesses cannot all slip in under the limit; a success
then takes its own count back (and clears the account's count; the address keeps its earlier
failures, or one valid account would let an address wipe its record). From half the allowed
failures on, each attempt waits before the check (0.25 s, doubling, at most LOGIN_MAX_DELAY_MS) --
before, not after, so a client cannot cut the wait short and read a fast answer as success. At the
limit the account (or address) is locked for LOGIN_LOCKOUT_SECONDS: every attempt, the right
password too, is refused with 429 and Retry-After. IPv6 clients are counted per /64, the block
one customer usually holds, so hopping addresses inside it gains nothing.

The trade-off: someone who knows an email can lock its owner out for a lockout period by failing
on purpose; they cannot learn the password that way, and the owner can log in again afterwards.

Redis down: logins are not throttled (fail open) and each attempt logs a warning, because locking
every user out while Redis restarts is worse than a short window without throttling.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

import redis

from app.config import settings
from app.models.types import utcnow
from app.queueing.connection import get_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "switchboard:login:"
FIRST_DELAY_SECONDS = 0.25
# Give back one attempt's count, but never create a key (one without an expiry would count forever).
_GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0"


class LoginLocked(Exception):
    """Logging in is paused for this account or address; the message says until when."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(lockout_words(self.retry_after))


def lockout_words(retry_after: int) -> str:
    """Say in plain words when logging in works again."""
    until = (utcnow() + timedelta(seconds=retry_after)).strftime("%H:%M")
    if retry_after < 60:
        wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
    else:
        minutes = math.ceil(retry_after / 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many failed attempts to log in. For safety, logging in to this account or from your "
            f"network is paused: try again in {wait} (after {until} UTC).")


@dataclass(frozen=True)
class Attempt:
    """One login attempt already counted as a failure; `counts` is None when Redis was unreachable."""

    account: str
    address: str
    counts: tuple[int, int] | None


def _client_block(address: str | None) -> str:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _stems(email: str, address: str | None) -> tuple[str, str]:
    """Redis key stems for the account and the address; the email is hashed so Redis holds no emails."""
    digest = hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
    return f"account:{digest}", f"address:{_client_block(address)}"


def _limits() -> tuple[int, int]:
    values = settings()
    return values.login_account_max_failures, values.login_address_max_failures


def start(email: str, address: str | None) -> Attempt:
    """Count an attempt on `email` from `address` and wait as long as the failures so far ask.

    Call before checking the password, then `failed` or `succeeded`. Raises LoginLocked while
    logging in is paused. Fails open (no count, no wait) when Redis is unreachable.
    """
    account, client = _stems(email, address)
    try:
        conn = get_redis()
        remaining_ms = max(conn.pttl(KEY_PREFIX + "lock:" + account), conn.pttl(KEY_PREFIX + "lock:" + client))
        if remaining_ms > 0:  # milliseconds: TTL's whole seconds would call the last half second unlocked
            raise LoginLocked(math.ceil(remaining_ms / 1000))
        pipe = conn.pipeline(transaction=True)
        for stem in (account, client):
            # The window starts at the first attempt: INCR keeps the expiry SET NX gave the key.
            pipe.set(KEY_PREFIX + "fail:" + stem, 0, ex=settings().login_failure_window_seconds, nx=True)
            pipe.incr(KEY_PREFIX + "fail:" + stem)
        counts = tuple(pipe.execute()[1::2])
        attempt = Attempt(account, client, counts)
        if any(count > limit for count, limit in zip(counts, _limits())):
            _lock_at_limit(conn, attempt, over=True)  # parallel attempts used the allowance up
    except redis.RedisError as exc:
        log.warning("login throttling is off for this attempt: Redis is unreachable (%s)", exc)
        return Attempt(account, client, None)
    wait = max(_delay(count - 1, limit) for count, limit in zip(counts, _limits()))
    if wait > 0:
        time.sleep(wait)
    return attempt


def _delay(failures: int, limit: int) -> float:
    """Seconds to wait before checking: none below half the limit, then doubling, bounded."""
    start_at = math.ceil(limit / 2)
    if failures < start_at:
        return 0.0
    bound = settings().login_max_delay_ms / 1000
    return min(bound, FIRST_DELAY_SECONDS * 2 ** min(failures - start_at, 16))


def _lock_at_limit(conn: redis.Redis, attempt: Attempt, over: bool = False) -> None:
    """Lock each of the attempt's subjects whose count reached its limit; raise LoginLocked if any."""
    lockout = settings().login_lockout_seconds
    locked = False
    for stem, count, limit in zip((attempt.account, attempt.address), attempt.counts, _limits()):
        if count > limit or (count >= limit and not over):
            # A fresh allowance after the lockout, instead of re-locking at the next failure: the
            # count ends just before the lock does. Not deleted now: a parallel attempt that passed
            # the lock check a moment ago must still count on top of it (and be refused), not
            # start afresh.
            pipe = conn.pipeline(transaction=True)
            pipe.pexpire(KEY_PREFIX + "fail:" + stem, max(1, lockout * 1000 - 50))
            pipe.set(KEY_PREFIX + "lock:" + stem, "1", ex=lockout)
            pipe.execute()
            locked = True
    if locked:
        raise LoginLocked(lockout)


def failed(attempt: Attempt) -> None:
    """The password was wrong (the attempt is already counted): raise LoginLocked if that was the last allowed."""
    if attempt.counts is None:
        return
    try:
        _lock_at_limit(get_redis(), attempt)
    except redis.RedisError as exc:
        log.warning("a failed login could not lock its account: Redis is unreachable (%s)", exc)


def succeeded(attempt: Attempt) -> None:
    """Clear the account's failures and take back this attempt's count on the address."""
    if attempt.counts is None:
        return
    try:
        conn = get_redis()
        conn.delete(KEY_PREFIX + "fail:" + attempt.account)
        conn.eval(_GIVE_BACK, 1, KEY_PREFIX + "fail:" + attempt.address)
    except redis.RedisError as exc:
        log.warning("a successful login did not clear its failure count: Redis is unreachable (%s)", exc)


def unlock(email: str) -> bool:
    """End the lockout and forget the failures of one account; True if it was locked.

    The operator's way out when someone locked a person out by failing on purpose. Addresses
    keep their counts: unlocking an account does not let a guessing address go on.
    """
    account, _ = _stems(email.strip().lower(), None)
    return bool(get_redis().delete(KEY_PREFIX + "lock:" + account, KEY_PREFIX + "fail:" + account))


def clear_all() -> int:
    """Forget every count and lockout, of every account and address; returns how many keys went."""
    conn = get_redis()
    keys = list(conn.scan_iter(match=KEY_PREFIX + "*", count=500))
    if keys:
        conn.delete(*keys)
    return len(keys)
