"""What each workspace role may do: the one table the docs show and every page and API route checks.

Why one table: a rule written at each route drifts (a page forgot the check its API twin had).
Views ask `Principal.require(workspace_id, Permission.X)`; docs/roles.md is checked against
`ROLE_PERMISSIONS` by a test, so the documented table and the enforced one cannot differ.

API keys are not members: an owner makes them, and their scopes (`Scope`) limit them. A key may
do what its scopes allow among `KEY_PERMISSIONS`; managing members and reading the audit log
need a signed-in owner.
"""

from __future__ import annotations

import enum

from app.models import Role


class Permission(str, enum.Enum):
    VIEW = "view"                          # flows, versions, runs, conversations, triggers, schedules
    EDIT_FLOWS = "edit_flows"              # create, save (publish), roll back, archive, import, test drafts,
                                           # trigger settings and secrets, schedule pause/resume
    RUN_FLOWS = "run_flows"                # Run now, replay, cancel a run
    MANAGE_CREDENTIALS = "manage_credentials"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_MEMBERS = "manage_members"      # invite, change roles, remove, reset links
    MANAGE_WORKSPACE = "manage_workspace"  # workspace settings such as its time zone
    VIEW_AUDIT = "view_audit"

    @property
    def words(self) -> str:
        return PERMISSION_WORDS[self]


PERMISSION_WORDS = {
    Permission.VIEW: "See flows, versions, runs and conversations",
    Permission.EDIT_FLOWS: "Create, change, publish, roll back, archive and test flows; trigger settings and secrets",
    Permission.RUN_FLOWS: "Run a flow now, replay or cancel runs",
    Permission.MANAGE_CREDENTIALS: "Add, change and delete credentials",
    Permission.MANAGE_API_KEYS: "Create and revoke API keys",
    Permission.MANAGE_MEMBERS: "Invite teammates, change roles, remove members, make password reset links",
    Permission.MANAGE_WORKSPACE: "Change workspace settings (time zone)",
    Permission.VIEW_AUDIT: "Read the audit log",
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.EDITOR: frozenset({Permission.VIEW, Permission.EDIT_FLOWS, Permission.RUN_FLOWS,
                            Permission.MANAGE_CREDENTIALS}),
    Role.OWNER: frozenset(Permission),
}

KEY_PERMISSIONS = frozenset({Permission.VIEW, Permission.EDIT_FLOWS, Permission.RUN_FLOWS,
                             Permission.MANAGE_CREDENTIALS, Permission.MANAGE_API_KEYS,
                             Permission.MANAGE_WORKSPACE})

REFUSALS = {
    Permission.VIEW: "You are not a member of this workspace.",
    Permission.EDIT_FLOWS: "Your role in this workspace can view but not change flows. Ask an owner to make you an editor.",
    Permission.RUN_FLOWS: "Your role in this workspace can view but not run flows. Ask an owner to make you an editor.",
    Permission.MANAGE_CREDENTIALS: "Your role in this workspace can view but not change credentials.",
    Permission.MANAGE_API_KEYS: "Only the workspace's owners manage API keys.",
    Permission.MANAGE_MEMBERS: "Only the workspace's owners manage members.",
    Permission.MANAGE_WORKSPACE: "Only the workspace's owners change its settings.",
    Permission.VIEW_AUDIT: "Only the workspace's owners read the audit log.",
}


def role_allows(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in ROLE_PERMISSIONS[role]
