"""Publish flow documents as immutable versions, and roll back by republishing.

Why here and not in views: the API, the CLI and (later) the canvas all publish, and each must get
the same guarantees: an invalid document changes nothing and reports every problem by node id; a
save that changes nothing publishes nothing; two concurrent saves never both win.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

import flows
from app.extensions import db
from app.models import Flow, FlowVersion, User, Workspace
from app.models.types import utcnow
from app.services import audit
from app.services.triggers import trigger_sync
from app.services.versions.archived import refuse_if_archived
from app.services.workspaces import credentials
from flows.problems import ERROR


class InvalidFlow(Exception):
    """The document has problems; `problems` lists each with its node id."""

    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s) in the flow")
        self.problems = problems


class VersionConflict(Exception):
    """Someone else published first; the caller must reload before saving."""

    def __init__(self, latest: int, message: str | None = None):
        super().__init__(message or f"This flow is now at version {latest}; reload it, reapply your change and save again.")
        self.latest = latest


@dataclass
class PublishResult:
    flow: Flow
    version: FlowVersion
    published: bool
    secrets: dict[str, str] = field(default_factory=dict)  # node id -> trigger secret, shown once
    warnings: list[dict] = field(default_factory=list)  # suspicious but runnable (a branch without a reply)
    message: str = ""  # why nothing was published, in plain words, when the caller should be told


def fingerprint(document: dict) -> str:
    return hashlib.sha256(flows.canonical_json(document).encode()).hexdigest()


def check_document(workspace_id: str, document) -> tuple[list[dict], list[dict]]:
    """Return (errors, warnings) of `document` as published in this workspace: the one gate for every door.

    Saving, creating, rolling back, POST /flows/validate and testing a draft all call this, so the
    canvas, the API and the test runner agree on what can run. The engine cannot see the workspace's
    credentials, so their names are passed in; errors block publishing, warnings never do.
    """
    names = {credential.name for credential in credentials.list_credentials(workspace_id)}
    problems = [problem.to_dict() for problem in flows.validate(document, credentials=names)]
    return [p for p in problems if p["severity"] == ERROR], [p for p in problems if p["severity"] != ERROR]


def refuse_unless_runnable(workspace_id: str, document) -> list[dict]:
    """Raise InvalidFlow (errors and warnings, for the editor to mark) unless it can run; return the warnings."""
    errors, warnings = check_document(workspace_id, document)
    if errors:
        raise InvalidFlow(errors + warnings)
    return warnings


def create_flow(workspace: Workspace, document, user: User | None, name: str | None = None) -> PublishResult:
    """Create a flow and publish its first version."""
    warnings = refuse_unless_runnable(workspace.id, document)
    flow_name = (name or document.get("name") or "Untitled flow").strip()[:200] or "Untitled flow"
    flow = Flow(workspace_id=workspace.id, name=flow_name, description=str(document.get("description") or "")[:2000])
    db.session.add(flow)
    db.session.flush()
    return _publish(flow, document, user, note="created", warnings=warnings)


def create_empty_flow(workspace: Workspace, name: str) -> Flow:
    """Create a flow with nothing published yet: the canvas starts empty, the first save is version 1."""
    flow = Flow(workspace_id=workspace.id, name=name.strip()[:200] or "Untitled flow", latest_version=0)
    db.session.add(flow)
    db.session.flush()
    return flow


def save_flow(flow: Flow, document, user: User | None, base_version: int | None = None,
              note: str = "") -> PublishResult:
    """Publish `document` as version N+1 unless it equals the latest version (never on an archived flow)."""
    refuse_if_archived(flow)  # before validation: restoring, not fixing the document, is what unblocks it
    warnings = refuse_unless_runnable(flow.workspace_id, document)
    if base_version is not None and base_version != flow.latest_version:
        raise VersionConflict(flow.latest_version)
    latest = latest_version(flow)
    if latest is not None and latest.fingerprint == fingerprint(document):
        return PublishResult(flow=flow, version=latest, published=False, warnings=warnings)
    return _publish(flow, document, user, note=note if latest else "created", warnings=warnings)


def rollback(flow: Flow, number: int, user: User | None) -> PublishResult:
    """Republish version `number`'s document as a new version (history is never rewritten).

    Checked like a save: an old version whose credential was deleted since would fail every run.
    And like a save, a rollback that changes nothing publishes nothing: rolling back to a version
    the same as the live one (the live one itself, or one a previous rollback already restored)
    used to publish a copy, a version number that changed nothing, and an audit row saying it did.
    Sameness is the save's rule (the documents' fingerprints), checked before anything is written.
    """
    refuse_if_archived(flow)
    old = get_version(flow, number)
    if old is None:
        raise LookupError(number)
    latest = latest_version(flow)
    if latest is not None and fingerprint(latest.document) == fingerprint(old.document):
        return PublishResult(flow=flow, version=latest, published=False, message=same_as_live(number, latest.number))
    warnings = refuse_unless_runnable(flow.workspace_id, old.document)
    return _publish(flow, old.document, user, note=f"rollback to version {number}", warnings=warnings,
                    rolled_back_to=number)


def same_as_live(number: int, live: int) -> str:
    """Say, for the page and the API alike, that a rollback to `number` had nothing to publish."""
    if number == live:
        return f"Version {number} is already the current version; nothing was published."
    return f"Version {number} is the same as the current version {live}; nothing was published."


def _publish(flow: Flow, document: dict, user: User | None, note: str,
             warnings: list[dict] | None = None, rolled_back_to: int | None = None) -> PublishResult:
    """Publish `document` as the next version (callers have refused an archived flow already).

    The flow's name is the flow's own setting (renamed with PATCH): a document's name names the
    flow only when the flow is created, so a later save from a canvas opened before a rename, or
    an imported document, never silently renames it back. Every publish (create, save, import,
    duplicate, trigger change, rollback) is audited here, once, after the version is sure to land.
    """
    previous = flow.latest_version
    number = previous + 1
    version = FlowVersion(flow_id=flow.id, number=number, document=document, fingerprint=fingerprint(document),
                          note=note, created_by_id=user.id if user else None)
    flow.latest_version = number
    flow.updated_at = utcnow()
    db.session.add(version)
    try:
        db.session.flush()
        problems, secrets = trigger_sync.sync(flow, document)
        if problems:
            db.session.rollback()
            raise InvalidFlow(problems)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        db.session.refresh(flow)
        raise VersionConflict(flow.latest_version,
                              "Another save of this flow, or of a flow using the same trigger key, happened at "
                              "the same moment; reload and save again.") from None
    _audit(flow, number, previous, rolled_back_to)
    return PublishResult(flow=flow, version=version, published=True, secrets=secrets, warnings=warnings or [])


def _audit(flow: Flow, number: int, previous: int, rolled_back_to: int | None) -> None:
    """Log the new live version: a rollback says from which version back to which."""
    if rolled_back_to is None:
        audit.record(flow.workspace_id, audit.Action.FLOW_PUBLISHED, target_type="flow", target_id=flow.id,
                     target_label=flow.name, details={"version": number})
    else:
        audit.record(flow.workspace_id, audit.Action.FLOW_ROLLED_BACK, target_type="flow", target_id=flow.id,
                     target_label=flow.name, details={"from": previous, "to": rolled_back_to, "version": number})


def latest_version(flow: Flow) -> FlowVersion | None:
    return get_version(flow, flow.latest_version) if flow.latest_version else None


def get_version(flow: Flow, number: int) -> FlowVersion | None:
    return db.session.execute(
        db.select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.number == number)
    ).scalar_one_or_none()
