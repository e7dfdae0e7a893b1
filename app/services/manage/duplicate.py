"""Duplicate a flow: a new flow in the same workspace publishing a copy of the latest version.

Why new keys and secrets: the copy is a separate flow, so its trigger URLs must not be the
original's (they are unique in the workspace, and callers of the original must keep reaching the
original), and its secrets are new ones, shown once like on any first publish.
"""

from __future__ import annotations

import copy

from app.extensions import db
from app.models import Flow, User, Workspace
from app.services.manage.trigger_keys import free_keys
from app.services.versions import publishing

MAX_NAME = 200


def copy_name(flow: Flow) -> str:
    return f"Copy of {flow.name}"[:MAX_NAME]


def duplicate(flow: Flow, name: str, user: User | None) -> tuple[Flow, publishing.PublishResult | None]:
    """Create the copy (empty when the flow was never published); the caller commits.

    Raises publishing.InvalidFlow when the latest version no longer validates (its problems listed).
    """
    workspace = db.session.get(Workspace, flow.workspace_id)
    version = publishing.latest_version(flow)
    if version is None:
        copied = publishing.create_empty_flow(workspace, name)
        copied.description = flow.description
        return copied, None
    document = copy.deepcopy(version.document)
    document["name"] = name
    free_keys(document, flow.workspace_id, always=True)
    result = publishing.create_flow(workspace, document, user, name)
    result.flow.description = flow.description
    return result.flow, result
