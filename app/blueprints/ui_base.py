"""The pages' blueprint and the checks every page view shares: the login wall and the edit rights.

Why a module of its own: the flow pages (`ui`) and the run pages (`ui_runs`) register on one
blueprint, so both import it from here instead of from each other.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required

from app.blueprints.loaders import principal
from app.models import Flow
from app.words import input_type_words, request_source_words, status_words

bp = Blueprint("ui", __name__)
# Every page says stored values in words: `{{ run.status | words }}`, `{{ item.type | type_words }}`.
bp.add_app_template_filter(status_words, "words")
bp.add_app_template_filter(input_type_words, "type_words")
bp.add_app_template_filter(request_source_words, "source_words")


@bp.before_request
@login_required
def require_login():
    """Every page here needs a logged-in user (the decorator does the redirect)."""


def can_edit(flow: Flow) -> bool:
    role = principal().role(flow.workspace_id)
    return bool(role and role.can_edit)


def require_edit(flow: Flow) -> None:
    if not can_edit(flow):
        abort(403, "Your role in this workspace can view but not change this flow.")


def editable_workspace(refusal: str) -> str:
    """The id of the current workspace when the user may change it; 403 with `refusal` otherwise."""
    caller = principal()
    workspace_id = caller.default_workspace_id
    role = caller.role(workspace_id) if workspace_id else None
    if role is None or not role.can_edit:
        abort(403, refusal)
    return workspace_id
