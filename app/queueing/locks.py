"""Let one process at a time do a periodic job that every clock process runs: a Redis lock.

Why a lock that expires: the holder may die mid-job; the next holder takes over once the lock
expires, so the TTL must be several times the job's interval. Jobs under it are idempotent, so
two holders after an expiry (a job slower than its TTL) do no harm, only double work.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from app.queueing.connection import get_redis


@contextmanager
def held_alone(key: str, seconds: int) -> Iterator[bool]:
    """Hold `key` for the block if no other process does; yield whether this process got it."""
    redis = get_redis()
    token = uuid.uuid4().hex
    if not redis.set(key, token, nx=True, ex=seconds):
        yield False
        return
    try:
        yield True
    finally:
        if redis.get(key) == token.encode():  # ours still: not expired and taken by another
            redis.delete(key)
