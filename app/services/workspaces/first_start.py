"""Create the first owner from the browser, once, on an instance that has no user yet.

Why in the browser: a person trying Switchboard should not need the server's command line to
get in. Why "once" needs a lock: two people (or two tabs) submitting at the same moment would
both see no user; `lock_users` makes the second wait and then see the first one's account.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Membership, Role, User, Workspace
from app.services.audit import Action, Actor, record
from app.services.workspaces.links import (LinkError, checked_email, checked_name, checked_password,
                                           lock_users)

ALREADY_SET_UP = "Switchboard is already set up: log in with the owner account created a moment ago."


def has_users() -> bool:
    return db.session.execute(db.select(User.id).limit(1)).first() is not None


def create_first_owner(name: object, email: object, password: object, again: object,
                       workspace_name: object) -> User:
    name, email = checked_name(name), checked_email(email)
    password = checked_password(password, again)
    workspace_name = " ".join(workspace_name.split()) if isinstance(workspace_name, str) else ""
    if not workspace_name or len(workspace_name) > 200:
        raise LinkError("Name your workspace (at most 200 characters), e.g. your team's name.", code="invalid_workspace")
    lock_users()
    if has_users():
        raise LinkError(ALREADY_SET_UP, 409, "already_set_up")
    user = User(email=email, name=name)
    user.set_password(password)
    workspace = db.session.execute(db.select(Workspace).where(Workspace.name == workspace_name)).scalar_one_or_none()
    workspace = workspace or Workspace(name=workspace_name)
    db.session.add_all([user, workspace])
    db.session.flush()
    db.session.add(Membership(user=user, workspace=workspace, role=Role.OWNER))
    record(workspace.id, Action.MEMBER_JOINED, target_type="user", target_id=str(user.id),
           target_label=user.display_name, details={"role": "owner", "email": email},
           actor=Actor(label=f"{user.display_name} (first start)", user_id=user.id))
    return user
