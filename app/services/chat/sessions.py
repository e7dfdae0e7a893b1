"""Find or start the conversation a trigger request belongs to.

A session continues while it has been active within the trigger's session duration (each turn
extends it: a conversation is not cut off mid-way because it started long ago); after that the
same session id starts a new conversation (`generation` + 1) and the old one stays visible.
With no session id, a contact's email (or phone) identifies the conversation, as ChatBotKit
does; with neither, every request is a conversation of its own.

Two concurrent requests that both find no live session race on the unique
(trigger, key, generation) constraint; the loser re-reads and joins the winner's session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

import flows
from app.extensions import db
from app.models import ConversationSession, Run, RunStatus, Trigger
from app.models.types import new_id, utcnow

HISTORY_TURNS = 50
GENERATED_PREFIX = "ses_"
MAX_KEY = 255  # ConversationSession.key


def session_key(explicit: str | None, contact: dict | None) -> tuple[str, bool]:
    """Return (key, generated): the caller's key, one derived from the contact, or a new one."""
    if explicit:
        return explicit, False
    if contact and contact.get("email"):
        return _fitting("contact:email:", contact["email"].lower()), False
    if contact and contact.get("phone"):
        digits = "".join(ch for ch in contact["phone"] if ch.isdigit() or ch == "+")
        return f"contact:phone:{digits}", False
    return GENERATED_PREFIX + secrets.token_hex(12), True


def _fitting(prefix: str, value: str) -> str:
    """`prefix + value`, or when that is longer than a session key may be, a digest of `value` under `prefix`.

    Why: an email may be 320 characters but a session key only 255 (the column, and what callers
    get back as `session_id`); PostgreSQL refused the longer key with a 500. The digest keeps one
    conversation per address, as the readable key does for every address that fits.
    """
    key = prefix + value
    if len(key) <= MAX_KEY:
        return key
    return f"{prefix.rstrip(':')}-sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def resolve(trigger: Trigger, key: str, generated: bool, contact: dict | None,
            duration_seconds: int) -> ConversationSession:
    """Return the live session for `key` (extended by one turn) or a new one; no commit.

    A new session is inserted with its first turn already counted (one INSERT, no UPDATE after
    it). A generated key is random, so no row can exist for it and no concurrent request can
    race for it: its session is inserted straight away, without a savepoint, and the object
    returned is not tracked by the ORM session (read it; do not change it).
    """
    now = utcnow()
    if generated:  # inserted with Core: the unit of work's bookkeeping cost more than the insert
        return _insert_first_turn(trigger, key, contact, duration_seconds, now)
    for _ in range(3):
        current = db.session.execute(
            db.select(ConversationSession).where(ConversationSession.trigger_id == trigger.id,
                                                 ConversationSession.key == key)
            .order_by(ConversationSession.generation.desc()).limit(1)
        ).scalar_one_or_none()
        if current is not None and current.expires_at > now:
            _touch(current, contact, duration_seconds, now)
            return current
        session = _new_session(trigger, key, (current.generation + 1) if current else 1, contact,
                               duration_seconds, now)
        savepoint = db.session.begin_nested()
        db.session.add(session)
        try:
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            continue  # another request started this generation first: join it
        return session
    raise RuntimeError(f"could not resolve session {key!r} after concurrent updates")


_SESSION_TABLE = ConversationSession.__table__
_SESSION_CLASS = ConversationSession.__mapper__.class_manager
INSERT_SESSION = insert(_SESSION_TABLE)


def _insert_first_turn(trigger: Trigger, key: str, contact: dict | None, duration_seconds: int,
                       now) -> ConversationSession:
    """Insert a new session at its first turn; return an untracked copy (see `first_turn`)."""
    row, session = first_turn(trigger, key, contact, duration_seconds, now)
    db.session.connection().execute(INSERT_SESSION, row)  # as `records.record_run` inserts its run
    return session


def first_turn(trigger: Trigger, key: str, contact: dict | None, duration_seconds: int,
               now=None) -> tuple[dict, ConversationSession]:
    """A new session's row at its first turn (for INSERT_SESSION) and an untracked copy of it.

    The row is built as a dict, and the copy filled as a loaded row is, not through
    `ConversationSession(...)` and its attribute change events, which cost more than the insert
    on the trigger's hot path. Read the copy; do not change it.
    """
    now = now or utcnow()
    row = {column.key: None for column in _SESSION_TABLE.columns}
    row.update(id=new_id(), workspace_id=trigger.workspace_id, flow_id=trigger.flow_id, trigger_id=trigger.id,
               key=key, generation=1, turns=1, created_at=now, last_active_at=now,
               expires_at=now + timedelta(seconds=duration_seconds),
               **{f"contact_{name}": value for name, value in (contact or {}).items()})
    session = _SESSION_CLASS.new_instance()
    session.__dict__.update(row)
    return row, session


def _new_session(trigger: Trigger, key: str, generation: int, contact: dict | None, duration_seconds: int,
                 now) -> ConversationSession:
    session = ConversationSession(
        id=new_id(), workspace_id=trigger.workspace_id, flow_id=trigger.flow_id, trigger_id=trigger.id, key=key,
        generation=generation, created_at=now, turns=0)
    _touch(session, contact, duration_seconds, now)
    return session


def _touch(session: ConversationSession, contact: dict | None, duration_seconds: int, now) -> None:
    session.turns = (session.turns or 0) + 1
    session.last_active_at = now
    session.expires_at = now + timedelta(seconds=duration_seconds)
    for name, value in (contact or {}).items():
        setattr(session, f"contact_{name}", value)


def session_payload(session: ConversationSession) -> dict:
    """Describe the session for `trigger.session` (the history is added when the run executes)."""
    data = {"id": session.key, "conversation_id": session.id, "turn": session.turns,
            "started_at": session.created_at.isoformat(), "history": []}
    if session.contact:
        data["contact"] = session.contact
    return data


def history(run: Run, graph: flows.Graph, limit: int = HISTORY_TURNS) -> list[dict]:
    """Return the conversation before `run`: user messages and flow replies, oldest first.

    Read when the run executes rather than stored with each request, so a long conversation
    does not copy its whole past into every run row.
    """
    if not run.session_id:
        return []
    earlier = db.session.execute(
        db.select(Run.inputs, Run.output, Run.flow_version_id).where(
            Run.session_id == run.session_id, Run.created_at < run.created_at,
            Run.status == RunStatus.SUCCEEDED)
        .order_by(Run.created_at.desc()).limit(limit)
    ).all()
    message_name = flows.message_input(((graph.start_node() or {}).get("config")) or {})
    turns: list[dict] = []
    for inputs, output, _ in reversed(earlier):
        message = (inputs or {}).get(message_name) if message_name else None
        if isinstance(message, (dict, list)):
            message = json.dumps(message, ensure_ascii=False, sort_keys=True)
        if isinstance(message, str) and message:
            turns.append({"role": "user", "content": message})
        reply = (output or {}).get("text") if isinstance(output, dict) else None
        if isinstance(reply, str) and reply:
            turns.append({"role": "assistant", "content": reply})
    return turns
