"""Change a member's role or remove them, never leaving a workspace without an owner.

Why the lock: "not the last owner" is read-then-write. Two owners demoting each other at once
would each count two owners and each go ahead, leaving none. `lock_workspace` makes the second
request wait for the first to commit and then count again (see `links`).
"""

from __future__ import annotations

from app.digits import MAX_INTEGER, ascii_whole
from app.extensions import db
from app.models import Membership, Role, User, Workspace
from app.services.audit import Action, record
from app.services.workspaces.links import LinkError, checked_role, lock_workspace
from app.services.workspaces.sessions import end_sessions


def members(workspace_id: str) -> list[Membership]:
    """Everyone in the workspace, owners first, then by when they joined."""
    order = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}
    rows = db.session.execute(db.select(Membership).join(User).where(Membership.workspace_id == workspace_id)
                              .order_by(Membership.created_at, User.email)).scalars().all()
    return sorted(rows, key=lambda m: order[m.role])


def load_member(workspace_id: str, user_id: object) -> Membership:
    """The membership of `user_id` in the workspace, or a 404 LinkError (ids that cannot be ids too).

    A text id must be ASCII digits (`ascii_whole`): "١" or "𝟏" is no member, not user 1; an id
    beyond `MAX_INTEGER` is none either (PostgreSQL would refuse to compare it: a 500).
    """
    if isinstance(user_id, str):
        user_id = ascii_whole(user_id, MAX_INTEGER)
    membership = None
    if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id <= MAX_INTEGER:
        membership = db.session.get(Membership, (user_id, workspace_id))
    if membership is None:
        raise LinkError("No member with this id in your workspace.", 404, "member_not_found")
    return membership


def change_role(workspace: Workspace, user_id: object, role: object) -> Membership:
    role = checked_role(role)
    lock_workspace(workspace.id)
    membership = load_member(workspace.id, user_id)
    db.session.refresh(membership)  # read the role as it is now, after any change we waited for
    if membership.role is role:
        return membership
    if membership.role is Role.OWNER:
        _keep_an_owner(workspace, membership, "make them an editor or viewer")
    old = membership.role
    membership.role = role
    record(workspace.id, Action.MEMBER_ROLE_CHANGED, target_type="user", target_id=str(membership.user_id),
           target_label=membership.user.display_name, details={"from": old.value, "to": role.value})
    return membership


def remove(workspace: Workspace, user_id: object) -> User:
    """Take the member out of the workspace and end every session they have, at once."""
    lock_workspace(workspace.id)
    membership = load_member(workspace.id, user_id)
    db.session.refresh(membership)
    if membership.role is Role.OWNER:
        _keep_an_owner(workspace, membership, "remove them")
    user = membership.user
    db.session.delete(membership)
    end_sessions(user)
    record(workspace.id, Action.MEMBER_REMOVED, target_type="user", target_id=str(user.id),
           target_label=user.display_name, details={"role": membership.role.value, "email": user.email})
    return user


def _keep_an_owner(workspace: Workspace, membership: Membership, doing: str) -> None:
    owners = db.session.execute(db.select(db.func.count()).select_from(Membership).where(
        Membership.workspace_id == workspace.id, Membership.role == Role.OWNER)).scalar_one()
    if owners <= 1:
        raise LinkError(f"{membership.user.display_name} is the last owner of {workspace.name}. Make another "
                        f"member an owner first, then {doing}.", 409, "last_owner")
