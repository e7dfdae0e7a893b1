"""Keep one live `Trigger` row per trigger node, stable across versions.

Why rows outlive versions: a trigger's URL and secret are pasted into other systems; editing
the flow must not break them. A node that disappears (or changes type) marks its row deleted and
frees its key. A deleted row is never revived: a node that comes back later, by rollback or by a
new node reusing the node id, gets a new row with a new id (and a new secret), so an id stored for
the deleted trigger answers 404 forever instead of reaching a different trigger.
"""

from __future__ import annotations

import flows
from app.extensions import db
from app.models import Flow, Trigger, TriggerStatus
from app.models.types import utcnow
from app.services.scheduling import schedules
from app.services.workspaces.tokens import TRIGGER_SECRET_PREFIX, hash_token, new_token
from app.trigger_types import registry as trigger_types


def _config(node: dict) -> dict:
    node_type = flows.registry.get(node["type"])
    merged = dict(node_type.default_config()) if node_type else {}
    merged.update(node.get("config") or {})
    return merged


def sync(flow: Flow, document: dict) -> tuple[list[dict], dict[str, str]]:
    """Align the flow's trigger rows with `document`; return (problems, new secrets by node id)."""
    wanted = {node["id"]: node for node in flows.Graph(document).trigger_nodes()}
    existing = list(db.session.execute(
        db.select(Trigger).where(Trigger.flow_id == flow.id, Trigger.status != TriggerStatus.DELETED)).scalars())
    now = utcnow()
    live: dict[str, Trigger] = {}
    # Retire removed triggers and free re-keyed keys first, so a key can move between nodes.
    for trigger in existing:
        node = wanted.get(trigger.node_id)
        if node is None or node["type"] != trigger.type:
            trigger.status, trigger.key, trigger.key_lower, trigger.updated_at = TriggerStatus.DELETED, None, None, now
            continue
        live[trigger.node_id] = trigger
        if trigger.key_lower != _key_lower(node):
            trigger.key = trigger.key_lower = None
    db.session.flush()

    problems = _key_problems(flow, wanted)
    if problems:
        return problems, {}
    secrets: dict[str, str] = {}
    created: list[Trigger] = []
    for node_id, node in wanted.items():
        trigger = live.get(node_id)
        if trigger is None:
            trigger = Trigger(workspace_id=flow.workspace_id, flow_id=flow.id, node_id=node_id, type=node["type"])
            db.session.add(trigger)
            created.append(trigger)
        secret = _apply(trigger, node, now)
        if secret:
            secrets[node_id] = secret
    db.session.flush()  # new rows get their ids before their schedules are planned
    # (Re)arm schedules of this version; disarm removed or paused ones (timers check the state).
    schedules.sync_states(existing + created)
    return [], secrets


def _apply(trigger: Trigger, node: dict, now) -> str | None:
    """Copy the node's settings onto its row; return a new secret when the row needs its first one."""
    config = _config(node)
    adapter = trigger_types.of(trigger)
    trigger.config = config
    trigger.name = node.get("name") or None
    trigger.key = config.get("key") if adapter.keyed else None
    trigger.key_lower = trigger.key.lower() if trigger.key else None
    trigger.status = TriggerStatus.ACTIVE if config.get("enabled", True) else TriggerStatus.PAUSED
    trigger.updated_at = now
    if adapter.has_secret and trigger.secret_hash is None:
        return set_new_secret(trigger)
    return None


def set_new_secret(trigger: Trigger) -> str:
    """Give the trigger a fresh secret and return it; the old one stops working at commit."""
    secret = new_token(TRIGGER_SECRET_PREFIX)
    trigger.secret_hash = hash_token(secret)
    trigger.secret_hint = secret[-4:]
    trigger.updated_at = utcnow()
    return secret


def _key_lower(node: dict) -> str | None:
    adapter = trigger_types.get(node["type"])
    key = _config(node).get("key") if adapter is not None and adapter.keyed else None
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
