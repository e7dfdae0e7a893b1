"""Read the trigger contract's fields out of a request: who, which conversation, which event.

The seeds spell the same field several ways (ChatBotKit `session`, Chathive `sessionId`,
TriggerChatFlow `Uuid` / `OutId` / `Data`). Every spelling is accepted so each system is a
drop-in, and each field lands in one canonical name here (`docs/triggers.md` has the mapping).
Two spellings of one field in the same body are refused: guessing which one the caller meant
would hide a bug on their side.

What is left after the contract fields are taken out is the flow's inputs, validated later
against the start node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import available_timezones

from app.services.triggers.iso639 import LANGUAGE_CODES
from app.json_body import BodyError, listed

# canonical name -> accepted spellings (body fields), first one is the documented name
FIELDS: dict[str, tuple[str, ...]] = {
    "session": ("sessionId", "session", "session_id"),
    "contact": ("contact",),
    "environment": ("environment",),
    "language": ("language",),
    "timezone": ("timezone",),
    "customer": ("customer",),
    "context": ("context",),
    "uuid": ("uuid", "Uuid"),
    "out_id": ("outId", "OutId", "out_id"),
    "claim_time": ("claimTimeMillis", "ClaimTimeMillis"),
    "discard_time": ("discardTimeMillis", "DiscardTimeMillis"),
    "data": ("data", "Data"),
}
MAX_ID = 255
MAX_CONTEXT_KEYS = 100
MAX_TEXT = 200
CONTACT_FIELDS = {"name": 200, "email": 320, "phone": 40}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ().-]{3,40}$")
LANGUAGE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]{2,8})*$")
# Millisecond timestamps between 2001 and 2286: anything else is seconds sent by mistake, or junk.
MIN_MILLIS, MAX_MILLIS = 1_000_000_000_000, 9_999_999_999_999


@dataclass
class TriggerRequest:
    """The contract fields of one request, validated, plus the body left for the flow's inputs."""

    inputs_body: dict
    session_key: str | None = None
    contact: dict | None = None
    environment: str = "api"
    language: str | None = None
    timezone: str | None = None
    customer: object = None
    context: dict = field(default_factory=dict)
    idempotency_key: str | None = None
    out_id: str | None = None
    event_at: datetime | None = None
    discard_at: datetime | None = None

    def metadata(self) -> dict:
        """Return what nodes see as `trigger.*` (besides the session, added once it is known)."""
        data = {"environment": self.environment, "language": self.language, "timezone": self.timezone,
                "customer": self.customer, "context": self.context, "out_id": self.out_id,
                "uuid": self.idempotency_key, "contact": self.contact,
                "claim_time": self.event_at.isoformat() if self.event_at else None,
                "discard_time": self.discard_at.isoformat() if self.discard_at else None}
        return {name: value for name, value in data.items() if value not in (None, {}, "")}


def parse(body: dict, *, idempotency_header: str | None, reserved_inputs: set[str] = frozenset()) -> TriggerRequest:
    """Split `body` into contract fields and inputs; raise BodyError naming the field to fix.

    `reserved_inputs` are start-node input names: a flow that declares an input called `context`
    gets the body's `context` as that input, not as the contract field.
    """
    rest = dict(body)
    values: dict[str, object] = {}
    for canonical, spellings in FIELDS.items():
        present = [name for name in spellings if name in rest and name not in reserved_inputs]
        if len(present) > 1:
            raise BodyError("invalid_body", f"Send {canonical} once; got {' and '.join(present)}.",
                            [{"field": name, "reason": "duplicate field"} for name in present[1:]])
        if present:
            values[canonical] = rest.pop(present[0])
            values[f"{canonical}:name"] = present[0]

    request = TriggerRequest(inputs_body=rest)
    if "data" in values:
        _merge_data(request, values["data"], values["data:name"])
    request.session_key = _identifier(values, "session")
    request.out_id = _identifier(values, "out_id")
    request.idempotency_key = _idempotency_key(values, idempotency_header)
    request.contact = _contact(values)
    request.environment = _short_text(values, "environment") or "api"
    request.language = _language(values)
    request.timezone = _timezone(values)
    request.customer = _customer(values)
    request.context = _context(values)
    request.event_at = _millis(values, "claim_time")
    request.discard_at = _millis(values, "discard_time")
    return request


def _fail(values: dict, canonical: str, reason: str) -> BodyError:
    name = values.get(f"{canonical}:name", canonical)
    return BodyError("invalid_body", f"{name} {reason}.", [{"field": name, "reason": reason}])


def _merge_data(request: TriggerRequest, data: object, name: str) -> None:
    """Accept TriggerChatFlow's `Data` object: its keys are the flow's inputs."""
    if not isinstance(data, dict):
        raise BodyError("invalid_body", f"{name} must be an object of input values.",
                        [{"field": name, "reason": "must be an object"}])
    clash = sorted(set(data) & set(request.inputs_body))
    if clash:
        raise BodyError("invalid_body", f"{listed(clash)} is sent both inside {name} and at the top level; "
                        "send it once.", [{"field": key, "reason": "duplicate field"} for key in clash])
    request.inputs_body.update(data)


def _identifier(values: dict, canonical: str) -> str | None:
    value = values.get(canonical)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID:
        raise _fail(values, canonical, f"must be a non-empty string of at most {MAX_ID} characters")
    return value.strip()


def idempotency_header(header: str | None) -> str | None:
    """Return the Idempotency-Key header's key (None when not sent); BodyError when it is empty or too long."""
    if header is None:
        return None
    header = header.strip()
    if not header or len(header) > MAX_ID:
        raise BodyError("invalid_idempotency_key", f"The Idempotency-Key header must be 1 to {MAX_ID} characters.",
                        [{"field": "Idempotency-Key", "reason": "invalid"}])
    return header


def _idempotency_key(values: dict, header: str | None) -> str | None:
    body_key = _identifier(values, "uuid")
    header = idempotency_header(header)
    if header is not None:
        if body_key is not None and body_key != header:
            raise BodyError("invalid_idempotency_key", "The Idempotency-Key header and the body's uuid differ; "
                            "send one key.", [{"field": "uuid", "reason": "differs from Idempotency-Key"}])
        return header
    return body_key


def _contact(values: dict) -> dict | None:
    contact = values.get("contact")
    if contact is None:
        return None
    if not isinstance(contact, dict):
        raise _fail(values, "contact", "must be an object with name, email and/or phone")
    unknown = sorted(set(contact) - set(CONTACT_FIELDS))
    if unknown:
        raise BodyError("invalid_body", f"contact has unknown field(s) {listed(unknown)}; use name, email, phone.",
                        [{"field": f"contact.{name}", "reason": "unknown field"} for name in unknown])
    clean = {}
    for name, limit in CONTACT_FIELDS.items():
        value = contact.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise BodyError("invalid_body", f"contact.{name} must be a non-empty string of at most {limit} characters.",
                            [{"field": f"contact.{name}", "reason": "invalid"}])
        clean[name] = value.strip()
    if "email" in clean and not EMAIL.match(clean["email"]):
        raise BodyError("invalid_body", "contact.email is not an email address.",
                        [{"field": "contact.email", "reason": "not an email address"}])
    if "phone" in clean and not PHONE.match(clean["phone"]):
        raise BodyError("invalid_body", "contact.phone may hold only digits, spaces, '+', '-', '.', and brackets.",
                        [{"field": "contact.phone", "reason": "not a phone number"}])
    if not clean:
        raise _fail(values, "contact", "needs at least one of name, email, phone")
    return clean


def _short_text(values: dict, canonical: str) -> str | None:
    value = values.get(canonical)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise _fail(values, canonical, f"must be a non-empty string of at most {MAX_TEXT} characters")
    return value.strip()


def _language(values: dict) -> str | None:
    value = _short_text(values, "language")
    if value is None:
        return None
    match = LANGUAGE.match(value)
    if not match or match.group(1).lower() not in LANGUAGE_CODES:
        raise _fail(values, "language", "must be an ISO 639-1 language code such as 'en' or 'pt-BR'")
    return value


def _timezone(values: dict) -> str | None:
    value = _short_text(values, "timezone")
    if value is None:
        return None
    if value not in _time_zones():
        raise _fail(values, "timezone", "must be an IANA time zone such as 'Europe/Paris' or 'UTC'")
    return value


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """Return the IANA zone names (a set lookup, so no caller string ever becomes a file path)."""
    return frozenset(available_timezones())


def _customer(values: dict) -> object:
    value = values.get("customer")
    if value is None:
        return None
    if isinstance(value, str) and value.strip() and len(value) <= MAX_ID:
        return value
    if isinstance(value, dict):
        return value
    raise _fail(values, "customer", "must be an object or a string identifying the customer")


def _context(values: dict) -> dict:
    value = values.get("context")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(values, "context", "must be an object of string, number or boolean values")
    if len(value) > MAX_CONTEXT_KEYS:
        raise _fail(values, "context", f"may hold at most {MAX_CONTEXT_KEYS} entries")
    for key, item in value.items():
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise BodyError("invalid_body", f"context.{key} must be a string, number or boolean.",
                            [{"field": f"context.{key}", "reason": "must be a string, number or boolean"}])
    return {key: item for key, item in value.items() if item is not None}


def _millis(values: dict, canonical: str) -> datetime | None:
    value = values.get(canonical)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_MILLIS <= value <= MAX_MILLIS:
        raise _fail(values, canonical, "must be a UNIX time in milliseconds (an integer such as 1731502129000)")
    return datetime.fromtimestamp(value / 1000, timezone.utc)
