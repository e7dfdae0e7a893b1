"""Publish a run's live events to Redis, and follow them from any web process.

Why a Redis stream per run: the worker executing a run and the web process answering a chat
client are different processes (often different machines). Nodes publish partial results
(`{"type": "token", "node_id", "text"}` per LLM delta, as it arrives; `{"type": "reply",
"node_id", "text"}` per reply node, once its step is committed), the app adds `{"type":
"waiting", "resume_at"}` when a delay parks the run and `{"type": "end", "status"}` once its
final status is committed. The stream keeps the events in order, lets a follower that connects
late read from the start, and expires on its own (`EVENTS_TTL_SECONDS` after the last event,
`ENDED_TTL_SECONDS` once the run has ended). The database stays the truth; events are a live
view and may be lost with Redis, so a follower that times out should read the run.

Follow a run (e.g. for server-sent events, issue 9):

    for event in follow(run_id, timeout=30):
        if event["type"] == "token": send(event["text"])
        # the last event is {"type": "end", "status": ...} unless the timeout ran out first
"""

from __future__ import annotations

import json
import logging
import time
from typing import Iterator

from redis.exceptions import RedisError

from app.queueing import redis_keys
from app.config import settings
from app.queueing.connection import get_redis

log = logging.getLogger(__name__)

EVENTS_TTL_SECONDS = 3600
# Once a run has ended nobody needs its stream for long (a late follower reads the run instead);
# keeping every finished run's events for an hour cost ~100 MB of Redis per 100 runs/s.
ENDED_TTL_SECONDS = 120


def events_key(run_id: str) -> str:
    return redis_keys.run_events(run_id)


class Publisher:
    """Append one run's events to its stream; never fails the run when Redis does.

    A publisher can *hold* events (`hold()`): they are kept in order and sent later with
    `send_held()`, or handed to `announce_finished` to go out in the same round trip as the
    run's end. The worker holds the events of pure nodes until their steps are committed, so a
    run of pure nodes talks to Redis once, not once per reply; a node that streams (an LLM
    call) runs live.
    """

    def __init__(self, run_id: str, redis=None, maxlen: int | None = None):
        self.key = events_key(run_id)
        self.redis = redis if redis is not None else get_redis()
        self.maxlen = maxlen or settings().run_events_maxlen
        self._warned = False
        self.held: list[dict] | None = None  # None: live, events go out at once

    def __call__(self, event: dict) -> None:
        if self.held is not None:
            self.held.append(event)
        else:
            self._send([event])

    def hold(self) -> None:
        """Keep the next events until `send_held()` (or the run's end)."""
        if self.held is None:
            self.held = []

    def go_live(self) -> None:
        """Send what is held, then send each event as it comes."""
        self.send_held()
        self.held = None

    def send_held(self) -> None:
        if self.held:
            events, self.held = self.held, []
            self._send(events)

    def take_held(self) -> list[dict]:
        """Return the held events for the caller to send (with the run's end); hold nothing more."""
        events, self.held = self.held or [], None
        return events

    def _send(self, events: list[dict]) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            add_events(pipe, None, events, key=self.key, maxlen=self.maxlen)
            pipe.execute()
        except RedisError as exc:  # a live view is a nice-to-have; the run and its steps are in the database
            if not self._warned:
                log.warning("%s: could not publish run events: %s", self.key, exc)
                self._warned = True


def add_events(pipe, run_id: str | None, events: list[dict], key: str | None = None,
               maxlen: int | None = None) -> None:
    """Queue events for the run's stream on `pipe` (the caller executes it with its other commands).

    One EXPIRE for the batch, set by its last event (an `end` is always last): each event's own
    EXPIRE was overwritten by the next one's in the same round trip.
    """
    if not events:
        return
    key = key or events_key(run_id)
    maxlen = maxlen or settings().run_events_maxlen
    for event in events:
        pipe.xadd(key, {"data": json.dumps(event, default=str)}, maxlen=maxlen, approximate=True)
    pipe.expire(key, ENDED_TTL_SECONDS if events[-1].get("type") == "end" else EVENTS_TTL_SECONDS)


def follow(run_id: str, timeout: float, last_id: str = "0-0", redis=None) -> Iterator[dict]:
    """Yield the run's events from `last_id` on, until an `end` event or `timeout` seconds pass.

    Each event is the dict a node or the app published, plus `"id"` (the stream id: pass the
    last one seen as `last_id` to continue after a reconnect). Raises RedisError if Redis is
    unreachable, so the caller can fall back to reading the run.
    """
    redis = redis if redis is not None else get_redis()
    key = events_key(run_id)
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        answer = redis.xread({key: last_id}, count=500, block=max(1, int(min(remaining, 5.0) * 1000)))
        for _, entries in answer or []:
            for entry_id, fields in entries:
                last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                raw = fields.get(b"data") if b"data" in fields else fields.get("data")
                try:
                    event = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                event["id"] = last_id
                yield event
                if event.get("type") == "end":
                    return
