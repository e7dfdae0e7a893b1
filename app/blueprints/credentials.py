"""Workspace credentials: the JSON API under /api/v1/credentials and the page that manages them.

Secrets go in (create, replace) and never come out: every answer describes a credential by
name, kind and header only. Views stay thin; `app.services.workspaces.credentials` does the work.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import api_principal, user_principal
from app.blueprints.api_support import json_body as _body
from app.blueprints.loaders import load_credential
from app.errors import ApiError, NotFound
from app.extensions import csrf, db
from app.models import Scope
from app.permissions import Permission
from app.services.workspaces import credentials as service
from app.words import credential_kind_words

api_bp = Blueprint("credentials_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # as the main API: session callers are CSRF-checked in api_principal()
ui_bp = Blueprint("credentials_ui", __name__)
FIELDS = service.FIELDS | {"workspace_id"}


def _workspace(principal, requested: object) -> str:
    workspace_id = requested or principal.default_workspace_id
    if not isinstance(workspace_id, str) or principal.role(workspace_id) is None:
        raise ApiError(404, "workspace_not_found", "No workspace with this id among yours.")
    return workspace_id


def _invalid(exc: service.CredentialError) -> ApiError:
    status, code = (409, "duplicate_name") if isinstance(exc, service.DuplicateName) else (400, "invalid_credential")
    return ApiError(status, code, exc.message, exc.details)


@api_bp.get("/credentials")
def list_credentials():
    principal = api_principal()
    workspace_id = _workspace(principal, request.args.get("workspace_id"))
    return jsonify({"credentials": [service.credential_dict(c) for c in service.list_credentials(workspace_id)]})


@api_bp.post("/credentials")
def create_credential():
    principal = api_principal(Scope.MANAGE_FLOWS)
    data = _body(FIELDS, {"name", "kind"})
    workspace_id = _workspace(principal, data.pop("workspace_id", None))
    principal.require(workspace_id, Permission.MANAGE_CREDENTIALS)
    try:
        credential = service.create_credential(workspace_id, data)
    except service.CredentialError as exc:
        db.session.rollback()
        raise _invalid(exc) from None
    db.session.commit()
    return jsonify(service.credential_dict(credential)), 201


@api_bp.get("/credentials/<credential_id>")
def get_credential(credential_id: str):
    return jsonify(service.credential_dict(load_credential(credential_id)))


@api_bp.patch("/credentials/<credential_id>")
def update_credential(credential_id: str):
    credential = load_credential(credential_id)
    api_principal(Scope.MANAGE_FLOWS).require(credential.workspace_id, Permission.MANAGE_CREDENTIALS)
    data = _body(service.FIELDS)
    try:
        service.update_credential(credential, data)
    except service.CredentialError as exc:
        db.session.rollback()
        raise _invalid(exc) from None
    db.session.commit()
    return jsonify(service.credential_dict(credential))


@api_bp.delete("/credentials/<credential_id>")
def delete_credential(credential_id: str):
    credential = load_credential(credential_id)
    api_principal(Scope.MANAGE_FLOWS).require(credential.workspace_id, Permission.MANAGE_CREDENTIALS)
    service.delete_credential(credential)
    db.session.commit()
    return "", 204


@ui_bp.route("/credentials", methods=["GET", "POST"])
@login_required
def page():
    """List the workspace's credentials; the form adds one, or replaces/deletes an existing one."""
    principal = user_principal(current_user)
    workspace_id = principal.default_workspace_id
    if workspace_id is None:
        abort(404, "You belong to no workspace.")
    if request.method == "POST":
        principal.require(workspace_id, Permission.MANAGE_CREDENTIALS)
        if not _apply_form(workspace_id, principal) and request.form.get("action", "create") == "create":
            # Refused: the form comes back with what was typed, secrets left out (they are never shown).
            typed = {k: request.form.get(k, "") for k in ("name", "kind", "header", "username")}
            return _render(workspace_id, typed), 400
        return redirect(url_for("credentials_ui.page"))
    return _render(workspace_id)


def _render(workspace_id: str, typed: dict | None = None) -> str:
    return render_template("credentials/list.html", credentials=service.list_credentials(workspace_id),
                           used_by=service.flows_using(workspace_id), typed=typed or {},
                           kinds=[(kind, credential_kind_words(kind)) for kind in service.KINDS],
                           kind_words=credential_kind_words)


# What a refused form field needs, in the page's words (the API's messages name JSON fields and kinds).
_FIELD_WORDS = {
    "name": "Give the credential a name of 1 to 100 characters: letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit.",
    "kind": "Pick what kind of credential this is.",
    "header": "Type the name of the header the service expects, such as X-API-Key.",
    "value": f"Type the secret value (at most {service.MAX_SECRET_CHARS:,} characters).",
    "username": "Type the username.",
    "password": f"Type the password (at most {service.MAX_SECRET_CHARS:,} characters).",
}


def _in_words(exc: service.CredentialError) -> str:
    fields = [detail.get("field") for detail in exc.details or []]
    if isinstance(exc, service.DuplicateName) or not fields or any(f not in _FIELD_WORDS for f in fields):
        return exc.message
    return " ".join(dict.fromkeys(_FIELD_WORDS[field] for field in fields))


def _kind_fields(data: dict, kind: object) -> dict:
    """The form keeps every kind's boxes (hidden when another kind is chosen); send only the chosen kind's."""
    takes = service.KIND_FIELDS.get(kind) if isinstance(kind, str) else None
    if takes is None:
        return data  # an unknown kind: the service says so
    return {field: value for field, value in data.items() if field in {"name", "kind"} | takes}


def _apply_form(workspace_id: str, principal) -> bool:
    """Create, replace or delete as the form says; flash the outcome. False when refused."""
    form = request.form
    action = form.get("action", "create")
    try:
        if action == "delete":
            credential = _credential_or_none(form.get("id", ""), workspace_id)  # already gone: nothing to do
            if credential is not None:
                service.delete_credential(credential)
                flash(f"Deleted the credential '{credential.name}'.", "success")
        else:
            data = {k: form[k] for k in ("name", "kind", "header", "value", "username", "password") if form.get(k)}
            if action == "update":
                credential = load_credential(form.get("id", ""), [workspace_id])
                data.pop("kind", None)
                data = _kind_fields(data, credential.kind)
                if not data:  # the Replace box was left empty: say so rather than "Updated"
                    raise service.CredentialError(f"Nothing changed: type the new secret for '{credential.name}' "
                                                  f"first, then press Replace.", [])
                service.update_credential(credential, data)
                flash(f"Updated the credential '{credential.name}'.", "success")
            else:
                credential = service.create_credential(workspace_id, _kind_fields(data, data.get("kind")))
                flash(f"Saved the credential '{credential.name}'. Its secret is stored encrypted and "
                      f"will not be shown again.", "success")
        db.session.commit()
    except service.CredentialError as exc:
        db.session.rollback()
        flash(_in_words(exc), "error")
        return False
    return True


def _credential_or_none(credential_id: str, workspace_id: str):
    try:
        return load_credential(credential_id, [workspace_id])
    except NotFound:
        return None
