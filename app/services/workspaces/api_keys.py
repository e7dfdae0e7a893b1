"""Create, revoke and resolve workspace API keys.

Creating and revoking are audited here, so the page, the JSON API and the CLI are logged alike;
the log names a key by its name, never by any part of its token.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import ALL_SCOPES, ApiKey, Flow, User, Workspace
from app.models.types import iso, utcnow
from app.json_body import listed
from app.services import audit
from app.services.triggers import lookup_cache
from app.services.workspaces.tokens import API_KEY_PREFIX, hash_token, new_token

LAST_USED_RESOLUTION_SECONDS = 60


def create_api_key(workspace: Workspace, name: str, scopes: list[str] | None = None,
                   flow_ids: list[str] | None = None, created_by: User | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is never retrievable again.

    No `scopes` means every scope (the CLI's historical behaviour); `flow_ids` None means every flow.
    """
    token = new_token(API_KEY_PREFIX)
    key = ApiKey(workspace_id=workspace.id, name=name, prefix=token[:10], key_hash=hash_token(token),
                 scopes=list(scopes) if scopes else list(ALL_SCOPES),
                 flow_ids=list(flow_ids) if flow_ids is not None else None,
                 created_by_id=created_by.id if created_by else None)
    db.session.add(key)
    db.session.flush()  # the audit row names the key by id
    details = {"scopes": list(key.scopes)}
    if key.flow_ids is not None:
        details["flow_count"] = len(key.flow_ids)  # limited to some flows; absent means every flow
    audit.record(workspace.id, audit.Action.API_KEY_CREATED, target_type="api_key", target_id=key.id,
                 target_label=name, details=details)
    return key, token


def revoke_api_key(key: ApiKey) -> bool:
    """Revoke the key (False when it already was); requests using it get 401 once the caller commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    audit.record(key.workspace_id, audit.Action.API_KEY_REVOKED, target_type="api_key", target_id=key.id,
                 target_label=key.name)
    return True


# Built once: every API-key-authenticated request runs it.
_LIVE_KEY = select(ApiKey).where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))


def find_api_key(token: str) -> ApiKey | None:
    """Return the live key for `token` and note its use (at most once a minute per key)."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    key = db.session.execute(_LIVE_KEY, {"key_hash": hash_token(token)}).scalar_one_or_none()
    if key is not None:
        _note_use(key)
    return key


def _note_use(key) -> None:
    """Record when a key was last used without a write per request (a busy key is hot).

    The write is marked neutral for the trigger lookup cache: a key's last use is not something
    a lookup decides on, so it must not empty every process's cache once a minute.
    """
    now = utcnow()
    if key.last_used_at is not None and (now - key.last_used_at).total_seconds() < LAST_USED_RESOLUTION_SECONDS:
        return
    db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now)
                       .execution_options(synchronize_session=False, **{lookup_cache.NEUTRAL: True}))
    db.session.commit()
    # The one change a cached key copy gets (see `lookup_cache.Snapshot`): without it every request
    # after the first minute would write again. Threads racing here at worst write once more.
    key.last_used_at = now


class CachedKey(lookup_cache.Snapshot):
    """A live API key's columns as the trigger endpoint keeps them (read-only, shared by threads)."""

    allows = ApiKey.allows
    allows_flow = ApiKey.allows_flow


_KEY_COLUMNS = [column.key for column in ApiKey.__table__.columns]
_LIVE_KEY_ROW = select(ApiKey.__table__).where(ApiKey.__table__.c.key_hash == bindparam("key_hash"),
                                               ApiKey.__table__.c.revoked_at.is_(None))


def find_trigger_caller_key(token: str, lookups: lookup_cache.Lookups) -> CachedKey | None:
    """Return the live key for `token` from the process's lookup cache (see `lookup_cache`) and note its use.

    For the trigger endpoint, whose callers send the same key thousands of times; the copy it
    returns is never attached to a database session. Unknown tokens are not kept.
    """
    if not token.startswith(API_KEY_PREFIX):
        return None
    key_hash = hash_token(token)

    def load() -> CachedKey | None:
        row = db.session.execute(_LIVE_KEY_ROW, {"key_hash": key_hash}).one_or_none()
        return CachedKey(**dict(zip(_KEY_COLUMNS, row))) if row is not None else None

    key = lookups.get(("api_key", key_hash), load, keep_missing=False)
    if key is not None:
        _note_use(key)
    return key


class KeyRequestError(ValueError):
    """The requested key settings are invalid; the message names the field."""


def checked_key_settings(workspace: Workspace, name, scopes, flow_ids, limit_to: ApiKey | None = None
                         ) -> tuple[str, list[str], list[str] | None]:
    """Validate a key request; `limit_to` (the calling key) caps what the new key may get.

    A key can never mint a more powerful key than itself: its scopes and flows are the ceiling.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise KeyRequestError("name must be a non-empty string of at most 200 characters.")
    if scopes is None:
        scopes = list(limit_to.scopes) if limit_to is not None else list(ALL_SCOPES)
    if not isinstance(scopes, list) or not scopes or any(s not in ALL_SCOPES for s in scopes):
        raise KeyRequestError(f"scopes must be a non-empty list drawn from {', '.join(ALL_SCOPES)}.")
    if flow_ids is not None:
        if not isinstance(flow_ids, list) or any(not isinstance(f, str) for f in flow_ids) or len(flow_ids) > 1000:
            raise KeyRequestError("flow_ids must be a list of at most 1000 flow ids, or null for every flow.")
        if not flow_ids:
            raise KeyRequestError("The key is limited to no flows, so it could use none; pick at least one flow, "
                                  "or allow every flow.")
        known = set(db.session.execute(db.select(Flow.id).where(Flow.workspace_id == workspace.id,
                                                                Flow.id.in_(flow_ids))).scalars())
        missing = [f for f in flow_ids if f not in known]
        if missing:
            raise KeyRequestError(f"flow_ids holds unknown flow(s): {listed(missing)}.")
    if limit_to is not None:
        extra = sorted(set(scopes) - set(limit_to.scopes))
        if extra:
            raise KeyRequestError(f"This key cannot grant scopes it does not have: {', '.join(extra)}.")
        if limit_to.flow_ids is not None and (flow_ids is None or set(flow_ids) - set(limit_to.flow_ids)):
            raise KeyRequestError("This key is limited to some flows; the new key must be limited to those too.")
    return name.strip(), sorted(set(scopes), key=ALL_SCOPES.index), (sorted(set(flow_ids)) if flow_ids is not None
                                                                     else None)


def api_key_dict(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "scopes": key.scopes, "flow_ids": key.flow_ids,
            "created_at": iso(key.created_at), "last_used_at": iso(key.last_used_at),
            "revoked_at": iso(key.revoked_at), "active": key.revoked_at is None}
