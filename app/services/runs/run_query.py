"""Find runs: the filters and cursor pagination shared by the runs pages and the JSON API.

Why one parser for both: the UI's filter form and `GET /api/v1/runs` take the same names, so a
URL copied from the browser works against the API and a mistake gets the same explanation in both.
Why a cursor and not page numbers: runs arrive all the time; an offset would skip or repeat rows
while someone pages, a (created_at, id) cursor never does (`app.services.cursors`, signed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, or_
from sqlalchemy.orm import selectinload

from app.digits import ascii_whole
from app.extensions import db
from app.models import ConversationSession, Run, RunStatus
from app.query_args import RepeatedParameter, single_values
from app.services import cursors

DEFAULT_TAKE = 50
MAX_TAKE = 200
FILTER_NAMES = ("status", "flow", "trigger", "trigger_type", "version", "session", "conversation", "out_id",
                "idempotency_key", "since", "until")
PAGING_NAMES = ("cursor", "take", "order", "limit")
TEXT_LIMIT = 255
CURSOR_SALT = "runs-cursor"
_LOST_PLUS = re.compile(r"^(\S+T\S+) (\d{2}:?\d{2})$")


class FilterError(ValueError):
    """A filter or paging parameter is unusable; `field` names it and the message says what to send."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class RunQuery:
    """Parsed filters; empty fields do not filter."""

    statuses: list[RunStatus] = field(default_factory=list)
    flow_id: str | None = None
    trigger_node_id: str | None = None
    trigger_type: str | None = None
    version: int | None = None
    session_key: str | None = None
    conversation_id: str | None = None
    out_id: str | None = None
    idempotency_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    take: int = DEFAULT_TAKE
    order: str = "desc"
    cursor: tuple[datetime, str] | None = None

    def args(self) -> dict:
        """The filters as query-string arguments (for links: next page, live refresh)."""
        values = {
            "status": ",".join(s.value for s in self.statuses), "flow": self.flow_id,
            "trigger": self.trigger_node_id, "trigger_type": self.trigger_type,
            "version": self.version, "session": self.session_key, "conversation": self.conversation_id,
            "out_id": self.out_id, "idempotency_key": self.idempotency_key,
            "since": _format_time(self.since), "until": _format_time(self.until),
        }
        if self.take != DEFAULT_TAKE:
            values["take"] = self.take
        if self.order != "desc":
            values["order"] = self.order
        return {name: value for name, value in values.items() if value not in (None, "")}


@dataclass
class RunPage:
    runs: list[Run]
    next_cursor: str | None

    @property
    def any_live(self) -> bool:
        """True while a run on this page can still change status (the page keeps polling)."""
        return any(not run.status.is_final for run in self.runs)


def parse(args, unknown_ok: bool = False) -> RunQuery:
    """Read filters from a request's query arguments; raise FilterError naming the first bad one."""
    try:
        args = single_values(args, several=("status",))  # status takes several values, comma-separated or repeated
    except RepeatedParameter as exc:
        raise FilterError(exc.name, f"{exc.message[:-1]} (only status takes several values, e.g. "
                                    f"status=queued,failed).") from None
    if not unknown_ok:
        unknown = sorted(set(args) - set(FILTER_NAMES) - set(PAGING_NAMES))
        if unknown:
            raise FilterError(unknown[0], f"Unknown parameter '{unknown[0]}'. Filters: {', '.join(FILTER_NAMES)}; "
                                          f"paging: cursor, take, order.")
    query = RunQuery()
    raw_status = _text(args, "status")
    if raw_status:
        for value in (part.strip().lower() for part in raw_status.split(",")):
            try:
                query.statuses.append(RunStatus(value))
            except ValueError:
                allowed = ", ".join(s.value for s in RunStatus)
                raise FilterError("status", f"status '{value}' is not one of: {allowed}.") from None
    query.flow_id = _text(args, "flow", 32)
    query.trigger_node_id = _text(args, "trigger", 64)
    query.trigger_type = _text(args, "trigger_type", 64)
    query.session_key = _text(args, "session")
    query.conversation_id = _text(args, "conversation", 32)
    query.out_id = _text(args, "out_id")
    query.idempotency_key = _text(args, "idempotency_key")
    query.version = _positive_int(args, "version", None, maximum=10**9)
    query.since = _time(args, "since")
    query.until = _time(args, "until")
    if query.since and query.until and query.since > query.until:
        raise FilterError("since", "since must not be later than until.")
    take_name = "take" if _text(args, "take") else "limit"
    query.take = _positive_int(args, take_name, DEFAULT_TAKE, maximum=MAX_TAKE)
    order = (_text(args, "order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise FilterError("order", "order must be 'asc' (oldest first) or 'desc' (newest first).")
    query.order = order
    cursor = (args.get("cursor") or "").strip()  # any text: the one answer to a bad one is "use next_cursor"
    query.cursor = _decode_cursor(cursor) if cursor else None
    return query


def find(query: RunQuery, workspace_ids: list[str], flow_ids: list[str] | None = None) -> RunPage:
    """One page of runs matching `query` inside the caller's workspaces (and flows, for limited keys)."""
    stmt = db.select(Run).where(Run.workspace_id.in_(workspace_ids))
    if flow_ids is not None:
        stmt = stmt.where(Run.flow_id.in_(flow_ids))
    if query.statuses:
        stmt = stmt.where(Run.status.in_(query.statuses))
    for column, value in ((Run.flow_id, query.flow_id), (Run.trigger_node_id, query.trigger_node_id),
                          (Run.trigger_type, query.trigger_type), (Run.version_number, query.version),
                          (Run.session_id, query.conversation_id), (Run.out_id, query.out_id),
                          (Run.idempotency_key, query.idempotency_key)):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.session_key is not None:
        sessions = db.select(ConversationSession.id).where(ConversationSession.key == query.session_key,
                                                           ConversationSession.workspace_id.in_(workspace_ids))
        stmt = stmt.where(Run.session_id.in_(sessions))
    if query.since:
        stmt = stmt.where(Run.created_at >= query.since)
    if query.until:
        stmt = stmt.where(Run.created_at <= query.until)
    descending = query.order == "desc"
    if query.cursor:
        at, run_id = query.cursor
        if descending:
            stmt = stmt.where(or_(Run.created_at < at, and_(Run.created_at == at, Run.id < run_id)))
        else:
            stmt = stmt.where(or_(Run.created_at > at, and_(Run.created_at == at, Run.id > run_id)))
    ordering = (Run.created_at.desc(), Run.id.desc()) if descending else (Run.created_at.asc(), Run.id.asc())
    stmt = stmt.options(selectinload(Run.session))  # the session key is shown per row
    rows = db.session.execute(stmt.order_by(*ordering).limit(query.take + 1)).scalars().all()
    more = len(rows) > query.take
    rows = rows[:query.take]
    return RunPage(rows, _encode_cursor(rows[-1]) if more and rows else None)


def _text(args, name: str, limit: int = TEXT_LIMIT) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = value.strip()
    if "\x00" in value:
        raise FilterError(name, f"{name} must not contain NUL characters.")
    if len(value) > limit:
        raise FilterError(name, f"{name} must be at most {limit} characters.")
    return value or None


def _positive_int(args, name: str, default, maximum: int):
    raw = _text(args, name)
    if raw is None:
        return default
    number = ascii_whole(raw, maximum)
    if number is None or number < 1:
        raise FilterError(name, f"{name} must be a whole number from 1 to {maximum} (digits 0-9), got '{raw}'.")
    return number


def _time(args, name: str) -> datetime | None:
    """Accept ISO 8601 (`2026-11-21T10:02`, with seconds, `Z` or an offset); no offset means UTC.

    A time whose UTC moment falls outside years 1-9999 (`0001-01-01T00:00+01:00`) is refused here:
    Python cannot hold it, and converting it raised OverflowError, a 500.
    """
    raw = _text(args, name, 40)
    if raw is None:
        return None
    # An unencoded "+01:00" in a query string arrives as " 01:00": read it as the offset it was.
    raw = _LOST_PLUS.sub(r"\1+\2", raw)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise FilterError(name, f"{name} must be a date and time like 2026-11-21T10:02 (UTC) "
                                f"or 2026-11-21T10:02:00+01:00, got '{raw}'.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise FilterError(name, f"{name} must fall between years 1 and 9999 in UTC, got '{raw}'.") from None


def _format_time(value: datetime | None) -> str | None:
    """As `_time` reads it back; isoformat, since strftime writes year 1 as "1", which it cannot."""
    return value.replace(tzinfo=None).isoformat(timespec="seconds") if value else None


def _encode_cursor(run: Run) -> str:
    return cursors.encode(CURSOR_SALT, run.created_at, run.id)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        return cursors.decode(CURSOR_SALT, cursor)
    except cursors.CursorError:
        raise FilterError("cursor", "cursor is not one this server gave out; use next_cursor from a previous "
                                    "answer, or leave it out for the first page.") from None
