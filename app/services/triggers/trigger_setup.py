"""Check a trigger the way its first run would meet it, before anyone calls it (`POST …/setup`).

Why a check of its own: "ready" is a promise that a run started now gets past everything the app
decides before the flow's own logic, so every reason a run would fail without doing any work is
reported here: a paused trigger, no published version, a node missing from it, a credential a
node names that the workspace does not have (or cannot decrypt), and what the trigger's type adds
(its adapter's `setup_problems`: a schedule's inputs that the start node refuses, a chat trigger
whose start node takes no message, …).
"""

from __future__ import annotations

import flows
from app.extensions import db
from app.models import Flow, Trigger, TriggerStatus
from app.services.workspaces.credentials import resolver
from app.services.versions.publishing import latest_version
from app.trigger_types import registry as trigger_types
from app.trigger_types.base import problem


def setup_problems(trigger: Trigger) -> list[dict]:
    """Say what stops the trigger from working, or what will surprise its callers ([] = ready)."""
    problems: list[dict] = []
    if trigger.status is TriggerStatus.PAUSED:
        problems.append(problem("trigger_paused", "The trigger is paused: it starts no runs (its URL answers 404) "
                                "until you resume it."))
    version = latest_version(db.session.get(Flow, trigger.flow_id))
    if version is None:
        return problems + [problem("not_published", "The flow has no published version.")]
    problems += [p.to_dict() for p in flows.validate(version.document)]  # warnings stay warnings
    graph = flows.Graph(version.document)
    if graph.node(trigger.node_id) is None:
        problems.append(problem("trigger_node_missing", f"Version {version.number} has no node "
                                f"'{trigger.node_id}'; save the flow again.", trigger))
    problems += credential_problems(version.document, trigger.workspace_id)
    start = (graph.start_node() or {}).get("config") or {}
    problems += trigger_types.of(trigger).setup_problems(trigger, start)
    for found in problems:
        found.setdefault("severity", "error")
    return problems


def credential_problems(document: dict, workspace_id: str) -> list[dict]:
    """One error per node setting that names a credential the workspace cannot provide."""
    resolve, problems = resolver(workspace_id), []
    for node, field, name in _credential_settings(document):
        try:
            found = resolve(name)
        except ValueError as exc:  # stored, but not decryptable with the current key
            reason = str(exc)
        else:
            if found is not None:
                continue
            reason = (f"The credential '{name}' does not exist in this workspace; create it under Credentials "
                      "or pick another one.")
        problems.append({"code": "credential_missing", "severity": "error", "node_id": node.get("id"),
                         "path": f"config.{field}", "message": f"Node '{node.get('name') or node.get('id')}': "
                                                                f"{reason}"})
    return problems


def _credential_settings(document: dict):
    """Yield (node, setting, credential name) for every credential a node's config names."""
    for node in document.get("nodes", []):
        node_type = flows.registry.get(node.get("type"))
        if node_type is None:
            continue
        config = node.get("config") or {}
        for field, schema in node_type.config_schema.get("properties", {}).items():
            name = config.get(field)
            if schema.get("x-widget") == "credential" and isinstance(name, str) and name:
                yield node, field, name
