"""Say an audit event's details in words for the audit page ("Version 4 is live").

Why a table per action: the API hands out `details` as stored (stable keys for scripts), while a
person reading the page should not have to know those keys. Actions without an entry (and any
key an entry does not know) fall back to "Key: value" in plain words, so a detail added later is
still shown rather than hidden. Other modules may add entries to `DETAIL_WORDS`.
"""

from __future__ import annotations

from typing import Callable

from app.models import Scope
from app.services.audit import Action
from app.words import credential_kind_words

SECRET_WORDS = {
    "secret": "A new secret; the old one stopped working.",
    "signing_secret": "A new signing secret; the previous one keeps working for 24 hours.",
}
FIELD_WORDS = {"name": "name", "kind": "kind", "header": "header", "secret": "secret"}


def _published(details: dict) -> str:
    return f"Version {details.get('version')} is live."


def _rolled_back(details: dict) -> str:
    return (f"From version {details.get('from')} back to version {details.get('to')}, "
            f"now live as version {details.get('version')}.")


def _key_created(details: dict) -> str:
    words = []
    for value in details.get("scopes") or []:
        try:
            words.append(Scope(value).description.rstrip("."))
        except ValueError:
            words.append(str(value))
    text = "May: " + "; ".join(words) + "." if words else ""
    count = details.get("flow_count")
    if count is not None:
        text += f" Limited to {count} flow{'' if count == 1 else 's'}."
    return text.strip()


def _credential_kind(details: dict) -> str:
    return f"Kind: {credential_kind_words(details.get('kind'))}." if details.get("kind") else ""


def _credential_changed(details: dict) -> str:
    changed = [FIELD_WORDS.get(field, str(field)) for field in details.get("changed") or []]
    text = f"Changed its {', '.join(changed)}." if changed else ""
    if details.get("renamed_from"):
        text += f" It was called “{details['renamed_from']}”."
    return text.strip()


def _secret_rotated(details: dict) -> str:
    return SECRET_WORDS.get(details.get("secret"), "")


def _role_changed(details: dict) -> str:
    return f"From {details.get('from')} to {details.get('to')}."


def _with_role(details: dict) -> str:
    return f"As {details.get('role')}." if details.get("role") else ""


DETAIL_WORDS: dict[Action, Callable[[dict], str]] = {
    Action.MEMBER_ROLE_CHANGED: _role_changed,
    Action.MEMBER_INVITED: _with_role,
    Action.MEMBER_JOINED: _with_role,
    Action.FLOW_PUBLISHED: _published,
    Action.FLOW_ROLLED_BACK: _rolled_back,
    Action.API_KEY_CREATED: _key_created,
    Action.CREDENTIAL_CREATED: _credential_kind,
    Action.CREDENTIAL_CHANGED: _credential_changed,
    Action.CREDENTIAL_DELETED: _credential_kind,
    Action.SECRET_ROTATED: _secret_rotated,
}
HIDDEN_KEYS = {"flow_id"}  # ids: the page links instead


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_key(k)}: {_plain(v)}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


def _key(name: object) -> str:
    return str(name).replace("_", " ").capitalize()


def details_words(action: str, details: dict | None) -> str:
    """The event's details as a sentence or two; empty when there is nothing to add."""
    if not isinstance(details, dict) or not details:
        return ""
    try:
        words = DETAIL_WORDS.get(Action(action))
    except ValueError:
        words = None
    if words is not None:
        return words(details)
    # Sorted: PostgreSQL's JSONB keeps keys in its own order, SQLite in the written one.
    return "; ".join(f"{_key(k)}: {_plain(v)}" for k, v in sorted(details.items()) if k not in HIDDEN_KEYS)
