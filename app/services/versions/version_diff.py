"""Summarise what changed between two versions of a flow, for the version history.

Nodes are compared by id (ids are stable; names are labels), so renaming a node shows as
"changed", moving one only as "moved", and replacing one as "removed" plus "added". The summary
names nodes as the canvas does (their name, else their type's title), not by their ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flows


@dataclass
class VersionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    edges_added: int = 0
    edges_removed: int = 0
    names: dict[str, str] = field(default_factory=dict)  # node id -> display name, for describe()

    def describe(self) -> str:
        parts = []
        for label, ids in (("added", self.added), ("removed", self.removed), ("changed", self.changed)):
            if ids:
                named = ", ".join(self.names.get(nid, str(nid)) for nid in ids)
                parts.append(f"{len(ids)} node{'s' if len(ids) > 1 else ''} {label} ({named})")
        if self.edges_added or self.edges_removed:
            parts.append(f"connections +{self.edges_added} −{self.edges_removed}")
        if self.moved and not parts:
            parts.append(f"{len(self.moved)} node{'s' if len(self.moved) > 1 else ''} moved")
        return "; ".join(parts) or "no change to the graph"


def display_name(node: dict) -> str:
    """What the canvas calls a node (the engine's one rule: name, else type title)."""
    return flows.node_display_name(node)


def nodes_by_id(document: dict | None) -> dict[str, dict]:
    return {n.get("id"): n for n in (document or {}).get("nodes", []) if isinstance(n, dict)}


def edge_key(edge: dict) -> tuple:
    """An edge is the ports it joins; its id is a label the canvas may renumber."""
    return (edge.get("source"), edge.get("source_port"), edge.get("target"), edge.get("target_port"))


def _edges(document: dict | None) -> set[tuple]:
    return {edge_key(e) for e in (document or {}).get("edges", []) if isinstance(e, dict)}


def _without_position(node: dict) -> dict:
    return {key: value for key, value in node.items() if key != "position"}


def diff_versions(old: dict | None, new: dict) -> VersionDiff:
    """Compare `old` (None for the first version) with `new`."""
    before, after = nodes_by_id(old), nodes_by_id(new)
    diff = VersionDiff(
        added=[nid for nid in after if nid not in before],
        removed=[nid for nid in before if nid not in after],
        names={nid: display_name(node) for nid, node in {**before, **after}.items()},
    )
    for nid in after:
        if nid in before and after[nid] != before[nid]:
            if _without_position(after[nid]) != _without_position(before[nid]):
                diff.changed.append(nid)
            else:
                diff.moved.append(nid)
    old_edges, new_edges = _edges(old), _edges(new)
    diff.edges_added, diff.edges_removed = len(new_edges - old_edges), len(old_edges - new_edges)
    return diff
