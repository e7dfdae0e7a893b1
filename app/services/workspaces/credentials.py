"""Create, change and resolve workspace credentials; the only code that sees their secrets.

Why encryption with a key outside the database: backups and database dumps travel further than
the instance folder, and a leaked dump must not hand out every API key of every workspace.
Secrets go in and never come out through the API or the pages; only `resolver()` decrypts,
inside the worker, for the node that names the credential.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING


from app.config import settings
from app.extensions import db
from app.models import Credential
from app.models.types import iso, utcnow
from app.json_body import listed
from app.services import audit
from flows.credentials import KINDS

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
MAX_SECRET_CHARS = 10000
SECRET_FIELDS = {"api_key": ("value",), "bearer": ("value",), "header": ("value",), "basic": ("username", "password")}
FIELDS = {"name", "kind", "header", "value", "username", "password"}
# The fields each kind takes besides its name and kind; any other is refused, not silently dropped.
KIND_FIELDS = {kind: set(fields) | ({"header"} if kind in ("api_key", "header") else set())
               for kind, fields in SECRET_FIELDS.items()}


class CredentialError(ValueError):
    """The request names a bad field; `details` lists each field and the reason."""

    def __init__(self, message: str, details: list[dict]):
        super().__init__(message)
        self.message, self.details = message, details


class DuplicateName(CredentialError):
    """Another credential of the workspace already has this name."""


def fernet() -> Fernet:
    """The workspace secrets' cipher (CREDENTIALS_KEY): credentials and trigger signing secrets.

    cryptography is imported here, on first use, not with the module: it maps ~8 MB of native
    code that a process which never touches a secret (most web requests, the scheduler) can skip.
    """
    from cryptography.fernet import Fernet

    return Fernet(settings().credentials_key.encode("ascii"))


def credential_dict(credential: Credential) -> dict:
    """Describe a credential for lists and forms: never its secret."""
    return {"id": credential.id, "name": credential.name, "kind": credential.kind, "header": credential.header,
            "created_at": iso(credential.created_at), "updated_at": iso(credential.updated_at)}


def list_credentials(workspace_id: str) -> list[Credential]:
    return list(db.session.execute(
        db.select(Credential).where(Credential.workspace_id == workspace_id).order_by(Credential.name)).scalars())


def create_credential(workspace_id: str, data: dict) -> Credential:
    """Validate `data` (name, kind, secret fields, header) and add the credential (not committed)."""
    _unknown(data)
    name = _name(data.get("name"))
    kind = _kind(data.get("kind"))
    _applicable(kind, data)
    header = _header(kind, data.get("header"))
    secret = _secret(kind, data, required=True)
    _unique(workspace_id, name, None)
    credential = Credential(workspace_id=workspace_id, name=name, kind=kind, header=header,
                            secret=fernet().encrypt(json.dumps(secret).encode()))
    db.session.add(credential)
    db.session.flush()
    audit.record(workspace_id, audit.Action.CREDENTIAL_CREATED, target_type="credential", target_id=credential.id,
                 target_label=name, details={"kind": kind})
    return credential


def update_credential(credential: Credential, data: dict) -> Credential:
    """Rename, change the header or replace the secret; a new kind needs its secret fields again.

    Audited with what changed (field names, the old name on a rename), never with a secret.
    """
    _unknown(data)
    before = (credential.name, credential.kind, credential.header)
    if "name" in data:
        name = _name(data["name"])
        _unique(credential.workspace_id, name, credential.id)
        credential.name = name
    kind = _kind(data["kind"]) if "kind" in data else credential.kind
    _applicable(kind, data)
    given = [field for field in SECRET_FIELDS[kind] if field in data]
    if kind != credential.kind or given:
        secret = _secret(kind, data, required=kind != credential.kind)
        if kind == credential.kind:
            secret = {**_decrypt(credential), **secret}
        credential.secret = fernet().encrypt(json.dumps(secret).encode())
    if "header" in data or kind != credential.kind:
        credential.header = _header(kind, data.get("header", credential.header))
    credential.kind = kind
    credential.updated_at = utcnow()
    _audit_change(credential, before, secret_replaced=kind != before[1] or bool(given))
    return credential


def _audit_change(credential: Credential, before: tuple, secret_replaced: bool) -> None:
    old_name, old_kind, old_header = before
    changed = [field for field, old, new in (("name", old_name, credential.name), ("kind", old_kind, credential.kind),
                                             ("header", old_header, credential.header)) if old != new]
    if secret_replaced:
        changed.append("secret")
    if not changed:
        return  # a form sent back unchanged: nothing happened worth a line
    details: dict = {"changed": changed}
    if old_name != credential.name:
        details["renamed_from"] = old_name
    audit.record(credential.workspace_id, audit.Action.CREDENTIAL_CHANGED, target_type="credential",
                 target_id=credential.id, target_label=credential.name, details=details)


def delete_credential(credential: Credential) -> None:
    """Delete the credential (the caller commits); nodes naming it fail their check until another takes its name."""
    audit.record(credential.workspace_id, audit.Action.CREDENTIAL_DELETED, target_type="credential",
                 target_id=credential.id, target_label=credential.name, details={"kind": credential.kind})
    db.session.delete(credential)


def flows_using(workspace_id: str) -> dict[str, list[str]]:
    """Credential name -> the names of the flows whose published version picks it (archived ones left out).

    Why: deleting or renaming a credential breaks the steps that pick it by name, and the person
    deciding should see which flows those are, not a generic "nodes using it will fail".
    """
    from app.models import Flow
    from app.services.versions import parsed_versions
    from flows.runnable_checks import credential_settings

    users: dict[str, list[str]] = {}
    flows = db.session.execute(db.select(Flow).where(Flow.workspace_id == workspace_id, Flow.archived_at.is_(None))
                               .order_by(Flow.name)).scalars()
    for flow in flows:
        version = parsed_versions.latest(flow)
        graph = version.graph if version is not None else None
        for node_id in graph.nodes if graph is not None else ():
            node_type = graph.node_type(node_id)
            if node_type is None:
                continue
            for _, name in credential_settings(node_type, node_type.effective_config(graph.node(node_id).get("config") or {})):
                names = users.setdefault(name, [])
                if flow.name not in names:
                    names.append(flow.name)
    return users


def resolver(workspace_id: str):
    """Return name -> {"kind", "name", "header", secret fields} for the nodes of one run, or None."""
    cache: dict[str, dict | None] = {}

    def resolve(name: str) -> dict | None:
        if name not in cache:
            credential = db.session.execute(db.select(Credential).where(
                Credential.workspace_id == workspace_id, Credential.name == name)).scalar_one_or_none()
            cache[name] = None if credential is None else {
                "kind": credential.kind, "name": credential.name, "header": credential.header, **_decrypt(credential)}
        return cache[name]

    return resolve


def _decrypt(credential: Credential) -> dict:
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(fernet().decrypt(credential.secret))
    except (InvalidToken, ValueError):
        raise ValueError(f"The credential '{credential.name}' cannot be decrypted with the current "
                         f"CREDENTIALS_KEY; enter its secret again.") from None


def _error(field: str, reason: str, message: str) -> CredentialError:
    return CredentialError(message, [{"field": field, "reason": reason}])


def _unknown(data: dict) -> None:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise CredentialError(f"Unknown field(s): {listed(unknown)}. Allowed: {', '.join(sorted(FIELDS))}.",
                              [{"field": name, "reason": "unknown field"} for name in unknown])


def _applicable(kind: str, data: dict) -> None:
    """Refuse fields the kind does not take (a password for a bearer token): dropping them would hide a mistake."""
    foreign = sorted(field for field in FIELDS - {"name", "kind"} - KIND_FIELDS[kind] if data.get(field) is not None)
    if foreign:
        takes = ", ".join(sorted(KIND_FIELDS[kind]))
        verb = "does" if len(foreign) == 1 else "do"
        raise CredentialError(f"{listed(foreign)} {verb} not apply to a credential of kind '{kind}' (it takes: {takes}).",
                              [{"field": field, "reason": f"not used by kind '{kind}'"} for field in foreign])


def _name(value: object) -> str:
    if not isinstance(value, str) or not NAME.match(value.strip()):
        raise _error("name", "invalid", "name must be 1-100 characters: letters, digits, spaces, '.', '_' or '-', "
                                        "starting with a letter or digit.")
    return value.strip()


def _kind(value: object) -> str:
    if value not in KINDS:
        raise _error("kind", "invalid", f"kind must be one of: {', '.join(KINDS)}.")
    return value


def _header(kind: str, value: object) -> str | None:
    if kind not in ("api_key", "header"):
        return None
    if value in (None, "") and kind == "api_key":
        return None
    if not isinstance(value, str) or not HEADER.match(value):
        raise _error("header", "invalid", "header must be an HTTP header name such as X-API-Key"
                     + (" (required for kind 'header')." if kind == "header" else "."))
    return value


def _secret(kind: str, data: dict, required: bool) -> dict:
    secret = {}
    for field in SECRET_FIELDS[kind]:
        value = data.get(field)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value or len(value) > MAX_SECRET_CHARS:
            raise _error(field, "required" if value is None else "invalid",
                         f"{field} must be a non-empty string of at most {MAX_SECRET_CHARS} characters "
                         f"for kind '{kind}'.")
        secret[field] = value
    return secret


def _unique(workspace_id: str, name: str, own_id: str | None) -> None:
    query = db.select(Credential.id).where(Credential.workspace_id == workspace_id, Credential.name == name)
    existing = db.session.execute(query).scalar_one_or_none()
    if existing is not None and existing != own_id:
        raise DuplicateName(f"A credential called '{name}' already exists in this workspace; choose another name.",
                            [{"field": "name", "reason": "taken"}])
