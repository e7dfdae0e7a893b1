"""Shared pieces of the JSON API views: body parsing with an allow-list, and scoped loading.

Every loader filters by the caller's workspaces and, for API keys, by the key's flow list, so
an id the caller may not see answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from flask import request

from app.auth import api_principal
from app.errors import ApiError
from app.extensions import db
from app.models import Flow, Run, Scope
from app.services.json_body import BodyError, listed, parse_json_object


def json_body(allowed: set[str], required: set[str] = frozenset()) -> dict:
    """Parse the body as a JSON object with only `allowed` fields and every `required` one."""
    try:
        data = parse_json_object(request.get_data(cache=True))
    except BodyError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    unknown = sorted(data.keys() - allowed)
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {listed(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
                       [{"field": name, "reason": "unknown field"} for name in unknown])
    missing = sorted(required - set(data))
    if missing:
        raise ApiError(400, "missing_field", f"Missing required field(s): {', '.join(missing)}.",
                       [{"field": name, "reason": "required"} for name in missing])
    return data


def load_flow(flow_id: str, scope: Scope = Scope.READ_FLOWS) -> Flow:
    """Load a flow the caller may see with `scope`; 404 otherwise."""
    return _scoped(Flow, flow_id, scope, lambda flow: flow.id,
                   "flow_not_found", "No flow with this id exists in your workspaces.")


def load_run(run_id: str, scope: Scope = Scope.READ_RUNS) -> Run:
    """Load a run the caller may see with `scope`; 404 otherwise."""
    return _scoped(Run, run_id, scope, lambda run: run.flow_id,
                   "run_not_found", "No run with this id exists in your workspaces.")


def _scoped(model, row_id: str, scope: Scope, flow_of, code: str, message: str):
    principal = api_principal(scope)
    row = db.session.execute(
        db.select(model).where(model.id == row_id, model.workspace_id.in_(principal.workspace_ids))
    ).scalar_one_or_none() if len(row_id) <= 32 else None
    if row is None or not principal.may_use_flow(flow_of(row)):
        raise ApiError(404, code, message)
    return row


def flow_filter(query):
    """Limit a query on flows (or rows with a flow_id) to the API key's flows, if it has a list."""
    flow_ids = api_principal().flow_ids
    if flow_ids is None:
        return query
    return query.where(Flow.id.in_(flow_ids))
