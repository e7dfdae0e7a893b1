"""Read a workspace's audit log a page at a time, newest first, for the page and `GET /api/v1/audit`.

Why (created_at, id) order and a signed cursor: events keep arriving while someone pages back,
and a cursor that says "older than this event" never repeats or skips a row when new ones land
on top (an offset would). The cursor is signed with the app's secret so a hand-edited one is
refused with a clear 400 instead of quietly listing from somewhere else; it is bound to its
workspace so it cannot be replayed against another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_

from app.digits import ascii_whole
from app.extensions import db
from app.models import AuditEvent, Flow
from app.models.types import iso
from app.query_args import RepeatedParameter, single_values
from app.services import cursors
from app.services.audit import Action

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PARAMETERS = ("limit", "cursor", "action", "workspace_id")
CURSOR_SALT = "audit-log-cursor"


class QueryError(ValueError):
    """A query parameter cannot be used; `parameter` names it, the message says what to send."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter, self.message = parameter, message


@dataclass(frozen=True)
class Query:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    action: Action | None = None


@dataclass
class Page:
    events: list[AuditEvent]
    next_cursor: str | None


def printable(name: str, limit: int = 40) -> str:
    """A parameter name safe to repeat in a message: short, no lone surrogates."""
    text = name.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "…"


def parse_query(args, allowed: tuple[str, ...] = PARAMETERS) -> Query:
    """Check the query string (a MultiDict); raise QueryError naming the first bad parameter."""
    for name in args:
        if name not in allowed:
            raise QueryError(name, f"Unknown parameter '{printable(name)}'. Parameters: {', '.join(allowed)}.")
    try:
        args = single_values(args)
    except RepeatedParameter as exc:
        raise QueryError(exc.name, exc.message) from None
    raw_limit = args.get("limit", "")
    limit = DEFAULT_LIMIT
    if raw_limit != "":
        limit = ascii_whole(raw_limit, MAX_LIMIT)
        if limit is None or limit < 1:
            raise QueryError("limit", f"limit must be a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).")
    action = None
    raw_action = args.get("action", "")
    if raw_action != "":
        try:
            action = Action(raw_action)
        except ValueError:
            raise QueryError("action", "action must be one of: " + ", ".join(a.value for a in Action) + ".") from None
    cursor = args.get("cursor") or None
    if cursor is not None and len(cursor) > cursors.MAX_CHARS:
        raise QueryError("cursor", _CURSOR_MESSAGE)
    return Query(limit=limit, cursor=cursor, action=action)


_CURSOR_MESSAGE = "cursor is not one this log gave out; pass next_cursor from the previous page unchanged."


def encode_cursor(workspace_id: str, event: AuditEvent) -> str:
    return cursors.encode(CURSOR_SALT, event.created_at, event.id, workspace_id)


def decode_cursor(workspace_id: str, cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) the cursor points after; QueryError when garbled, edited or another log's."""
    try:
        return cursors.decode(CURSOR_SALT, cursor, workspace_id)
    except cursors.CursorError:
        raise QueryError("cursor", _CURSOR_MESSAGE) from None


def page(workspace_id: str, query: Query) -> Page:
    """One page of the workspace's events, newest first; `next_cursor` None on the last page."""
    statement = db.select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    if query.action is not None:
        statement = statement.where(AuditEvent.action == query.action.value)
    if query.cursor is not None:
        created, event_id = decode_cursor(workspace_id, query.cursor)
        statement = statement.where(or_(AuditEvent.created_at < created,
                                        and_(AuditEvent.created_at == created, AuditEvent.id < event_id)))
    statement = statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(query.limit + 1)
    rows = list(db.session.execute(statement).scalars())
    events = rows[:query.limit]
    more = len(rows) > query.limit
    return Page(events=events, next_cursor=encode_cursor(workspace_id, events[-1]) if more else None)


def flow_of(event: AuditEvent) -> str | None:
    """The flow an event is about: its target, or a trigger's flow (`details.flow_id`)."""
    if event.target_type == "flow":
        return event.target_id
    flow_id = event.details.get("flow_id") if isinstance(event.details, dict) else None
    return flow_id if isinstance(flow_id, str) else None


def existing_flows(workspace_id: str, events: list[AuditEvent]) -> set[str]:
    """Which of the events' flows still exist in the workspace (the page links only to those)."""
    wanted = {flow_id for flow_id in map(flow_of, events) if flow_id}
    if not wanted:
        return set()
    return set(db.session.execute(db.select(Flow.id).where(Flow.workspace_id == workspace_id,
                                                           Flow.id.in_(wanted))).scalars())


def action_words(value: str) -> str:
    """An action in words; a value this version does not know is shown as it is stored."""
    try:
        return Action(value).words
    except ValueError:
        return value.replace("_", " ").replace(".", ": ")


def event_dict(event: AuditEvent) -> dict:
    """One event as the API answers it: stable action value, its words, who, on what, details."""
    return {"id": event.id, "at": iso(event.created_at), "action": event.action,
            "action_words": action_words(event.action),
            "actor": {"label": event.actor_label, "user_id": event.actor_user_id,
                      "api_key_id": event.actor_api_key_id},
            "target": {"type": event.target_type, "id": event.target_id, "label": event.target_label},
            "details": event.details}
