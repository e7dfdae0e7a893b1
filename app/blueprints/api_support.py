"""Shared pieces of the JSON API views: body parsing with an allow-list, and the API key's flow filter.

Loading a resource is `app.blueprints.loaders`.
"""

from __future__ import annotations

from flask import request

from app.auth import api_principal
from app.errors import ApiError
from app.models import Flow
from app.json_body import BodyError, listed, parse_json_object


# Ids of ours are text: 0, "", [] or {} where one goes is a mistake to name, not a reason to use the default
# workspace (or to fail deeper down).
_TEXT_IDS = frozenset({"workspace_id", "flow_id", "node_id"})


def json_body(allowed: set[str], required: set[str] = frozenset()) -> dict:
    """Parse the body as a JSON object with only `allowed` fields and every `required` one; ids must be text."""
    try:
        data = parse_json_object(request.get_data(cache=True))
    except BodyError as exc:
        raise ApiError(400, exc.code, exc.message, exc.details) from None
    unknown = sorted(data.keys() - allowed)
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {listed(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
                       [{"field": name, "reason": "unknown field"} for name in unknown])
    missing = sorted(required - set(data))
    if missing:
        raise ApiError(400, "missing_field", f"Missing required field(s): {', '.join(missing)}.",
                       [{"field": name, "reason": "required"} for name in missing])
    for name in sorted(_TEXT_IDS & data.keys()):
        if (data[name] is not None or name in required) and not (isinstance(data[name], str) and data[name].strip()):
            # Say what this endpoint accepts: null and leaving it out only where the field is optional.
            accepted = "" if name in required else " (or null or left out)"
            raise ApiError(400, f"invalid_{name}", f"{name} must be an id, as text{accepted}.",
                           [{"field": name, "reason": "not an id"}])
    return data


def flow_filter(query):
    """Limit a query on flows (or rows with a flow_id) to the API key's flows, if it has a list."""
    flow_ids = api_principal().flow_ids
    if flow_ids is None:
        return query
    return query.where(Flow.id.in_(flow_ids))
