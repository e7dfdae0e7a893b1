"""Set up the demo workspace that `make run` shows on first start.

The demo password is random, kept in the instance folder (mode 0600) and printed at every start,
so nobody has to invent one and no well-known password ships. Example flows are imported once;
their REST trigger secret is printed that one time, with a ready curl command.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask

import flows
from app.extensions import db
from app.models import Flow, Trigger, TriggerStatus
from app.services.versions import publishing
from app.services.workspaces.accounts import create_or_update_user, get_or_create_workspace
from app.models import Scope
from app.services.workspaces import credentials
from app.services.workspaces.api_keys import create_api_key
from flows.runnable_checks import credential_settings
from app.services.versions.presenters import trigger_url
from app.trigger_types import HOOK, OPENAI, openai_base_url, started_by

DEMO_EMAIL = "demo@switchboard.local"
DEMO_WORKSPACE = "Demo"
PLACEHOLDER_SECRET = "replace-me"  # noqa: S105 - not a secret: the demo asks people to replace it
EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"


def _demo_password(instance: Path) -> str:
    path = instance / "demo-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password


def _openai_lines(workspace, first_start: bool) -> list[str]:
    """Show how to chat with the example model; on first start, with a ready API key."""
    models = db.session.execute(
        db.select(Trigger.key).where(Trigger.workspace_id == workspace.id, Trigger.type.in_(started_by(OPENAI)),
                                     Trigger.status == TriggerStatus.ACTIVE).order_by(Trigger.key_lower)
    ).scalars().all()
    if not models:
        return []
    base = openai_base_url()
    lines = [f"OpenAI-compatible API: base URL {base}, model(s) {', '.join(models)}"]
    if first_start:
        _, token = create_api_key(workspace, "demo (make run)", scopes=[Scope.TRIGGER.value, Scope.READ_RUNS.value])
        body = '{"model": "%s", "messages": [{"role": "user", "content": "hello"}]}' % models[0]
        lines += [f"  API key for it (shown only this once): {token}", "  try it:",
                  f"  curl -s {base}/chat/completions -H 'Authorization: Bearer {token}' "
                  f"-H 'Content-Type: application/json' -d '{body}'"]
    else:
        lines.append("  use a workspace API key with the runs:trigger scope (API keys page, or "
                     "flask --app wsgi create-api-key --workspace Demo --name me)")
    return lines


def _example_credentials(workspace, documents: list[dict]) -> list[str]:
    """Create the credentials the examples name, with a placeholder secret, so they can be published.

    Only flows whose credentials exist are published; the demo has no real keys, so it creates
    each with a placeholder and says where to put the real secret.
    """
    needed = set()
    for document in documents:
        for node in document.get("nodes", []):
            node_type = flows.registry.get(node.get("type"))
            if node_type is not None:
                needed.update(name for _, name in credential_settings(node_type, node.get("config") or {}))
    existing = {credential.name for credential in credentials.list_credentials(workspace.id)}
    lines = []
    for name in sorted(needed - existing):
        credentials.create_credential(workspace.id, {"name": name, "kind": "bearer", "value": PLACEHOLDER_SECRET})
        lines.append(f"Credential {name!r} was created with a placeholder secret for the example flows; "
                     "put the real one in under Credentials.")
    return lines


def bootstrap_demo(app: Flask, base_url: str | None = None) -> list[str]:
    """Ensure the demo user, workspace and example flows exist; return the lines to print."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    password = _demo_password(instance)
    lines = []
    create_or_update_user(DEMO_EMAIL, password, DEMO_WORKSPACE)
    workspace = get_or_create_workspace(DEMO_WORKSPACE)
    existing = {name for (name,) in db.session.execute(db.select(Flow.name).where(Flow.workspace_id == workspace.id))}
    new_secrets: dict[str, str] = {}  # trigger id -> secret, for flows imported just now
    documents = [json.loads(path.read_text()) for path in sorted(EXAMPLES.glob("*.json"))]
    documents = [document for document in documents if document.get("name") not in existing]
    lines += _example_credentials(workspace, documents)
    for document in documents:
        result = publishing.create_flow(workspace, document, None)
        new_secrets.update({t.id: result.secrets[t.node_id] for t in result.flow.triggers if t.node_id in result.secrets})
    db.session.flush()
    triggers = db.session.execute(
        db.select(Trigger, Flow.name).join(Flow, Flow.id == Trigger.flow_id)
        .where(Trigger.workspace_id == workspace.id, Trigger.type.in_(started_by(HOOK)),
               Trigger.status == TriggerStatus.ACTIVE).order_by(Flow.name)
    ).all()
    for trigger, flow_name in triggers:
        url = trigger_url(trigger)
        secret = new_secrets.get(trigger.id)
        lines.append(f"Example flow {flow_name!r}: REST trigger {url}")
        if secret:
            lines += [
                f"  secret (shown only this once): {secret}",
                "  try it:",
                f"  curl -s -X POST '{url}' -H 'Authorization: Bearer {secret}' "
                "-H 'Content-Type: application/json' -d '{\"user_message\": \"What is the status of db?\"}'",
            ]
        else:
            lines.append("  its secret was shown on first start; rotate it on the flow's page, or call it with an "
                         "API key (flask --app wsgi create-api-key --workspace Demo --name me)")
    lines += _openai_lines(workspace, first_start=bool(new_secrets))
    db.session.commit()
    lines.insert(0, f"Log in at {base_url or 'http://127.0.0.1:5000'}/login as {DEMO_EMAIL} with password {password}")
    return lines
