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
from app.json_body import quoted
from flows.available import available_values, has_node, too_large


@bp.post("/flows/values")
def flow_values():
    """List the values a node's templates can use: inputs, trigger, session and upstream outputs.

    Refused with a 400 naming the field: a `document` that is not a JSON object, one larger than
    saving allows (too many nodes, edges or start inputs: its list would be megabytes), and a
    `node_id` that is not text or names no node of the document. Why 400 and not 404 for an unknown
    node: the API answers 404 for something missing on the server (a flow, a version, a trigger in
    the URL); here nothing is missing on the server, the body contradicts itself (it names a node
    its own document lacks), which is a request to fix, like any other bad field.
    """
    api_principal()
    data = _body({"document", "node_id"}, {"document", "node_id"})
    document, node_id = data["document"], data["node_id"]  # node_id: non-empty text (json_body's id rule)
    if not isinstance(document, dict):
        raise ApiError(400, "invalid_document", "document must be the flow document, a JSON object with nodes and "
                       "edges.", [{"field": "document", "reason": "not an object"}])
    problem = too_large(document)
    if problem:
        raise ApiError(400, "document_too_large", problem, [{"field": "document", "reason": problem}])
    if not has_node(document, node_id):
        raise ApiError(400, "unknown_node", f"The document has no node with the id {quoted(node_id)}; send the id "
                       "of one of its nodes.", [{"field": "node_id", "reason": "no such node in the document"}])
    return jsonify({"values": available_values(document, node_id)})
