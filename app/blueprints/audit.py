"""The audit log: the owners' page `/settings/audit` and `GET /api/v1/audit`.

Both read `app.services.audit_log` with the same parameters (`limit`, `cursor`, `action`) and
the same refusals: a bad parameter is a 400 naming it, anyone but a signed-in owner gets 403.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import api_principal
from app.blueprints.loaders import principal as page_principal
from app.errors import ApiError
from app.extensions import csrf, db
from app.models import Workspace
from app.permissions import Permission
from app.services import audit_log
from app.services.audit import Action
from app.services.audit_words import details_words

api_bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # read-only; session callers are CSRF-checked in api_principal() on writes
ui_bp = Blueprint("audit_ui", __name__)


def _query(allowed: tuple[str, ...]) -> audit_log.Query:
    try:
        return audit_log.parse_query(request.args, allowed)
    except audit_log.QueryError as exc:
        raise ApiError(400, "invalid_parameter", exc.message,
                       [{"field": audit_log.printable(exc.parameter), "reason": "invalid"}]) from None


def _page(workspace_id: str, query: audit_log.Query) -> audit_log.Page:
    try:
        return audit_log.page(workspace_id, query)
    except audit_log.QueryError as exc:
        raise ApiError(400, "invalid_parameter", exc.message, [{"field": exc.parameter, "reason": "invalid"}]) from None


@api_bp.get("/audit")
def list_events():
    """The workspace's audit events, newest first (`limit` 1-200, `cursor`, `action`, `workspace_id`).

    Signed-in owners only. API keys are refused (403) on purpose: VIEW_AUDIT is left out of
    `KEY_PERMISSIONS`, because the log names every member and key of the workspace and records
    what keys did, and a key leaked into a script or CI log must not be able to read who does
    what in the workspace nor watch its own traces. Keep it that way.
    """
    principal = api_principal()
    requested = request.args.get("workspace_id")
    workspace_id = requested or principal.default_workspace_id
    if requested is not None and principal.role(workspace_id) is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    principal.require(workspace_id, Permission.VIEW_AUDIT)
    result = _page(workspace_id, _query(audit_log.PARAMETERS))
    return jsonify({"data": [audit_log.event_dict(event) for event in result.events],
                    "next_cursor": result.next_cursor})


@ui_bp.get("/settings/audit")
@login_required
def page():
    """Owners read who changed what, newest first, 50 a page, filtered by kind of change."""
    workspace_id = page_principal().default_workspace_id
    page_principal().require(workspace_id, Permission.VIEW_AUDIT)
    query = _query(("limit", "cursor", "action"))
    result = _page(workspace_id, query)
    existing = audit_log.existing_flows(workspace_id, result.events)
    here = {"action": query.action.value} if query.action else {}
    if request.args.get("limit"):
        here["limit"] = query.limit
    return render_template("settings/audit.html", workspace=db.session.get(Workspace, workspace_id),
                           events=result.events, actions=list(Action), selected=query.action,
                           newer_url=url_for("audit_ui.page", **here) if query.cursor else None,
                           older_url=url_for("audit_ui.page", cursor=result.next_cursor, **here)
                           if result.next_cursor else None,
                           flow_link=lambda event: _flow_link(event, existing),
                           action_words=audit_log.action_words, details_words=details_words)


def _flow_link(event, existing: set[str]) -> str | None:
    """Where the target can still be seen: the flow's page (a trigger's flow), if the flow still exists."""
    flow_id = audit_log.flow_of(event)
    return url_for("ui.flow_detail", flow_id=flow_id) if flow_id in existing else None


@ui_bp.app_context_processor
def audit_nav():
    """`can_read_audit()` for the nav: asked only when a page renders the link, owners only."""
    def can_read_audit() -> bool:
        if not current_user.is_authenticated:
            return False
        try:
            caller = page_principal()
        except ApiError:  # an error page under /api/ for a caller who is not signed in there
            return False
        return caller.can(caller.default_workspace_id, Permission.VIEW_AUDIT)

    return {"can_read_audit": can_read_audit}
