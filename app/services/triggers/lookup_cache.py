"""Keep what a trigger request looks up (its trigger and flow, the caller's API key) in each process,
and drop it the moment anything it was read from changes.

Why: those lookups were two of a trigger request's five statements and about a quarter of its
web CPU (mostly loading ORM rows), for rows that change only when someone edits a flow, a
trigger or a key.

Why the cache is never stale: every commit that wrote a row of a table these lookups read
(`WATCHED`) sets a new random *stamp* in Redis right after the commit, from whichever process
made it (web, worker, CLI). Session events see every ORM flush and every insert, update or
delete statement run through the session, so no write path (publish, rollback, archive, pause,
secret rotation, key revocation, deleting a workspace…) has to remember to do it. Each trigger
request reads the stamp first (one GET, before any row); a process whose cache was filled under
another stamp empties it. So a revoked key, a paused or deleted trigger or an archived flow is
refused by the very next request in every process. An entry read under stamp S is stored only
while the cache still holds S, so a read that raced a change can never file the old row under
the new stamp. The stamp is random, not a counter, so a Redis that lost its data cannot bring an
old value back.

When Redis cannot be reached nothing is read from or kept in the cache. The one gap left: a
change committed while Redis is unreachable cannot set the stamp, so a process that cached the
old row before the outage and sees the old stamp after it could use it; MAX_AGE_SECONDS bounds
that. (No trigger request is accepted while Redis is down anyway: its run cannot be queued.)

Cached rows are plain read-only copies (`Snapshot`) shared by the process's threads; nothing may
change them (the one exception: an API key's `last_used_at`, see `api_keys._note_use`), and they
are never attached to a database session.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from types import SimpleNamespace

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Flow, Trigger
from app.queueing import redis_keys
from app.queueing.connection import get_redis

log = logging.getLogger(__name__)

# The tables a trigger request's lookups read (users and memberships: an API key's owner).
WATCHED = frozenset({"flows", "flow_versions", "triggers", "api_keys", "workspaces", "users", "memberships"})
STAMP_KEY = redis_keys.PREFIX + "lookup-stamp"
MAX_AGE_SECONDS = 5.0
MAX_ENTRIES = 4096
# Execution option of a write that changes nothing a lookup reads (an API key's last use).
NEUTRAL = "lookup_cache_neutral"
_CHANGED = "lookup_cache_changed"  # in Session.info: this transaction wrote a watched table
_EXT_KEY = "switchboard_lookup_cache"
_MISS = object()


class Snapshot(SimpleNamespace):
    """A read-only copy of a row's columns, shared by threads: read it, never change it."""


class _Cache:
    """One app's entries, all filed under the stamp they were read with."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: str | None = None
        self.entries: OrderedDict[tuple, tuple[object, float]] = OrderedDict()

    def get(self, stamp: str, key: tuple):
        with self.lock:
            if stamp != self.stamp:
                self.entries.clear()
                self.stamp = stamp
                return _MISS
            found = self.entries.get(key)
        if found is None or time.monotonic() - found[1] > MAX_AGE_SECONDS:
            return _MISS
        return found[0]

    def put(self, stamp: str, key: tuple, value) -> None:
        with self.lock:
            if stamp != self.stamp:  # the stamp moved on while the row was read: it may be old
                return
            self.entries[key] = (value, time.monotonic())
            if len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.stamp = None


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get(_EXT_KEY)
    if cache is None:
        cache = app.extensions.setdefault(_EXT_KEY, _Cache())
    return cache


class Lookups:
    """One request's view of the cache: the stamp is read once, before any row."""

    def __init__(self) -> None:
        app = current_app._get_current_object()
        self.cache = _cache(app)
        self.stamp = _read_stamp(app, self.cache)

    def get(self, key: tuple, load, keep_missing: bool = True):
        """Return the cached value for `key`, or `load()`'s, kept (a None only when `keep_missing`)."""
        if self.stamp is None:
            return load()
        value = self.cache.get(self.stamp, key)
        if value is _MISS:
            value = load()
            if value is not None or keep_missing:
                self.cache.put(self.stamp, key, value)
        return value


def _read_stamp(app: Flask, cache: _Cache) -> str | None:
    try:
        redis = get_redis(app)
        stamp = redis.get(STAMP_KEY)
        if stamp is None:  # a new or emptied Redis: start a stamp nobody can have cached under
            redis.set(STAMP_KEY, secrets.token_hex(16), nx=True)
            stamp = redis.get(STAMP_KEY)
    except RedisError:
        cache.clear()
        return None
    return stamp.decode() if isinstance(stamp, bytes) else stamp


# Built once: the trigger and its flow in one row (the flow's columns after the trigger's).
_TRIGGER_COLUMNS = [column.key for column in Trigger.__table__.columns]
_FLOW_COLUMNS = [column.key for column in Flow.__table__.columns]
_TRIGGER_AND_FLOW = (
    select(Trigger.__table__, Flow.__table__).join_from(Trigger.__table__, Flow.__table__,
                                                         Flow.__table__.c.id == Trigger.__table__.c.flow_id)
    .where(Trigger.__table__.c.workspace_id == bindparam("workspace_id"),
           Trigger.__table__.c.key_lower == bindparam("key_lower"))
)


def trigger_and_flow(lookups: Lookups, workspace_id: str, key_lower: str) -> tuple[Snapshot, Snapshot] | None:
    """Return copies of the trigger with this key in the workspace and of its flow, or None."""
    def load():
        row = db.session.execute(_TRIGGER_AND_FLOW, {"workspace_id": workspace_id, "key_lower": key_lower}
                                 ).one_or_none()
        if row is None:
            return None
        split = len(_TRIGGER_COLUMNS)
        return (Snapshot(**dict(zip(_TRIGGER_COLUMNS, row[:split]))),
                Snapshot(**dict(zip(_FLOW_COLUMNS, row[split:]))))

    return lookups.get(("trigger", workspace_id, key_lower), load)


def init_app(app: Flask) -> None:
    """Watch every session's writes (once per process; the listeners serve every app)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    if session.info.get(_CHANGED):
        return
    for group in (session.new, session.dirty, session.deleted):
        for instance in group:
            if getattr(type(instance), "__tablename__", None) in WATCHED:
                session.info[_CHANGED] = True
                return


def _do_orm_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get(NEUTRAL):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED:
        state.session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    """After a commit that wrote a watched table, set a new stamp (a savepoint's release is not a commit)."""
    if session.in_nested_transaction() or not session.info.pop(_CHANGED, False):
        return
    if not has_app_context():
        log.warning("a commit changed trigger lookups outside an app context; other processes keep theirs "
                    "for up to %.0f s", MAX_AGE_SECONDS)
        return
    bump(current_app._get_current_object())


def _after_rollback(session: Session) -> None:
    """A transaction rolled back wrote nothing: its writes must not empty every process's cache
    at the next, unrelated commit. A savepoint's rollback keeps the mark: the transaction around
    it may still commit a watched write of its own."""
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)


def bump(app: Flask) -> None:
    """Make every process drop its cached lookups (this one at once, even when Redis is down)."""
    _cache(app).clear()
    try:
        get_redis(app).set(STAMP_KEY, secrets.token_hex(16))
    except RedisError as exc:
        log.warning("could not set the trigger lookup stamp (%s); other processes keep their cached lookups for "
                    "up to %.0f s", exc, MAX_AGE_SECONDS)
