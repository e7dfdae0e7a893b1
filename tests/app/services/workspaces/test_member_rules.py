"""The rules behind the members page, on both databases: links expire and work once, a workspace keeps an owner."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent, Invitation, Membership, Role, User, Workspace
from app.models.types import utcnow
from app.services.workspaces import first_start, invitations, members, password_resets
from app.services.workspaces.links import LinkError


@pytest.fixture
def owner(app, make_account):
    account = make_account(email="olga@example.com")
    with app.app_context():
        yield db.session.execute(db.select(User).where(User.email == account.email)).scalar_one(), account


def _workspace(account) -> Workspace:
    return db.session.get(Workspace, account.workspace_id)


def _actions(workspace_id: str) -> list[str]:
    return [e.action for e in db.session.execute(db.select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
                                                 .order_by(AuditEvent.created_at)).scalars()]


def test_an_invitation_is_stored_hashed_expires_and_works_once(app, owner):
    user, account = owner
    invitation, token = invitations.invite(_workspace(account), " Tea@Example.COM ", "editor", user)
    db.session.commit()
    stored = db.session.get(Invitation, invitation.id)
    assert stored.email == "tea@example.com" and token not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    assert invitations.open_invitation(token) is not None
    assert invitations.open_invitation(token, now=utcnow() + timedelta(days=7, seconds=1)) is None
    assert invitations.open_invitation(token + "x") is None and invitations.open_invitation("x" * 10_000) is None

    joined = invitations.accept_as_new_user(stored, "Tea Person", "long enough pw", "long enough pw")
    db.session.commit()
    assert db.session.get(Membership, (joined.id, account.workspace_id)).role is Role.EDITOR
    assert invitations.open_invitation(token) is None
    with pytest.raises(LinkError) as used:
        invitations.accept_as_new_user(stored, "Again", "long enough pw", "long enough pw")
    assert used.value.status in (409, 410)
    db.session.rollback()
    assert _actions(account.workspace_id) == ["member.invited", "member.joined"]


def test_expired_in_the_database_means_expired(app, owner):
    user, account = owner
    invitation, token = invitations.invite(_workspace(account), "late@example.com", "viewer", user)
    db.session.commit()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert invitations.open_invitation(token) is None
    with pytest.raises(LinkError):
        invitations.accept_as_new_user(invitation, "Late", "long enough pw", "long enough pw")


def test_reinviting_replaces_the_old_link_and_members_cannot_be_invited(app, owner):
    user, account = owner
    _, first = invitations.invite(_workspace(account), "again@example.com", "viewer", user)
    _, second = invitations.invite(_workspace(account), "again@example.com", "editor", user)
    db.session.commit()
    assert invitations.open_invitation(first) is None and invitations.open_invitation(second).role is Role.EDITOR
    assert len(invitations.pending(account.workspace_id)) == 1
    with pytest.raises(LinkError, match="already a member"):
        invitations.invite(_workspace(account), "OLGA@example.com", "viewer", user)


@pytest.mark.parametrize(("email", "role"), [("", "viewer"), ("no-at-sign", "viewer"), ("a@b.c" + "x" * 400, "viewer"),
                                             ("ok@example.com", "admin"), ("ok@example.com", None),
                                             (["x@example.com"], "viewer"), ("ok@example.com", ["owner"])])
def test_bad_emails_and_roles_are_refused_in_words(app, owner, email, role):
    user, account = owner
    with pytest.raises(LinkError) as refused:
        invitations.invite(_workspace(account), email, role, user)
    assert refused.value.status == 400 and ("email" in refused.value.message or "role" in refused.value.message)


def test_the_last_owner_can_be_neither_demoted_nor_removed(app, owner):
    user, account = owner
    workspace = _workspace(account)
    for attempt in (lambda: members.change_role(workspace, user.id, "viewer"), lambda: members.remove(workspace, user.id)):
        with pytest.raises(LinkError, match="last owner") as refused:
            attempt()
        assert refused.value.status == 409
        db.session.rollback()
    assert db.session.get(Membership, (user.id, workspace.id)).role is Role.OWNER


def test_removal_ends_the_members_sessions_and_is_audited(app, owner, make_account):
    user, account = owner
    make_account(email="ed@example.com", role="editor")
    ed = db.session.execute(db.select(User).where(User.email == "ed@example.com")).scalar_one()
    old_token = ed.session_token
    members.remove(_workspace(account), str(ed.id))
    db.session.commit()
    db.session.refresh(ed)
    assert ed.session_token != old_token and db.session.get(Membership, (ed.id, account.workspace_id)) is None
    assert _actions(account.workspace_id)[-1] == "member.removed"


def _race(app, jobs) -> list:
    """Run each job in its own thread and session at the same moment; return what each returned or raised."""
    barrier, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(index, job):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                results[index] = job()
                db.session.commit()
            except LinkError as exc:
                db.session.rollback()
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_owners_demoting_each_other_at_once_leave_one_owner(app, owner, make_account):
    user, account = owner
    make_account(email="otto@example.com", role="owner")
    otto_id = db.session.execute(db.select(User.id).where(User.email == "otto@example.com")).scalar_one()
    db.session.remove()
    for _ in range(4):
        with app.app_context():
            for membership in db.session.execute(db.select(Membership)).scalars():
                membership.role = Role.OWNER
            db.session.commit()
        results = _race(app, [
            lambda: members.change_role(db.session.get(Workspace, account.workspace_id), otto_id, "editor"),
            lambda: members.change_role(db.session.get(Workspace, account.workspace_id), user.id, "viewer")])
        refused = [r for r in results if isinstance(r, LinkError)]
        assert len(refused) == 1 and refused[0].code == "last_owner", results
        with app.app_context():
            owners = db.session.execute(db.select(db.func.count()).select_from(Membership)
                                        .where(Membership.role == Role.OWNER)).scalar_one()
            assert owners == 1


def test_two_first_visitors_at_once_make_one_owner(app):
    def submit(email):
        return lambda: first_start.create_first_owner("First", email, "long enough pw", "long enough pw", "Team " + email)

    results = _race(app, [submit("one@example.com"), submit("two@example.com")])
    refused = [r for r in results if isinstance(r, LinkError)]
    assert len(refused) == 1 and refused[0].code == "already_set_up", results
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar_one() == 1


def test_a_reset_link_works_once_expires_and_ends_every_session(app, owner):
    user, account = owner
    old_token = user.session_token
    _, stale = password_resets.make_link(user, None, account.workspace_id)
    reset, token = password_resets.make_link(user, None, account.workspace_id)
    db.session.commit()
    assert password_resets.open_reset(stale) is None, "a new link retires the previous one"
    assert password_resets.open_reset(token, now=utcnow() + timedelta(hours=24, seconds=1)) is None
    with pytest.raises(LinkError, match="differ"):
        password_resets.use_link(reset, "a new long password", "another one!")
    password_resets.use_link(password_resets.open_reset(token), "a new long password", "a new long password")
    db.session.commit()
    db.session.refresh(user)
    assert user.check_password("a new long password") and user.session_token != old_token
    assert password_resets.open_reset(token) is None
    assert _actions(account.workspace_id).count("member.password_reset_link") == 2
