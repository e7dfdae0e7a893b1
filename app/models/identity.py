"""Users, workspaces, memberships and API keys: who may do what, and where.

Every other row belongs to a workspace; the workspace is the unit of permission.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


def new_session_token() -> str:
    return new_id()


class Role(str, enum.Enum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # What teammates see in the members list and the audit log; the email when empty.
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the id every session and remember-me cookie carries (`get_id`): replacing it ends
    # every session of the user at once, on every web process (see services/workspaces/sessions).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token, server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        """The session id: user id and session token, so a replaced token refuses old cookies."""
        return f"{self.id}:{self.session_token}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def set_password(self, password: str) -> None:
        """Hash by the configured PASSWORD_HASH_METHOD; a stored hash names its own method, so old ones still verify."""
        from app.config import settings

        self.password_hash = generate_password_hash(password, settings().password_hash_method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # IANA name; schedules without their own time zone use it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="workspace", cascade="all, delete-orphan")


class Membership(db.Model):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship(back_populates="memberships")


class Scope(str, enum.Enum):
    """What an API key may do. `flows:manage` implies `flows:read`."""

    TRIGGER = "runs:trigger"
    READ_RUNS = "runs:read"
    READ_FLOWS = "flows:read"
    MANAGE_FLOWS = "flows:manage"

    @property
    def description(self) -> str:
        return SCOPE_DESCRIPTIONS[self]


SCOPE_DESCRIPTIONS = {
    Scope.TRIGGER: "Call trigger URLs and start runs (Run now, invoke).",
    Scope.READ_RUNS: "Read runs, their steps, and conversations.",
    Scope.READ_FLOWS: "Read flows, versions and triggers.",
    Scope.MANAGE_FLOWS: "Create, change and delete flows, triggers and API keys.",
}
ALL_SCOPES = [scope.value for scope in Scope]


class ApiKey(db.Model):
    """A workspace key for the JSON API and triggers; only its SHA-256 is stored.

    `scopes` limits what it may do and `flow_ids` (None = every flow) which flows it may touch,
    so a key pasted into one external system can be no more powerful than that system needs.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scopes: Mapped[list] = mapped_column(JSON, default=lambda: list(ALL_SCOPES))
    flow_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    workspace: Mapped[Workspace] = relationship()

    def allows(self, scope: Scope) -> bool:
        granted = set(self.scopes or [])
        return scope.value in granted or (scope is Scope.READ_FLOWS and Scope.MANAGE_FLOWS.value in granted)

    def allows_flow(self, flow_id: str) -> bool:
        return self.flow_ids is None or flow_id in self.flow_ids
