"""The pages' blueprint and the checks every page view shares: the login wall and the role table.

Why a module of its own: the flow pages (`ui`) and the run pages (`ui_runs`) register on one
blueprint, so both import it from here instead of from each other. Permissions come from the one
table in `app.permissions`; templates ask `allowed(...)` so a page shows only what the role may do.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from app.blueprints.loaders import principal
from app.models import Flow
from app.permissions import Permission
from app.readable_values import readable
from app.services.versions.archived import RUN_MESSAGE, SCHEDULE_MESSAGE, URLS_MESSAGE, is_archived
from app.words import input_type_words, moment_words, request_source_words, status_words

bp = Blueprint("ui", __name__)
# Every page says stored values in words: `{{ run.status | words }}`, `{{ item.type | type_words }}`.
bp.add_app_template_filter(status_words, "words")
bp.add_app_template_filter(input_type_words, "type_words")
bp.add_app_template_filter(request_source_words, "source_words")
bp.add_app_template_filter(moment_words, "moment")
# Stored values (inputs, answers, step settings and results) as name → value lists, not JSON.
bp.add_app_template_filter(readable, "readable")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a logged-in user (the decorator does the redirect)."""


@bp.app_template_global("allowed")
def allowed(permission: str | Permission, workspace_id: str | None = None) -> bool:
    """Whether the signed-in user may do `permission` in the workspace (default: the current one).

    Why a template global: pages hide the buttons and links a role cannot use by asking the same
    table the views enforce, instead of a second rule per template.
    """
    caller = principal()
    return caller.can(workspace_id or caller.default_workspace_id, Permission(permission))


@bp.app_template_global("urls_off")
def urls_off(flow: Flow | None) -> str | None:
    """Why the flow's trigger URLs start no runs now (it is archived), or None while they work.

    Why a template global: the trigger list, the trigger panel and the canvas (through its data)
    each show trigger URLs; all of them say this instead of offering to copy a URL that answers 404.
    """
    return URLS_MESSAGE if is_archived(flow) else None


_OFF_MESSAGES = {"run": RUN_MESSAGE, "schedule": SCHEDULE_MESSAGE}


@bp.app_template_global("archived_off")
def archived_off(flow: Flow | None, what: str) -> str | None:
    """Why `what` ("run" or "schedule") cannot be used while the flow is archived, or None.

    Why: like `urls_off`, a page shows this one line where the button that would be refused was
    (Replay) or where a schedule's next fires were, never a button that cannot work. Rotating a
    secret still works on an archived flow (a leaked secret must be replaceable), so it stays.
    """
    return _OFF_MESSAGES[what] if is_archived(flow) else None


def can_edit(flow: Flow) -> bool:
    return principal().can(flow.workspace_id, Permission.EDIT_FLOWS)


def current_workspace(permission: Permission) -> str:
    """The id of the current workspace when the user may do `permission` there; 403 otherwise."""
    caller = principal()
    caller.require(caller.default_workspace_id, permission)
    return caller.default_workspace_id
