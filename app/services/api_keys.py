"""Create and resolve workspace API keys."""

from __future__ import annotations

from app.extensions import db
from app.models import ApiKey, Workspace
from app.services.tokens import API_KEY_PREFIX, hash_token, new_token


def create_api_key(workspace: Workspace, name: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is never retrievable again."""
    token = new_token(API_KEY_PREFIX)
    key = ApiKey(workspace_id=workspace.id, name=name, prefix=token[:10], key_hash=hash_token(token))
    db.session.add(key)
    return key, token


def find_api_key(token: str) -> ApiKey | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    return db.session.execute(
        db.select(ApiKey).where(ApiKey.key_hash == hash_token(token), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
