"""Export a version as a file, and import such a file as a new flow.

What a file holds: the document, the flow's name and description, and which version it was;
never a secret (trigger secrets live hashed on trigger rows, credentials are referred to by name),
so a file can be mailed or committed. An import creates a new flow and publishes the document as
its version 1, or creates nothing and says what is wrong with the file.
"""

from __future__ import annotations

import re

from app.json_body import BodyError, listed, parse_json_object
from app.models import Flow, FlowVersion, User, Workspace
from app.models.types import iso, utcnow
from app.services.manage.flow_settings import SettingsError, check_description, check_name
from app.services.manage.trigger_keys import free_keys
from app.services.versions import publishing

FORMAT = "switchboard-flow"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 512 * 1024  # under MAX_BODY_BYTES, so a big file gets this clear refusal, not a bare 413
FILE_FIELDS = {"format", "format_version", "name", "description", "version", "exported_at", "document"}


class ImportRefused(Exception):
    """The file cannot become a flow; `message` says why, `problems` lists a document's problems."""

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


def export_file(flow: Flow, version: FlowVersion) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "name": flow.name, "description": flow.description,
            "version": version.number, "exported_at": iso(utcnow()), "document": version.document}


def file_name(flow: Flow, version: FlowVersion) -> str:
    """A safe download name: the flow's name in plain ASCII, then the version."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", flow.name).strip("-").lower()[:60] or "flow"
    return f"{stem}-v{version.number}.json"


def read_file(raw: bytes, limit: int | None = MAX_FILE_BYTES) -> dict:
    """Parse an uploaded file as an exported flow; ImportRefused says what is wrong.

    `limit` None: the request's own body limit (MAX_BODY_BYTES, a 413) already applied (the API).
    """
    if limit is not None and len(raw) > limit:
        raise ImportRefused(f"The file is {len(raw) // 1024} KiB; a flow file may be at most "
                            f"{MAX_FILE_BYTES // 1024} KiB.")
    if not raw.strip():
        raise ImportRefused("The file is empty; choose a flow file exported from Switchboard (.json).")
    try:
        data = parse_json_object(raw)
    except BodyError as exc:
        raise ImportRefused(f"This is not a flow file: {exc.message.replace('The body', 'the file')}") from None
    return data


def _shape(data: dict) -> tuple[dict, str | None, str | None]:
    """Split a file into (document, name, description); a bare flow document is accepted too."""
    if "document" not in data and "nodes" in data:
        return data, None, None
    unknown = sorted(data.keys() - FILE_FIELDS)
    if unknown:
        raise ImportRefused(f"This is not a flow file: unknown field(s) {listed(unknown)}. A flow file has "
                            f"{', '.join(sorted(FILE_FIELDS))}.")
    document = data.get("document")
    if not isinstance(document, dict):
        raise ImportRefused("This is not a flow file: it has no document (the flow's nodes and connections). "
                            "Export a version from a flow's page and import that file.")
    if data.get("format", FORMAT) != FORMAT:
        raise ImportRefused(f"This is not a flow file: its format is not '{FORMAT}'.")
    try:
        name = check_name(data["name"]) if data.get("name") is not None else None
        description = check_description(data["description"]) if data.get("description") is not None else None
    except SettingsError as exc:
        raise ImportRefused(f"The file's {exc.field} is not usable: {exc.message}") from None
    return document, name, description


def import_flow(workspace: Workspace, data: dict, user: User | None, name: str | None = None) -> publishing.PublishResult:
    """Create a flow from a parsed file and publish it as version 1; the caller commits.

    Trigger keys already used in the workspace (an export imported back next to its original) get
    new ones, so the import never takes over another flow's URLs. Raises ImportRefused.
    """
    document, file_flow_name, description = _shape(data)
    flow_name = name or file_flow_name or (document.get("name") if isinstance(document.get("name"), str) else None)
    free_keys(document, workspace.id)
    try:
        result = publishing.create_flow(workspace, document, user, (flow_name or "Imported flow")[:200])
    except publishing.InvalidFlow as exc:
        raise ImportRefused(f"The flow in this file has {len(exc.problems)} problem(s); nothing was imported.",
                            exc.problems) from None
    if description is not None:
        result.flow.description = description
    return result
