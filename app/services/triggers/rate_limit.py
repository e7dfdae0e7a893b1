"""Limit how often a trigger may be called, across every web process (counted in Redis).

GCRA (the "generic cell rate algorithm"): one Redis key per trigger holding the theoretical
arrival time of the next request. It allows a burst of the whole minute's budget, then spreads
requests evenly, with no window edge where twice the limit gets through. The script runs
atomically inside Redis and uses Redis's clock, so web processes on several machines agree.
"""

from __future__ import annotations

import math

from redis.exceptions import RedisError

from app.queueing import redis_keys
from app.queueing.connection import get_redis

_GCRA = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local allow_at = tat - burst
if now < allow_at then
  return allow_at - now
end
local new_tat = tat + interval
redis.call('SET', key, new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"""


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def check(trigger_id: str, per_minute: int) -> None:
    """Raise RateLimited (with whole seconds to wait) when the trigger is over its limit.

    If Redis is unreachable the request is let through: refusing every call because the counter
    is down would turn a Redis hiccup into an outage (the enqueue right after still needs Redis
    and answers 503 on its own).
    """
    if not per_minute:
        return
    interval = 60_000_000 // per_minute  # microseconds between requests at the steady rate
    burst = interval * (per_minute - 1)
    try:
        wait = int(get_redis().eval(_GCRA, 1, redis_keys.rate_limit(trigger_id), interval, burst))
    except RedisError:
        return
    if wait > 0:
        raise RateLimited(max(1, math.ceil(wait / 1_000_000)))
