"""Create users and workspaces (used by the CLI and the demo set-up)."""

from __future__ import annotations

from app.auth import ensure_membership, find_workspace_by_name
from app.extensions import db
from app.models import Role, User, Workspace
from app.services.workspaces.sessions import end_sessions


def get_or_create_workspace(name: str) -> Workspace:
    workspace = find_workspace_by_name(name)
    if workspace is None:
        workspace = Workspace(name=name)
        db.session.add(workspace)
        db.session.flush()
    return workspace


def create_or_update_user(email: str, password: str, workspace_name: str, role: Role = Role.OWNER) -> tuple[User, bool]:
    """Create the user (or set a new password) and make them `role` of the workspace; True if new.

    A new password for an existing user is a reset: every session and remember-me cookie of theirs ends.
    """
    email = email.strip().lower()
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    created = user is None
    if created:
        user = User(email=email)
        db.session.add(user)
    elif not user.check_password(password):
        end_sessions(user)
    user.set_password(password)
    workspace = get_or_create_workspace(workspace_name)
    db.session.flush()
    ensure_membership(user, workspace, role).role = role
    return user, created
