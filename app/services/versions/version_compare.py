"""Compare two flow documents field by field, for the canvas's compare mode and the rollback dialog.

The version history only needs a one-line summary (`version_diff`); comparing two versions on
the canvas needs every difference: which nodes were added or removed, and for each changed node
each field with its value before and after, addressed by a path such as `config.text` or
`config.branches[0].port` and titled as the node's settings form titles it.

Why moving a node is not a change: every drag changes `position`, and flagging each dragged node
as "changed" would bury the real edits. Nodes whose only difference is their position are listed
under "moved" and never under "changed".
"""

from __future__ import annotations

from typing import Any

import flows
from flows.nodes.schema_parts import item_title
from app.services.versions.version_diff import display_name, edge_key, nodes_by_id

# Fields of a node outside its config, with the words the editor shows for them.
NODE_FIELD_TITLES = {"name": "Name", "type": "Type", "type_version": "Type version"}
IGNORED_NODE_FIELDS = {"id", "position"}


def _node_entry(node: dict) -> dict:
    node_type = flows.registry.get(node.get("type"))
    return {"node_id": node.get("id"), "name": display_name(node), "type": node.get("type"),
            "type_title": node_type.title if node_type else str(node.get("type"))}


def _item_schema(schema: Any) -> dict:
    items = schema.get("items") if isinstance(schema, dict) else None
    return items if isinstance(items, dict) else {}


def _property_schema(schema: Any, key: str) -> dict:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    found = properties.get(key) if isinstance(properties, dict) else None
    return found if isinstance(found, dict) else {}


def _walk(before: Any, after: Any, path: str, title: list[str], schema: dict, out: list[dict]) -> None:
    """Append one entry per leaf that differs; objects and lists are walked into, other values compared."""
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(before) + [k for k in after if k not in before]:
            sub = _property_schema(schema, key)
            _walk(before.get(key), after.get(key), f"{path}.{key}", title + [sub.get("title") or key], sub, out)
        return
    if isinstance(before, list) and isinstance(after, list):
        item, noun = _item_schema(schema), item_title(schema, title[-1] if title else "Item")  # "Branch 2", as the form says
        for index in range(max(len(before), len(after))):
            _walk(before[index] if index < len(before) else None, after[index] if index < len(after) else None,
                  f"{path}[{index}]", title[:-1] + [f"{noun} {index + 1}"], item, out)
        return
    out.append({"path": path, "title": " › ".join(title), "before": before, "after": after})


def node_changes(before: dict, after: dict) -> list[dict]:
    """Each field of a node that differs (position left out), with a path, a title and both values."""
    node_type = flows.registry.get(after.get("type")) or flows.registry.get(before.get("type"))
    schema = node_type.config_schema if node_type else {}
    fields: list[dict] = []
    keys = [k for k in list(before) + [k for k in after if k not in before] if k not in IGNORED_NODE_FIELDS]
    for key in keys:
        if key == "config":
            _walk(before.get(key), after.get(key), "config", ["Settings"] if node_type is None else [], schema, fields)
        else:
            _walk(before.get(key), after.get(key), key, [NODE_FIELD_TITLES.get(key, key)], {}, fields)
    for item in fields:
        item["title"] = item["title"] or "Settings"
    return fields


def _edge_entry(edge: tuple, names: dict[str, str]) -> dict:
    source, source_port, target, target_port = edge
    return {"source": source, "source_port": source_port, "target": target, "target_port": target_port,
            "source_name": names.get(source, source), "target_name": names.get(target, target)}


def details_changed(before: dict | None, after: dict | None) -> list[str]:
    """What differs outside the canvas's lists: "name", "description", "order", "edge_ids", "other".

    Two versions can differ where nothing on the canvas shows it: the document's name or
    description, the order of its nodes or edges, an edge's id (edges are matched by their ports),
    or another top-level field. Rolling back still publishes such a version, so the dialog must be
    able to say so rather than "the same" (which `same` alone cannot tell it why).
    """
    before, after = before or {}, after or {}
    found = [key for key in ("name", "description") if before.get(key) != after.get(key)]
    old_nodes, new_nodes = _listed(before, "nodes"), _listed(after, "nodes")
    old_edges, new_edges = _listed(before, "edges"), _listed(after, "edges")
    node_order = [n.get("id") for n in old_nodes], [n.get("id") for n in new_nodes]
    edge_order = [edge_key(e) for e in old_edges], [edge_key(e) for e in new_edges]
    if _order_differs(*node_order) or _order_differs(*edge_order):
        found.append("order")
    old_ids, new_ids = {edge_key(e): e.get("id") for e in old_edges}, {edge_key(e): e.get("id") for e in new_edges}
    if any(old_ids[key] != new_ids[key] for key in old_ids.keys() & new_ids.keys()):
        found.append("edge_ids")
    others = (before.keys() | after.keys()) - {"name", "description", "nodes", "edges"}
    if any(before.get(key) != after.get(key) for key in others):
        found.append("other")
    return found


def _listed(document: dict, field: str) -> list[dict]:
    items = document.get(field)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _order_differs(before: list, after: list) -> bool:
    """Whether the items both lists hold come in another order (additions and removals aside)."""
    common = set(before) & set(after)
    return [item for item in before if item in common] != [item for item in after if item in common]


def compare_documents(before: dict | None, after: dict | None) -> dict:
    """What changed from `before` to `after`: nodes added, removed, changed (field by field), moved; edges;
    and `details_changed`, what differs that no list shows."""
    old, new = nodes_by_id(before), nodes_by_id(after)
    changed, moved = [], []
    for node_id, node in new.items():
        if node_id not in old or node == old[node_id]:
            continue
        fields = node_changes(old[node_id], node)
        if fields:
            changed.append({**_node_entry(node), "fields": fields})
        else:
            moved.append(_node_entry(node))
    names = {nid: display_name(n) for nid, n in {**old, **new}.items()}
    old_edges = {edge_key(e): None for e in (before or {}).get("edges", []) if isinstance(e, dict)}
    new_edges = {edge_key(e): None for e in (after or {}).get("edges", []) if isinstance(e, dict)}
    return {
        "added": [_node_entry(n) for nid, n in new.items() if nid not in old],
        "removed": [_node_entry(n) for nid, n in old.items() if nid not in new],
        "changed": changed,
        "moved": moved,
        "edges_added": [_edge_entry(e, names) for e in new_edges if e not in old_edges],
        "edges_removed": [_edge_entry(e, names) for e in old_edges if e not in new_edges],
        "details_changed": details_changed(before, after),
    }
