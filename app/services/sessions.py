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

import json
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

import flows
from app.extensions import db
from app.models import ConversationSession, Run, RunStatus, Trigger
from app.models.types import utcnow

HISTORY_TURNS = 50
GENERATED_PREFIX = "ses_"


def session_key(explicit: str | None, contact: dict | None) -> tuple[str, bool]:
    """Return (key, generated): the caller's key, one derived from the contact, or a new one."""
    if explicit:
        return explicit, False
    if contact and contact.get("email"):
        return f"contact:email:{contact['email'].lower()}", False
    if contact and contact.get("phone"):
        digits = "".join(ch for ch in contact["phone"] if ch.isdigit() or ch == "+")
        return f"contact:phone:{digits}", False
    return GENERATED_PREFIX + secrets.token_hex(12), True


def resolve(trigger: Trigger, key: str, generated: bool, contact: dict | None,
            duration_seconds: int) -> ConversationSession:
    """Return the live session for `key` (extended by one turn) or a new one; flushes, no commit."""
    now = utcnow()
    for _ in range(3):
        current = None if generated else db.session.execute(
            db.select(ConversationSession).where(ConversationSession.trigger_id == trigger.id,
                                                 ConversationSession.key == key)
            .order_by(ConversationSession.generation.desc()).limit(1)
        ).scalar_one_or_none()
        if current is not None and current.expires_at > now:
            session = current
        else:
            session = ConversationSession(
                workspace_id=trigger.workspace_id, flow_id=trigger.flow_id, trigger_id=trigger.id, key=key,
                generation=(current.generation + 1) if current else 1, created_at=now, turns=0,
                last_active_at=now, expires_at=now + timedelta(seconds=duration_seconds))
            savepoint = db.session.begin_nested()
            db.session.add(session)
            try:
                savepoint.commit()
            except IntegrityError:
                savepoint.rollback()
                continue  # another request started this generation first: join it
        _touch(session, contact, duration_seconds, now)
        return session
    raise RuntimeError(f"could not resolve session {key!r} after concurrent updates")


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
