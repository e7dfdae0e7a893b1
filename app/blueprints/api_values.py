"""The value picker's endpoint of the JSON API (/api/v1), on the API blueprint.

Why on the server: what a node can use depends on each node type's outputs and on the graph's
edges, which only the engine knows; the canvas asks while the flow is drawn (unsaved, often
invalid), so the answer never depends on a published version.
"""

from __future__ import annotations

from flask import jsonify

from app.auth import api_principal
from app.blueprints.api import _body, bp
from app.errors import ApiError
from flows.available import available_values


@bp.post("/flows/values")
def flow_values():
    """List the values a node's templates can use: inputs, trigger, session and upstream outputs."""
    api_principal()
    data = _body({"document", "node_id"}, {"document", "node_id"})
    if not isinstance(data["node_id"], str):
        raise ApiError(400, "invalid_node_id", "node_id must be the id (text) of a node in the document.",
                       [{"field": "node_id", "reason": "not text"}])
    return jsonify({"values": available_values(data["document"], data["node_id"])})
