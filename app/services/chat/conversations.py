"""Read conversations back: sessions per trigger and contact, and each session's messages.

Why messages are derived from runs instead of stored twice: every turn of a conversation is a
run, which already records what the user sent (the start node's message input) and what the flow
answered (`output.text`). Showing the runs behind each turn is then free, and retention removes a
turn's message together with its run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import or_

import flows
from app.extensions import db
from app.models import ConversationSession, Flow, Run, Trigger
from app.models.types import utcnow

MAX_SESSIONS = 200


@dataclass
class Turn:
    """One exchange: what the user said, what the flow answered, and the run that did it."""

    run: Run
    user_text: str | None
    reply_text: str | None


def is_expired(session: ConversationSession) -> bool:
    return session.expires_at <= utcnow()


def list_sessions(workspace_ids: list[str], flow_id: str | None = None, search: str | None = None,
                  limit: int = MAX_SESSIONS) -> list[tuple[ConversationSession, Flow, Trigger]]:
    """The most recently active sessions, optionally of one flow or matching a key or contact."""
    stmt = (db.select(ConversationSession, Flow, Trigger)
            .join(Flow, Flow.id == ConversationSession.flow_id)
            .join(Trigger, Trigger.id == ConversationSession.trigger_id)
            .where(ConversationSession.workspace_id.in_(workspace_ids)))
    if flow_id:
        stmt = stmt.where(ConversationSession.flow_id == flow_id)
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(or_(db.func.lower(ConversationSession.key).like(pattern),
                              db.func.lower(ConversationSession.contact_name).like(pattern),
                              db.func.lower(ConversationSession.contact_email).like(pattern),
                              ConversationSession.contact_phone.like(pattern)))
    stmt = stmt.order_by(ConversationSession.last_active_at.desc()).limit(limit)
    return [tuple(row) for row in db.session.execute(stmt)]


def get_session(workspace_ids: list[str], session_id: str) -> ConversationSession | None:
    """Find a session by our internal id, within the caller's workspaces."""
    if len(session_id) > 32:
        return None
    return db.session.execute(
        db.select(ConversationSession).where(ConversationSession.id == session_id,
                                             ConversationSession.workspace_id.in_(workspace_ids))
    ).scalar_one_or_none()


@dataclass
class Found:
    """What a conversation address points at: one session, or several to choose from."""

    session: ConversationSession | None = None
    choices: list[tuple[ConversationSession, Flow, Trigger]] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)  # every generation under this key and trigger


def find(workspace_ids: list[str], current_workspace_id: str | None, ref: str, trigger_id: str | None = None,
         generation: int | None = None) -> Found:
    """Resolve /conversations/<ref>: the session id a caller knows (its key), or our internal id.

    A key is looked up in the current workspace, or in the workspace of `trigger_id` (one of the
    caller's). The same key used with two triggers is two conversations: the answer lists them
    (`choices`) instead of guessing. Under one trigger a key names its latest conversation unless
    `generation` picks an earlier one (a key used after its session expired starts a new one).
    """
    if len(ref) > 255:
        return Found()
    stmt = (db.select(ConversationSession, Flow, Trigger)
            .join(Flow, Flow.id == ConversationSession.flow_id)
            .join(Trigger, Trigger.id == ConversationSession.trigger_id)
            .where(ConversationSession.key == ref, ConversationSession.workspace_id.in_(workspace_ids)))
    if trigger_id:
        stmt = stmt.where(ConversationSession.trigger_id == trigger_id)
    else:
        stmt = stmt.where(ConversationSession.workspace_id == current_workspace_id)
    rows = [tuple(row) for row in db.session.execute(stmt.order_by(ConversationSession.generation.desc()))]
    if not rows:
        return Found(session=None if trigger_id else get_session(workspace_ids, ref))
    if len({row[0].trigger_id for row in rows}) > 1:
        latest = {}
        for row in rows:
            latest.setdefault(row[0].trigger_id, row)
        return Found(choices=list(latest.values()))
    generations = [row[0].generation for row in rows]
    chosen = next((row[0] for row in rows if row[0].generation == generation), None) if generation else rows[0][0]
    return Found(session=chosen, generations=generations)


def link_args(session: ConversationSession) -> dict:
    """The url_for arguments that address `session` by the key the caller knows, unambiguously."""
    return {"session_id": session.key, "trigger": session.trigger_id, "generation": session.generation}


def turns(session: ConversationSession) -> list[Turn]:
    """The session's runs in order, each as the user's message and the flow's reply."""
    runs = db.session.execute(
        db.select(Run).where(Run.session_id == session.id).order_by(Run.created_at, Run.id)
    ).scalars().all()
    message_names: dict[str, str | None] = {}
    result = []
    for run in runs:
        if run.flow_version_id not in message_names:
            start = flows.Graph(run.version.document).start_node() or {}
            message_names[run.flow_version_id] = flows.message_input(start.get("config") or {})
        name = message_names[run.flow_version_id]
        user_text = (run.inputs or {}).get(name) if name else None
        reply = (run.output or {}).get("text") if isinstance(run.output, dict) else None
        result.append(Turn(run=run, user_text=_as_text(user_text), reply_text=_as_text(reply)))
    return result


def _as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
