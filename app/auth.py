"""Decide who is calling and which workspaces they may see.

A caller is either a logged-in user (browser session, CSRF-protected) or a workspace API key
(`Authorization: Bearer sbk_…`). Both become a `Principal` holding the caller's role per
workspace; every query is filtered by it, so another workspace's ids simply answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, g, request, session
from flask_login import current_user

from app.errors import ApiError
from app.extensions import csrf, db, login_manager
from app.models import ApiKey, Membership, Role, Scope, User, Workspace
from app.permissions import KEY_PERMISSIONS, REFUSALS, Permission, role_allows
from app.services.workspaces.api_keys import find_api_key
from app.services.workspaces.sessions import load_session_user
from app.services.workspaces.tokens import bearer_token


@dataclass
class Principal:
    roles: dict[str, Role]
    user: User | None = None
    api_key: ApiKey | None = None
    default_workspace_id: str | None = None
    workspace_ids: list[str] = field(init=False)

    def __post_init__(self):
        self.workspace_ids = list(self.roles)

    def role(self, workspace_id: str) -> Role | None:
        return self.roles.get(workspace_id)

    def can(self, workspace_id: str | None, permission: Permission) -> bool:
        """Whether the caller may do `permission` in the workspace (the table in app.permissions)."""
        if workspace_id is None or workspace_id not in self.roles:
            return False
        if self.api_key is not None:
            return permission in KEY_PERMISSIONS
        return role_allows(self.roles[workspace_id], permission)

    def require(self, workspace_id: str | None, permission: Permission) -> None:
        """Refuse (403 naming what the role lacks) unless the caller may do `permission` there."""
        if not self.can(workspace_id, permission):
            raise ApiError(403, "forbidden", REFUSALS[permission], {"required_permission": permission.value})

    def require_scope(self, scope: Scope) -> None:
        """Refuse an API key without `scope` (403 naming it); logged-in users have their role instead."""
        if self.api_key is not None and not self.api_key.allows(scope):
            raise ApiError(403, "insufficient_scope", f"This API key lacks the '{scope.value}' scope "
                           f"({scope.description}). Create a key with that scope.",
                           {"required_scope": scope.value})

    def may_use_flow(self, flow_id: str) -> bool:
        """Whether the caller may touch this flow at all (an API key may be limited to some flows)."""
        return self.api_key is None or self.api_key.allows_flow(flow_id)

    @property
    def flow_ids(self) -> list[str] | None:
        """The flows an API key is limited to, or None for no limit."""
        return self.api_key.flow_ids if self.api_key is not None else None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."

    login_manager.user_loader(load_session_user)


def user_principal(user: User) -> Principal:
    roles = {m.workspace_id: m.role for m in user.memberships}
    preferred = session.get("workspace_id")
    default = preferred if preferred in roles else (next(iter(sorted(roles))) if roles else None)
    return Principal(roles=roles, user=user, default_workspace_id=default)


def api_principal(scope: Scope | None = None) -> Principal:
    """Authenticate a JSON API request by API key or session; raise 401 otherwise.

    Session callers must send the CSRF token on writes; API-key callers need none. With `scope`,
    an API key without it is refused (403).
    """
    principal = _principal()
    if scope is not None:
        principal.require_scope(scope)
    return principal


def _principal() -> Principal:
    cached = getattr(g, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request.headers.get("Authorization"))
    if token:
        key = find_api_key(token)
        if key is None:
            raise ApiError(401, "unauthorized", "The API key is unknown or revoked.",
                           headers={"WWW-Authenticate": "Bearer"})
        principal = Principal(roles={key.workspace_id: Role.EDITOR}, api_key=key,
                              default_workspace_id=key.workspace_id)
    elif current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        principal = user_principal(current_user)
    else:
        raise ApiError(401, "unauthorized",
                       "Send 'Authorization: Bearer <API key>' (create one with `flask create-api-key`) or log in.",
                       headers={"WWW-Authenticate": "Bearer"})
    g.principal = principal
    return principal


def find_workspace_by_name(name: str) -> Workspace | None:
    return db.session.execute(db.select(Workspace).where(Workspace.name == name)).scalar_one_or_none()


def ensure_membership(user: User, workspace: Workspace, role: Role) -> Membership:
    membership = db.session.get(Membership, (user.id, workspace.id))
    if membership is None:
        membership = Membership(user=user, workspace=workspace, role=role)
        db.session.add(membership)
    return membership
