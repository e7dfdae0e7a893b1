"""Paging cursors: "after this row" as the (created_at, id) of a page's last row, signed, URL-safe.

Why a cursor and not an offset: rows keep arriving while someone pages; an offset would skip or
repeat them, "after this row" never does. Why signed with the app's secret (a salt per list):
the cursor comes back from the client, and what a hand-made one decoded to reached the query. A
time before year 1 in UTC, a date without a time zone, text the database cannot store, JSON nested
past Python's recursion limit were each a 500 (runs, triggers). A signature refuses every cursor
the server did not give out before any of it is read; each list answers `CursorError` as its 400.
The checks after the signature only guard against our own mistakes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

MAX_CHARS = 300  # what we give out is about 130 characters (170 with a workspace bound to it)


class CursorError(ValueError):
    """Not a cursor this list gave out: garbled, edited, made by hand, or another list's or workspace's."""


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=salt)


def encode(salt: str, created_at: datetime, row_id: str, *bound: str) -> str:
    """The cursor after this row; `bound` values (a workspace id) must be given again to decode it."""
    return _serializer(salt).dumps([*bound, created_at.astimezone(timezone.utc).isoformat(), row_id])


def decode(salt: str, cursor: object, *bound: str) -> tuple[datetime, str]:
    """The (created_at in UTC, id) a cursor from `encode` with the same salt and `bound` points after."""
    if not isinstance(cursor, str) or not cursor.isascii() or not 0 < len(cursor) <= MAX_CHARS:
        raise CursorError(cursor)
    try:
        payload = _serializer(salt).loads(cursor)
    except BadData:
        raise CursorError(cursor) from None
    if not isinstance(payload, list) or len(payload) != len(bound) + 2 or payload[:len(bound)] != list(bound):
        raise CursorError(cursor)
    created, row_id = payload[len(bound):]
    if not isinstance(created, str) or not isinstance(row_id, str) or not row_id:
        raise CursorError(cursor)
    try:
        at = datetime.fromisoformat(created)
    except ValueError:
        raise CursorError(cursor) from None
    if at.utcoffset() != timedelta(0):  # `encode` writes UTC; None (no zone) is refused too
        raise CursorError(cursor)
    return at, row_id
