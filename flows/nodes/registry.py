"""Keep the node types the engine knows, keyed by their `type` string.

A registry object (rather than a module-level dict) lets tests and future plugins build their
own set of types, while the app uses the shared default registry from `flows.registry`.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from flows.nodes.base import CATEGORIES, NodeType


class NodeRegistry:
    """Look up node types by name and describe them for the editor's palette."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}

    def register(self, node_type: NodeType) -> NodeType:
        """Add `node_type`; refuse duplicates and malformed definitions at import time.

        Failing here, when the process starts, is far better than a broken config form or a
        validation crash when a user saves a flow.
        """
        name = getattr(node_type, "type", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"{node_type!r} has no type name")
        if name in self._types:
            raise ValueError(f"node type {name!r} is already registered")
        if node_type.category not in CATEGORIES:
            raise ValueError(f"node type {name!r} has unknown category {node_type.category!r}")
        if node_type.is_trigger != (node_type.category == "trigger"):
            raise ValueError(f"node type {name!r}: is_trigger must match the 'trigger' category")
        Draft202012Validator.check_schema(node_type.config_schema)
        self._types[name] = node_type
        return node_type

    def get(self, type_name: object) -> NodeType | None:
        """Return the node type called `type_name`, or None (also for non-string names)."""
        return self._types.get(type_name) if isinstance(type_name, str) else None

    def types(self) -> list[NodeType]:
        """Return all node types in registration order (the palette's order)."""
        return list(self._types.values())

    def palette(self) -> list[dict]:
        """Return one JSON-ready description per node type for the canvas palette."""
        return [node_type.palette_entry() for node_type in self._types.values()]
