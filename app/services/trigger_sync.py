"""Keep one `Trigger` row per trigger node, stable across versions.

Why rows outlive versions: a trigger's URL and secret are pasted into other systems; editing
the flow must not break them. A node that disappears marks its row deleted and frees its key;
a node that comes back (rollback) gets its row, and its secret, back.
"""

from __future__ import annotations

import flows
from app.extensions import db
from app.models import Flow, Trigger, TriggerStatus
from app.models.types import utcnow
from app.services import schedules
from app.services.tokens import TRIGGER_SECRET_PREFIX, hash_token, new_token

KEYED_TYPES = {"api_trigger", "openai_trigger"}  # keys share one namespace per workspace
SECRET_TYPES = {"api_trigger"}  # OpenAI clients authenticate with workspace API keys instead


def _config(node: dict) -> dict:
    node_type = flows.registry.get(node["type"])
    merged = dict(node_type.default_config()) if node_type else {}
    merged.update(node.get("config") or {})
    return merged


def sync(flow: Flow, document: dict) -> tuple[list[dict], dict[str, str]]:
    """Align the flow's trigger rows with `document`; return (problems, new secrets by node id)."""
    graph = flows.Graph(document)
    wanted = {node["id"]: node for node in graph.trigger_nodes()}
    existing = {t.node_id: t for t in db.session.execute(
        db.select(Trigger).where(Trigger.flow_id == flow.id)).scalars()}
    now = utcnow()

    # Free the keys of removed or re-keyed triggers first, so a key can move between nodes.
    for node_id, trigger in existing.items():
        if node_id not in wanted:
            trigger.status, trigger.key, trigger.key_lower, trigger.updated_at = TriggerStatus.DELETED, None, None, now
        elif trigger.key_lower != _key_lower(wanted[node_id]):
            trigger.key = trigger.key_lower = None
    db.session.flush()

    problems = _key_problems(flow, wanted)
    if problems:
        return problems, {}

    secrets: dict[str, str] = {}
    created: list[tuple[str, Trigger]] = []
    for node_id, node in wanted.items():
        config = _config(node)
        trigger = existing.get(node_id)
        if trigger is None:
            trigger = Trigger(workspace_id=flow.workspace_id, flow_id=flow.id, node_id=node_id)
            db.session.add(trigger)
            created.append((node_id, trigger))
        trigger.type = node["type"]
        trigger.config = config
        trigger.key = config.get("key") if node["type"] in KEYED_TYPES else None
        trigger.key_lower = trigger.key.lower() if trigger.key else None
        trigger.status = TriggerStatus.ACTIVE if config.get("enabled", True) else TriggerStatus.PAUSED
        trigger.updated_at = now
        if node["type"] in SECRET_TYPES and trigger.secret_hash is None:
            secrets[node_id] = set_new_secret(trigger)
    db.session.flush()  # new rows get their ids before their schedules are planned
    # (Re)arm schedules of this version; disarm removed or paused ones (timers check the state).
    schedules.sync_states(list(existing.values()) + [t for nid, t in created])
    return [], secrets


def set_new_secret(trigger: Trigger) -> str:
    """Give the trigger a fresh secret and return it; the old one stops working at commit."""
    secret = new_token(TRIGGER_SECRET_PREFIX)
    trigger.secret_hash = hash_token(secret)
    trigger.secret_hint = secret[-4:]
    trigger.updated_at = utcnow()
    return secret


def _key_lower(node: dict) -> str | None:
    key = _config(node).get("key") if node["type"] in KEYED_TYPES else None
    return key.lower() if isinstance(key, str) else None


def _key_problems(flow: Flow, wanted: dict[str, dict]) -> list[dict]:
    keys = {nid: _key_lower(node) for nid, node in wanted.items() if _key_lower(node)}
    if not keys:
        return []
    taken = db.session.execute(
        db.select(Trigger, Flow.name).join(Flow, Flow.id == Trigger.flow_id).where(
            Trigger.workspace_id == flow.workspace_id,
            Trigger.key_lower.in_(set(keys.values())),
            Trigger.flow_id != flow.id,
        )
    ).all()
    owners = {t.key_lower: name for t, name in taken}
    return [
        {"code": "trigger_key_taken", "node_id": nid, "path": "config.key",
         "message": f"The trigger key '{_config(wanted[nid])['key']}' is already used by the flow "
                    f"'{owners[key]}' in this workspace; keys are unique (ignoring case). Choose another key."}
        for nid, key in keys.items() if key in owners
    ]
