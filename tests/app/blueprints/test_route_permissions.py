"""Every route of the app, walked from `app.url_map`: a viewer changes nothing, an editor manages no
keys, members, audit log or workspace settings.

Why walk the map instead of listing routes: a route added later (by anyone) is covered the day it
exists; it fails here until it checks the role table (`Principal.require`). Path variables are
filled with ids of real rows of the viewer's own workspace, so the answer shows the permission
check, not a 404. The refusal names the permission it lacked (JSON `details.required_permission`,
or the sentence of `REFUSALS` on a page); the test reads it back and writes the endpoint →
permission list to test-artifacts/route-permissions.txt.
"""

from __future__ import annotations

import hashlib
import html
import re

import pytest

from app.models import Role
from app.permissions import REFUSALS, ROLE_PERMISSIONS, Permission
from tests.app.flowdocs import greeting_flow
from tests.app.runsetup import Flows
from tests.app.trigger_helpers import bearer
from tests.app.role_clients import signed_in
from tests.conftest import ROOT, wait_for

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Meant for the public or for the caller's own account, so no workspace role applies:
SELF_SERVICE_PREFIXES = (
    "/hooks/",               # trigger URLs: authenticated by the trigger's secret or an API key (runs:trigger)
    "/v1/",                  # the OpenAI-compatible API: API keys only (runs:trigger)
    "/login", "/logout",     # anyone may try to log in, and log themselves out
    "/setup",                # the first-start owner page (exists only while there is no user)
    "/invitations/", "/invite/", "/accept",  # accepting an invitation: the link's token is the credential
    "/reset", "/password-reset", "/forgot",  # password reset links: the link's token is the credential
    "/settings/profile",     # each user's own name, password and sessions, whatever their role
)
# POSTs that change nothing stored, so a viewer may call them (the database is still compared):
READ_ONLY_POSTS = {
    "api.validate_flow",          # checks a document the canvas shows problems for
    "api.flow_values",            # the value picker's list
    "api.preview_schedule",       # the next fire times of a schedule's settings
    "triggers_api.setup_trigger",  # checks a trigger and its flow
    "ui.switch_workspace",        # remembers the chosen workspace in the caller's own session
}
# Only owners may use anything here, reading included: editors are refused whatever the method.
OWNER_AREAS = ("/settings/api-keys", "/api/v1/api-keys", "/settings/members", "/settings/audit",
               "/api/v1/audit", "/workspace/timezone", "/api/v1/members", "/api/v1/invitations")
OWNER_ROUTES = {("PATCH", "/api/v1/workspaces/<workspace_id>")}  # the workspace's settings (time zone)
OWNER_ONLY = set(Permission) - ROLE_PERMISSIONS[Role.EDITOR]
# Bodies that get a request as far as the permission check (the workspace is read from the body).
BODIES = {
    "api.create_flow": {"document": greeting_flow(key="viewer-made")},
    "triggers_api.create_trigger": {"flow_id": "{flow_id}"},
    "api_keys_api.create_key": {"name": "viewer key"},
    "credentials_api.create_credential": {"name": "viewer-cred", "kind": "bearer", "value": "s3cret"},
}
NOT_FOUND_ID = "0" * 32
VARIABLE = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


@pytest.fixture
def world(app, client, api_key, make_account):
    """The owner's workspace with one of everything, a viewer and an editor signed in to it."""
    flows = Flows(client, api_key)
    flow = flows.publish(greeting_flow(key="roles"))
    run_id = flows.call(flow, "hello", sessionId="roles-session")["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json["status"]
             in ("succeeded", "failed"), timeout=60)
    credential = client.post("/api/v1/credentials", json={"name": "roles-cred", "kind": "bearer", "value": "v"},
                             headers=bearer(api_key)).json
    keys = client.get("/api/v1/api-keys", headers=bearer(api_key)).json["api_keys"]
    rest = next(t for t in flow["triggers"] if t["type"] == "api_trigger")
    values = {"flow_id": flow["id"], "node_id": rest["node_id"], "number": "1", "run_id": run_id,
              "key_id": keys[0]["id"], "credential_id": credential["id"], "trigger_id": rest["id"],
              "workspace_id": flow["workspace_id"], "a": "1", "b": "1", "session_id": "roles-session"}
    sessions = {role: signed_in(app, make_account(email=f"{role}@example.com", role=role)) for role in
                ("viewer", "editor")}
    return values, sessions


def _rules(app, methods: set[str]):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) & methods):
            if rule.endpoint != "static" and not rule.rule.startswith(SELF_SERVICE_PREFIXES):
                yield rule, method


def _path(rule, values: dict) -> tuple[str, bool]:
    """The rule's path with real ids; False when a variable has no row to point at (404 is then fine)."""
    missing = [name for name in VARIABLE.findall(rule.rule) if name not in values]
    return VARIABLE.sub(lambda m: str(values.get(m.group(1), NOT_FOUND_ID)), rule.rule), not missing


def _send(client, rule, method: str, values: dict):
    path, filled = _path(rule, values)
    if method == "GET":
        answer = client.get(path)
    elif path.startswith("/api/"):
        body = BODIES.get(rule.endpoint, {})
        body = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in body.items()}
        answer = client.open(path, method=method, json=body, headers={"X-CSRFToken": client.csrf})
    else:
        answer = client.open(path, method=method, data={"csrf_token": client.csrf})
    return path, filled, answer


def refused_permission(answer) -> Permission | None:
    """The permission a 403 names: in the JSON error's details, or as its sentence on the page."""
    if answer.status_code != 403:
        return None
    if answer.is_json:
        details = answer.json["error"].get("details")
        return Permission(details["required_permission"]) if isinstance(details, dict) else None
    text = html.unescape(answer.get_data(as_text=True))
    return next((permission for permission, sentence in REFUSALS.items() if sentence in text), None)


def fingerprint(app) -> str:
    """Every row of every table, hashed: equal before and after means nothing was stored or changed."""
    from app.extensions import db

    digest = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(db.select(table)).all()
            digest.update(table.name.encode())
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(row.encode())
        db.session.remove()
    return digest.hexdigest()


def owners_only(rule, method: str) -> bool:
    return rule.rule.startswith(OWNER_AREAS) or (method, rule.rule) in OWNER_ROUTES


def _refused(answer, filled: bool) -> bool:
    return answer.status_code == 403 or (answer.status_code == 404 and not filled)


def test_a_viewer_changes_nothing_through_any_route(app, world):
    values, sessions = world
    viewer, before, wrong, named = sessions["viewer"], fingerprint(app), [], {}
    for rule, method in _rules(app, WRITE_METHODS):
        path, filled, answer = _send(viewer, rule, method, values)
        if answer.status_code >= 500 or (rule.endpoint not in READ_ONLY_POSTS and not _refused(answer, filled)):
            wrong.append(f"{method} {path} -> {answer.status_code}")
        elif answer.status_code == 403:
            named[f"{method} {rule.rule}"] = permission = refused_permission(answer)
            if permission is None or owners_only(rule, method) and permission not in OWNER_ONLY:
                wrong.append(f"{method} {path}: the 403 names {permission}, not what only owners may do")
        if fingerprint(app) != before:
            wrong.append(f"{method} {path} changed the database")
            before = fingerprint(app)
    assert not wrong, "\n".join(wrong)
    _write_list(app, named)


def test_an_editor_cannot_manage_keys_members_audit_or_workspace_settings(app, world):
    values, sessions = world
    viewer, editor, before, wrong = sessions["viewer"], sessions["editor"], fingerprint(app), []
    checked = 0
    for rule, method in _rules(app, WRITE_METHODS | {"GET"}):
        owner_area = owners_only(rule, method)
        if method == "GET" and not owner_area:
            continue
        if not owner_area and (method == "GET" or refused_permission(_send(viewer, rule, method, values)[2])
                               not in OWNER_ONLY):
            continue
        path, filled, answer = _send(editor, rule, method, values)
        checked += 1
        if not _refused(answer, filled) or (answer.status_code == 403 and refused_permission(answer) not in OWNER_ONLY):
            wrong.append(f"{method} {path} -> {answer.status_code} {refused_permission(answer)}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 6, "the API key pages and API, and the workspace settings, were all checked"
    assert fingerprint(app) == before


def test_a_viewer_opens_every_page_and_reads_every_api_list(app, world):
    values, sessions = world
    viewer, wrong = sessions["viewer"], []
    public = ("/healthz", "/readyz", "/metrics", "/favicon.ico")
    for rule, method in _rules(app, {"GET"}):
        if rule.rule.startswith(public):
            continue
        path, filled, answer = _send(viewer, rule, method, values)
        expected = {403} if owners_only(rule, method) else {302} if rule.rule == "/" else {200}
        if answer.status_code not in expected and not (answer.status_code == 404 and not filled):
            wrong.append(f"GET {path} -> {answer.status_code}")
    assert not wrong, "\n".join(wrong)
    for page in ("/flows", f"/flows/{values['flow_id']}", "/runs", f"/runs/{values['run_id']}", "/conversations",
                 "/conversations/roles-session", "/credentials"):
        assert sessions["viewer"].get(page).status_code == 200, page


def _write_list(app, named: dict) -> None:
    """Keep the endpoint → permission list the viewer's refusals showed, for people to read."""
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    lines = [f"{route}  {permission.value}" for route, permission in sorted(named.items())]
    (artifacts / "route-permissions.txt").write_text("\n".join(lines) + "\n")


def test_an_api_key_manages_credentials_keys_and_settings_only_with_flows_manage(app, client, api_key):
    """A key's scopes limit it on top of what keys may do: a trigger-only key changes nothing here."""
    narrow = client.post("/api/v1/api-keys", json={"name": "trigger only", "scopes": ["runs:trigger"]},
                         headers=bearer(api_key)).json["token"]
    workspace_id = client.get("/api/v1/workspaces", headers=bearer(api_key)).json["workspaces"][0]["id"]
    credential = client.post("/api/v1/credentials", json={"name": "scoped", "kind": "bearer", "value": "v"},
                             headers=bearer(api_key)).json
    client.get("/api/v1/workspaces", headers=bearer(narrow))  # its first use is recorded now, not below
    before = fingerprint(app)
    for method, path, body in (
            ("POST", "/api/v1/credentials", {"name": "narrow", "kind": "bearer", "value": "v"}),
            ("PATCH", f"/api/v1/credentials/{credential['id']}", {"name": "renamed"}),
            ("DELETE", f"/api/v1/credentials/{credential['id']}", None),
            ("PATCH", f"/api/v1/workspaces/{workspace_id}", {"timezone": "Asia/Tokyo"}),
            ("POST", "/api/v1/api-keys", {"name": "more"})):
        answer = client.open(path, method=method, json=body, headers=bearer(narrow))
        assert answer.status_code == 403, (method, path, answer.json)
        assert answer.json["error"]["details"] == {"required_scope": "flows:manage"}
    assert fingerprint(app) == before
    renamed = client.patch(f"/api/v1/credentials/{credential['id']}", json={"name": "renamed"}, headers=bearer(api_key))
    assert renamed.status_code == 200  # a key with every scope may
