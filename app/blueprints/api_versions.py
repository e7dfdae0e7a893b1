"""Version comparison on the JSON API (/api/v1), on the API blueprint.

Why a separate module: the canvas's compare mode and the rollback dialog both ask the server
what differs between two versions, so the browser holds no diff rule of its own; keeping the
endpoint here keeps api.py about flows, runs and triggers.
"""

from __future__ import annotations

from flask import jsonify, request

from app.blueprints.api import bp
from app.blueprints.loaders import load_flow, load_version, version_not_found
from app.digits import MAX_INTEGER, ascii_whole
from app.errors import ApiError, NotFound
from app.json_body import quoted
from app.services.versions.publishing import fingerprint
from app.services.versions.version_compare import compare_documents


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _version_number(flow, raw: str, field: str) -> int:
    """A path segment as a published version number, read as rollback reads one.

    ASCII digits are a whole number however many there are: one the flow has no version for is a
    404 `version_not_found`, as rollback answers (a number too large to be any version is "no
    version that large", never repeated). Anything else is a 400 `invalid_version`.
    """
    if raw.startswith("-") and _digits(raw[1:]):
        raise NotFound("version_not_found", "Only published versions (1, 2, 3, …) can be compared; "
                                            "tested drafts have no version number.")
    if not _digits(raw):
        raise ApiError(400, "invalid_version", f"The {field} version must be a version number such as 1 or 2.",
                       [{"field": field, "reason": "not a whole number"}])
    number = ascii_whole(raw, MAX_INTEGER)
    if number is None:
        raise version_not_found(flow, None)
    return number


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
    unknown = sorted(set(request.args) - {"include"})
    if unknown:
        raise ApiError(400, "invalid_parameter", f"Unknown query parameter {quoted(unknown[0])}; the only one here is "
                       "include=documents.", [{"field": name, "reason": "unknown parameter"} for name in unknown])
    if include not in (None, "documents"):
        raise ApiError(400, "invalid_parameter", "include takes one value here: include=documents.",
                       [{"field": "include", "reason": "unknown value"}])
    first, second = _version_number(flow, a, "from"), _version_number(flow, b, "to")
    before, after = _published(flow, first), _published(flow, second)
    body = compare_documents(before.document, after.document)
    body.update({"flow_id": flow.id, "from": first, "to": second, "latest_version": flow.latest_version,
                 "same": fingerprint(before.document) == fingerprint(after.document)})
    if include:
        body["documents"] = {"from": before.document, "to": after.document}
    return jsonify(body)
