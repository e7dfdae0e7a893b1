"""Column types and id helpers shared by every model.

Why a UTC type: SQLite keeps no time zone, PostgreSQL does; storing naive UTC and handing back
aware UTC datetimes makes both behave the same to the rest of the code.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """Return an opaque, unguessable id (ids appear in URLs; sequential ones would leak counts)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    """Format a datetime for JSON answers (ISO 8601, UTC, millisecond precision)."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def enum_column(enum_cls):
    """Store an Enum as its plain string value (portable, readable in SQL, no native PG type)."""
    from sqlalchemy import Enum

    return Enum(enum_cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class TriggerRecord:
    """Columns of a row that records something about one trigger: a numeric id and the trigger.

    A mixin of the models that keep per-trigger records (request keys, body fingerprints,
    schedule fire claims); the rows go when their trigger is deleted.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger_id: Mapped[str] = mapped_column(ForeignKey("triggers.id", ondelete="CASCADE"))
