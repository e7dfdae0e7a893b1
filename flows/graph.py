"""Index a flow document's nodes and edges for traversal.

The runner, the validator and the web app all need the same questions answered ("which node
is the start?", "where does port X of node Y lead?"). Graph answers them from the document as
stored, and tolerates malformed entries by skipping them, so validation can use it even on a
document that failed the schema.
"""

from __future__ import annotations

from collections import defaultdict

from flows.schema_errors import describe_errors
from flows.nodes import NodeRegistry, NodeType, registry as default_registry

_EDGE_FIELDS = ("id", "source", "source_port", "target", "target_port")


class Graph:
    """Answer structural questions about a flow document.

    `nodes` keeps the first node for each id and `edges` the first well-formed edge (all five
    fields are strings) for each id, both in document order. Repeated ids are a validation
    problem; ignoring the repeats keeps every other answer well defined meanwhile.
    """

    def __init__(self, document: object, registry: NodeRegistry | None = None):
        self.registry = registry or default_registry
        doc = document if isinstance(document, dict) else {}
        self.nodes: dict[str, dict] = {}
        for node in _list(doc.get("nodes")):
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                self.nodes.setdefault(node["id"], node)
        edges: dict[str, dict] = {}
        for edge in _list(doc.get("edges")):
            if isinstance(edge, dict) and all(isinstance(edge.get(name), str) for name in _EDGE_FIELDS):
                edges.setdefault(edge["id"], edge)
        self.edges: list[dict] = list(edges.values())
        self._targets: dict[tuple[str, str], list[str]] = defaultdict(list)
        for edge in self.edges:
            self._targets[(edge["source"], edge["source_port"])].append(edge["target"])
        self._config_errors: dict[str, str | None] = {}

    def config_error(self, node_id: str) -> str | None:
        """Return the first problem with a node's config against its type's schema, or None.

        Memoised per Graph: a worker that keeps one Graph per published (immutable) version
        checks each node once, not at every step of every run.
        """
        if node_id not in self._config_errors:
            node, node_type = self.node(node_id), self.node_type(node_id)
            config = (node or {}).get("config", {})
            if node_type is None:
                error = None
            elif not isinstance(config, dict):
                error = "the settings must be an object"
            else:
                errors = describe_errors(node_type.config_validator.iter_errors(config))
                error = errors[0][1] if errors else None
            self._config_errors[node_id] = error
        return self._config_errors[node_id]

    def node(self, node_id: object) -> dict | None:
        """Return the node with id `node_id`, or None."""
        return self.nodes.get(node_id) if isinstance(node_id, str) else None

    def node_type(self, node_id: object) -> NodeType | None:
        """Return the registered type of node `node_id`, or None if the node or type is unknown."""
        node = self.node(node_id)
        return self.registry.get(node.get("type")) if node is not None else None

    def start_node(self) -> dict | None:
        """Return the (first) start node, or None when the flow has none."""
        return next(iter(self._nodes_in_category("start")), None)

    def trigger_nodes(self) -> list[dict]:
        """Return the trigger nodes in document order."""
        return self._nodes_in_category("trigger")

    def successors(self, node_id: str, port: str) -> list[str]:
        """Return the targets of the edges leaving `port` of `node_id`, in document order."""
        return list(self._targets.get((node_id, port), []))

    def _nodes_in_category(self, category: str) -> list[dict]:
        result = []
        for node in self.nodes.values():
            node_type = self.registry.get(node.get("type"))
            if node_type is not None and node_type.category == category:
                result.append(node)
        return result


def _list(value: object) -> list:
    return value if isinstance(value, list) else []
