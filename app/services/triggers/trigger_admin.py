"""Manage triggers as objects (ChatBotKit's create / update / delete) on top of flows.

A trigger *is* a node of the flow's published graph (DESIGN.md decision 5), so every change
made here is a change to the graph: it is applied to the latest version's document and published
as the next version, exactly as if the user had made it on the canvas. The canvas, the version
history and the API therefore never disagree about what a trigger is.
"""

from __future__ import annotations

import copy
import re

import flows
from app.extensions import db
from app.models import Flow, Trigger, User
from app.services.versions import publishing
from app.services.versions.publishing import PublishResult, latest_version
from app.trigger_types import registry as trigger_types



class TriggerChangeError(ValueError):
    """The requested change cannot be made; the message says why."""


def _document(flow: Flow) -> dict:
    version = latest_version(flow)
    if version is None:
        raise TriggerChangeError("The flow has no published version yet; save it on the canvas first.")
    return copy.deepcopy(version.document)


def _new_node_id(flow: Flow, document: dict, node_type: str) -> str:
    """A node id no node of the document, and no trigger this flow ever had, uses.

    Skipping the node ids of deleted triggers keeps their runs apart from the new trigger's in
    run lists filtered by trigger node.
    """
    taken = {node.get("id") for node in document.get("nodes", [])}
    taken |= set(db.session.execute(db.select(Trigger.node_id).where(Trigger.flow_id == flow.id)).scalars())
    base = re.sub(r"_trigger$", "", node_type)
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _new_edge_id(document: dict) -> str:
    taken = {edge.get("id") for edge in document.get("edges", [])}
    number = len(taken) + 1
    while f"e{number}" in taken:
        number += 1
    return f"e{number}"


def create(flow: Flow, node_type: str, config: dict, name: str | None, user: User | None) -> tuple[PublishResult, str]:
    """Add a trigger node wired to the start node and publish; return the result and the node id."""
    if trigger_types.get(node_type) is None:
        raise TriggerChangeError(f"type must be one of {', '.join(trigger_types.types())}.")
    document = _document(flow)
    node_id = _new_node_id(flow, document, node_type)
    graph = flows.Graph(document)
    start = graph.start_node()
    if start is None:
        raise TriggerChangeError("The flow has no start node to connect the trigger to.")
    lowest = max((n.get("position", {}).get("y", 0) for n in graph.trigger_nodes()), default=-120)
    document["nodes"].append({
        "id": node_id, "type": node_type, "name": name or flows.registry.get(node_type).title,
        "config": config, "position": {"x": start.get("position", {}).get("x", 200) - 240, "y": lowest + 120},
    })
    document["edges"].append({"id": _new_edge_id(document), "source": node_id, "source_port": "out",
                              "target": start["id"], "target_port": "in"})
    result = publishing.save_flow(flow, document, user, note=f"trigger {node_id} added")
    return result, node_id


def update(trigger: Trigger, changes: dict, name: str | None, user: User | None) -> PublishResult:
    """Change settings of the trigger's node (a JSON merge: null removes a setting) and publish."""
    flow = db.session.get(Flow, trigger.flow_id)
    document = _document(flow)
    node = _node(document, trigger)
    config = dict(node.get("config") or {})
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    node["config"] = config
    if name is not None:
        node["name"] = name
    what = ", ".join(sorted(changes)) or "name"
    return publishing.save_flow(flow, document, user, note=f"trigger {trigger.node_id}: {what} changed")


def set_enabled(trigger: Trigger, enabled: bool, user: User | None) -> PublishResult:
    """Pause or resume: a paused trigger answers 404 on its URL and keeps its URL and secret."""
    adapter = trigger_types.of(trigger)
    if not adapter.pausable:
        raise TriggerChangeError(f"{adapter.label} triggers cannot be paused; they only run when someone starts them.")
    return update(trigger, {"enabled": enabled}, None, user)


def delete(trigger: Trigger, user: User | None) -> PublishResult:
    """Remove the trigger's node and its edges and publish; its URL and secret stop working."""
    flow = db.session.get(Flow, trigger.flow_id)
    document = _document(flow)
    _node(document, trigger)
    document["nodes"] = [n for n in document["nodes"] if n.get("id") != trigger.node_id]
    document["edges"] = [e for e in document["edges"] if trigger.node_id not in (e.get("source"), e.get("target"))]
    return publishing.save_flow(flow, document, user, note=f"trigger {trigger.node_id} deleted")


def _node(document: dict, trigger: Trigger) -> dict:
    for node in document.get("nodes", []):
        if node.get("id") == trigger.node_id:
            return node
    raise TriggerChangeError("The flow's latest version no longer has this trigger's node.")

