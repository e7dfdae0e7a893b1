"""Write the audit log: one row per change a workspace relies on, in the change's own transaction.

Why here and not in an event hook: each action names its own target in words a person reads
("Flow Support bot, version 4"), and the row must commit or roll back with the change, so the
service that makes the change adds the row to the session and the view commits both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.extensions import db
from app.models import ApiKey, AuditEvent, User

MAX_LABEL = 400


class Action(str, enum.Enum):
    """What happened; the stored value is stable, `words` is what a person reads."""

    FLOW_PUBLISHED = "flow.published"
    FLOW_ROLLED_BACK = "flow.rolled_back"
    FLOW_ARCHIVED = "flow.archived"
    FLOW_RESTORED = "flow.restored"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    CREDENTIAL_CREATED = "credential.created"
    CREDENTIAL_CHANGED = "credential.changed"
    CREDENTIAL_DELETED = "credential.deleted"
    SECRET_ROTATED = "trigger.secret_rotated"
    MEMBER_INVITED = "member.invited"
    INVITATION_WITHDRAWN = "member.invitation_withdrawn"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    PASSWORD_RESET_LINK = "member.password_reset_link"

    @property
    def words(self) -> str:
        return ACTION_WORDS[self]


ACTION_WORDS = {
    Action.FLOW_PUBLISHED: "Published a flow",
    Action.FLOW_ROLLED_BACK: "Rolled back a flow",
    Action.FLOW_ARCHIVED: "Archived a flow",
    Action.FLOW_RESTORED: "Restored a flow",
    Action.API_KEY_CREATED: "Created an API key",
    Action.API_KEY_REVOKED: "Revoked an API key",
    Action.CREDENTIAL_CREATED: "Added a credential",
    Action.CREDENTIAL_CHANGED: "Changed a credential",
    Action.CREDENTIAL_DELETED: "Deleted a credential",
    Action.SECRET_ROTATED: "Made a new trigger secret",
    Action.MEMBER_INVITED: "Invited a teammate",
    Action.INVITATION_WITHDRAWN: "Withdrew an invitation",
    Action.MEMBER_JOINED: "Joined the workspace",
    Action.MEMBER_ROLE_CHANGED: "Changed a member's role",
    Action.MEMBER_REMOVED: "Removed a member",
    Action.PASSWORD_RESET_LINK: "Made a password reset link",
}


@dataclass(frozen=True)
class Actor:
    """Who did it: a user, an API key, or the server's command line."""

    label: str
    user_id: int | None = None
    api_key_id: str | None = None

    @classmethod
    def user(cls, user: User) -> "Actor":
        return cls(label=user.display_name, user_id=user.id)

    @classmethod
    def key(cls, key: ApiKey) -> "Actor":
        return cls(label=f"API key “{key.name}”", api_key_id=key.id)


COMMAND_LINE = Actor(label="The server's command line")


def current_actor() -> Actor:
    """The caller of the current request (API key or logged-in user); the command line outside one."""
    from flask import g, has_request_context
    from flask_login import current_user

    if not has_request_context():
        return COMMAND_LINE
    principal = getattr(g, "principal", None) or getattr(g, "page_principal", None)
    if principal is not None and principal.api_key is not None:
        return Actor.key(principal.api_key)
    if current_user and current_user.is_authenticated:
        return Actor.user(current_user)
    return COMMAND_LINE


def record(workspace_id: str, action: Action, *, target_type: str, target_id: str | None = None,
           target_label: str = "", details: dict | None = None, actor: Actor | None = None) -> AuditEvent:
    """Add one audit row to the session (the caller's commit writes it with the change)."""
    actor = actor or current_actor()
    event = AuditEvent(workspace_id=workspace_id, action=action.value, actor_user_id=actor.user_id,
                       actor_api_key_id=actor.api_key_id, actor_label=actor.label[:MAX_LABEL],
                       target_type=target_type, target_id=target_id, target_label=target_label[:MAX_LABEL],
                       details=details)
    db.session.add(event)
    return event
