"""Load one resource the caller may see, for pages and the JSON API alike, or raise `NotFound`.

Why one loader per resource: the page and the API version of a view used to load the same row
with their own copies of the query, the workspace filter and the id-length guard, and answered a
missing id differently. Here each resource is loaded once, filtered by the caller's workspaces
(and, for API keys limited to some flows, by those flows), so an id the caller may not see
answers exactly like one that does not exist. `NotFound` becomes the error page or a JSON error
depending on where the request came in (`app.errors`).
"""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from app.auth import Principal, api_principal, user_principal
from app.errors import JSON_PREFIXES, NotFound
from app.extensions import db
from app.permissions import Permission
from app.models import (ApiKey, Credential, Flow, FlowVersion, Run, Scope, Trigger,
                        TriggerStatus)

MAX_ID = 32  # row ids are 32 hex characters
MAX_NODE_ID = 64


def principal(scope: Scope | None = None) -> Principal:
    """The caller: by API key or session on the JSON API (`scope` checked), the logged-in user on pages."""
    if request.path.startswith(JSON_PREFIXES):
        return api_principal(scope)
    cached = getattr(g, "page_principal", None)
    if cached is None:
        cached = g.page_principal = user_principal(current_user)
    return cached


def fits(value: object, limit: int = MAX_ID) -> bool:
    """Whether `value` can be an id at all; longer text is answered 404 without a query."""
    return isinstance(value, str) and 0 < len(value) <= limit


def _first(statement, value: object, limit: int = MAX_ID):
    return db.session.execute(statement).scalar_one_or_none() if fits(value, limit) else None


def _visible(model, row_id: str, scope: Scope | None, flow_id_of, not_found: NotFound, *conditions):
    """The row of `model` with this id in the caller's workspaces and flows, else `not_found`."""
    caller = principal(scope)
    row = _first(db.select(model).where(model.id == row_id, model.workspace_id.in_(caller.workspace_ids),
                                        *conditions), row_id)
    if row is None or not caller.may_use_flow(flow_id_of(row)):
        raise not_found
    caller.require(row.workspace_id, Permission.VIEW)
    return row


def load_flow(flow_id: str, scope: Scope = Scope.READ_FLOWS) -> Flow:
    return _visible(Flow, flow_id, scope, lambda flow: flow.id,
                    NotFound("flow_not_found", "No flow with this id exists in your workspaces."))


def load_version(flow: Flow, number: int) -> FlowVersion:
    """The flow's version `number`; a number no column could hold is answered without a query, or an echo.

    A JSON body may carry a 1,000-digit version number: the answer names the latest version
    instead of repeating it.
    """
    fits_column = isinstance(number, int) and -2**31 < number < 2**31
    version = db.session.execute(
        db.select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.number == number)
    ).scalar_one_or_none() if fits_column and number > 0 else None
    if version is None:
        raise version_not_found(flow, number if fits_column else None)
    return version


def version_not_found(flow: Flow, number: int | None) -> NotFound:
    """The 404 for a version the flow does not have; `number` None for one too large to repeat."""
    shown = "that large" if number is None else number
    latest = f"its latest is version {flow.latest_version}" if flow.latest_version else "nothing is published yet"
    return NotFound("version_not_found", f"This flow has no version {shown}; {latest}.")


def load_run(run_id: str, scope: Scope = Scope.READ_RUNS) -> Run:
    return _visible(Run, run_id, scope, lambda run: run.flow_id,
                    NotFound("run_not_found", "No run with this id exists in your workspaces."))


def load_flow_trigger(flow: Flow, node_id: str) -> Trigger:
    """A flow's trigger by its node id on the canvas (deleted triggers are gone)."""
    trigger = _first(db.select(Trigger).where(Trigger.flow_id == flow.id, Trigger.node_id == node_id,
                                              Trigger.status != TriggerStatus.DELETED), node_id, MAX_NODE_ID)
    if trigger is None:
        raise NotFound("trigger_not_found", "This flow's latest version has no trigger node with this id.")
    return trigger


def load_trigger(trigger_id: str, scope: Scope = Scope.READ_FLOWS) -> Trigger:
    """A trigger by its own id, as the trigger management API addresses it."""
    return _visible(Trigger, trigger_id, scope, lambda trigger: trigger.flow_id,
                    NotFound("trigger_not_found", "No trigger with this id exists in your workspaces."),
                    Trigger.status != TriggerStatus.DELETED)


def load_credential(credential_id: str, workspace_ids: list[str] | None = None) -> Credential:
    """A credential in the caller's workspaces (or in `workspace_ids`, e.g. the page's workspace)."""
    ids = principal().workspace_ids if workspace_ids is None else workspace_ids
    credential = _first(db.select(Credential).where(Credential.id == credential_id,
                                                    Credential.workspace_id.in_(ids)), credential_id)
    if credential is None:
        raise NotFound("credential_not_found", "No credential with this id exists in your workspaces.")
    return credential


def load_api_key(key_id: str, workspace_ids: list[str]) -> ApiKey:
    key = _first(db.select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace_id.in_(workspace_ids)), key_id)
    if key is None:
        raise NotFound("api_key_not_found", "No API key with this id exists in your workspaces.")
    return key
