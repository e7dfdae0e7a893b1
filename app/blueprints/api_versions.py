"""Version comparison on the JSON API (/api/v1), on the API blueprint.

Why a separate module: the canvas's compare mode and the rollback dialog both ask the server
what differs between two versions, so the browser holds no diff rule of its own; keeping the
endpoint here keeps api.py about flows, runs and triggers.
"""

from __future__ import annotations

import re

from flask import jsonify, request

from app.blueprints.api import bp
from app.blueprints.loaders import load_flow, load_version
from app.errors import ApiError, NotFound
from app.services.versions.publishing import fingerprint
from app.services.versions.version_compare import compare_documents

# Digits only, and few enough of them that int() is cheap and the value fits a version number.
_NUMBER = re.compile(r"[0-9]{1,12}")


def _version_number(raw: str, field: str) -> int:
    """A path segment as a published version number: 400 if it is not a number, 404 if no such version."""
    if raw.startswith("-") and _NUMBER.fullmatch(raw[1:]):
        raise NotFound("version_not_found", "Only published versions (1, 2, 3, …) can be compared; "
                                            "tested drafts have no version number.")
    if not _NUMBER.fullmatch(raw):
        raise ApiError(400, "invalid_version", f"The {field} version must be a version number such as 1 or 2.",
                       [{"field": field, "reason": "not a whole number"}])
    return int(raw)


def _published(flow, number: int):
    """The published version `number`; a tested draft is never one, whatever its number."""
    version = load_version(flow, number)
    if version.draft:
        raise NotFound("version_not_found", f"This flow has no published version {number}.")
    return version


@bp.get("/flows/<flow_id>/versions/<a>/compare/<b>")
def compare_versions(flow_id: str, a: str, b: str):
    """What changed from version `a` to version `b`: nodes added, removed, changed field by field, moved; edges.

    `?include=documents` adds both versions' documents, which the canvas draws the comparison from.
    `same` says whether the two documents are the same by the rule saving and rolling back use
    (empty lists do not: a document may differ outside its nodes and edges), so the rollback
    dialog can say "nothing would be published" without a rule of its own.
    """
    flow = load_flow(flow_id)
    include = request.args.get("include")
    if include not in (None, "documents") or set(request.args) - {"include"}:
        raise ApiError(400, "invalid_parameter", "The only query parameter here is include=documents.",
                       [{"field": "include", "reason": "unknown parameter or value"}])
    first, second = _version_number(a, "from"), _version_number(b, "to")
    before, after = _published(flow, first), _published(flow, second)
    body = compare_documents(before.document, after.document)
    body.update({"flow_id": flow.id, "from": first, "to": second, "latest_version": flow.latest_version,
                 "same": fingerprint(before.document) == fingerprint(after.document)})
    if include:
        body["documents"] = {"from": before.document, "to": after.document}
    return jsonify(body)
