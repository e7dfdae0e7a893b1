"""Workspace credentials: API keys, tokens and passwords that flow nodes send on the user's behalf.

The secret part is encrypted at rest (Fernet, key from CREDENTIALS_KEY) and never leaves the
server through the API or the pages: nodes pick a credential by name, and only the worker
decrypts it, right before the request that needs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, new_id, utcnow


class Credential(db.Model):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_credentials_workspace_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    # Not secret: which header an api_key or header credential is sent in; shown in lists.
    header: Mapped[str | None] = mapped_column(String(128), nullable=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet token of a JSON object
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
