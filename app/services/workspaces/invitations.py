"""Invite a person into a workspace by a single-use link, and let them accept it.

Why a link and not a password the owner types: the invitee chooses their own password, the owner
never sees it, and the link works without a mail server (shown to copy). Only its SHA-256 is
stored; it expires (INVITATION_DAYS) and works once. Accepting claims the link with one
conditional UPDATE, so two tabs submitting the same link at once cannot both use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.auth import ensure_membership
from app.config import settings
from app.extensions import db
from app.models import Invitation, Membership, Role, User, Workspace
from app.models.types import new_id, utcnow
from app.services.audit import Action, Actor, record
from app.services.workspaces.links import (INVITATION_PREFIX, LinkError, checked_email, checked_name,
                                           checked_password, checked_role, find_by_token, new_link)


def invite(workspace: Workspace, email: object, role: object, inviter: User | None,
           now: datetime | None = None) -> tuple[Invitation, str]:
    """Make an invitation and return it with its token; a pending one for the same email is replaced."""
    now = now or utcnow()
    email, role = checked_email(email), checked_role(role)
    if member_by_email(workspace.id, email) is not None:
        raise LinkError(f"{email} is already a member of {workspace.name}; change their role in the list instead.",
                        code="already_member")
    for old in pending(workspace.id, now, email):
        old.revoked_at = now
    token, token_hash = new_link(INVITATION_PREFIX)
    invitation = Invitation(id=new_id(), workspace_id=workspace.id, email=email, role=role, token_hash=token_hash,
                            invited_by_id=inviter.id if inviter else None, created_at=now,
                            expires_at=now + timedelta(days=settings().invitation_days))
    db.session.add(invitation)
    record(workspace.id, Action.MEMBER_INVITED, target_type="invitation", target_id=invitation.id,
           target_label=email, details={"role": role.value})
    return invitation, token


def member_by_email(workspace_id: str, email: str) -> Membership | None:
    return db.session.execute(db.select(Membership).join(User).where(
        Membership.workspace_id == workspace_id, User.email == email)).scalar_one_or_none()


def pending(workspace_id: str, now: datetime | None = None, email: str | None = None) -> list[Invitation]:
    """Open invitations of the workspace (newest first), optionally only those for `email`."""
    now = now or utcnow()
    query = db.select(Invitation).where(Invitation.workspace_id == workspace_id, Invitation.accepted_at.is_(None),
                                        Invitation.revoked_at.is_(None), Invitation.expires_at > now)
    if email is not None:
        query = query.where(Invitation.email == email)
    return list(db.session.execute(query.order_by(Invitation.created_at.desc())).scalars())


def load_pending(workspace_id: str, invitation_id: object) -> Invitation:
    invitation = None
    if isinstance(invitation_id, str) and 0 < len(invitation_id) <= 32:
        invitation = db.session.execute(db.select(Invitation).where(
            Invitation.id == invitation_id, Invitation.workspace_id == workspace_id)).scalar_one_or_none()
    if invitation is None or not invitation.is_open(utcnow()):
        raise LinkError("No pending invitation with this id in your workspace.", 404, "invitation_not_found")
    return invitation


def withdraw(invitation: Invitation) -> None:
    invitation.revoked_at = utcnow()
    record(invitation.workspace_id, Action.INVITATION_WITHDRAWN, target_type="invitation",
           target_id=invitation.id, target_label=invitation.email)


def open_invitation(token: str, now: datetime | None = None) -> Invitation | None:
    """The invitation this link names if it still works; None for unknown, used, withdrawn or expired."""
    invitation = find_by_token(Invitation, token)
    return invitation if invitation is not None and invitation.is_open(now or utcnow()) else None


def account_for(invitation: Invitation) -> User | None:
    return db.session.execute(db.select(User).where(User.email == invitation.email)).scalar_one_or_none()


def accept_as_new_user(invitation: Invitation, name: object, password: object, again: object) -> User:
    """Create the invitee's account and membership; refuse if the link was used meanwhile."""
    name, password = checked_name(name), checked_password(password, again)
    if account_for(invitation) is not None:
        raise LinkError("An account with this email exists already: log in, then open the link again.", 409,
                        "account_exists")
    _claim(invitation)
    user = User(email=invitation.email, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    _join(invitation, user)
    return user


def accept_as_existing_user(invitation: Invitation, user: User) -> None:
    if user.email != invitation.email:
        raise LinkError(f"This invitation is for {invitation.email}, and you are logged in as {user.email}.", 403,
                        "wrong_account")
    _claim(invitation)
    _join(invitation, user)


def _claim(invitation: Invitation) -> None:
    """Mark the link used in one conditional UPDATE: of two concurrent uses, exactly one wins."""
    now = utcnow()
    claimed = db.session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > now).values(accepted_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise LinkError(INVALID_LINK, 410, "link_invalid")
    db.session.expire(invitation)  # read the stamp back, as the session keeps rows across commits


def _join(invitation: Invitation, user: User) -> None:
    workspace = db.session.get(Workspace, invitation.workspace_id)
    ensure_membership(user, workspace, invitation.role)
    invitation.accepted_by_id = user.id
    record(workspace.id, Action.MEMBER_JOINED, target_type="user", target_id=str(user.id),
           target_label=user.display_name, details={"role": invitation.role.value, "email": user.email},
           actor=Actor.user(user))


INVALID_LINK = "This invitation link is no longer valid — ask for a new one."
ROLES = [Role.OWNER, Role.EDITOR, Role.VIEWER]
