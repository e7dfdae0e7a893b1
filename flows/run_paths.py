"""Answer "can node X have run before node N?" for a template at N that reads `nodes.X`.

An ancestor of N (an edge path leads from X to N) has always run. Anything else is decided from
how runs move: the runner goes breadth first and takes exactly one port of each node it runs.
X can never have run before N when every path from the start to X passes N, or when X and N lie
behind different ports of one node (a condition's yes and else branches), since that node takes
only one of them. Otherwise X is on a parallel branch (two edges from one port) and may or may
not have run first: that is only a warning, as such flows do work in document order.
"""

from __future__ import annotations

from collections import defaultdict

from flows.available import ancestors
from flows.graph import Graph


class RunPaths:
    """Reachability questions about one flow, with the sets computed once and reused."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for edge in graph.edges:
            self._edges[edge["source"]].append((edge["source_port"], edge["target"]))
        self._branching = [node for node, edges in self._edges.items() if len({port for port, _ in edges}) > 1]
        self._cache: dict[tuple, set[str]] = {}
        self._sources: dict[str, set[str]] = defaultdict(set)
        for edge in graph.edges:
            self._sources[edge["target"]].add(edge["source"])
        self._upstream: dict[str, frozenset[str]] = {}

    def upstream(self, node_id: str) -> frozenset[str]:
        """The node's graph ancestors, each set built once from its sources' (a 500-node chain stays fast)."""
        stack, on_path = [node_id], set()
        while stack:
            node = stack[-1]
            if node in self._upstream:
                stack.pop()
                continue
            waiting = [source for source in self._sources.get(node, ()) if source not in self._upstream]
            if not waiting:
                found: set[str] = set()
                for source in self._sources.get(node, ()):
                    found |= self._upstream[source] | {source}
                self._upstream[node] = frozenset(found - {node})
                on_path.discard(node)
                stack.pop()
            elif node in on_path:  # a loop (reported as a cycle elsewhere): walk it plainly
                self._upstream[node] = frozenset(ancestors(self.graph, node))
                on_path.discard(node)
                stack.pop()
            else:
                on_path.add(node)
                stack.extend(waiting)
        return self._upstream[node_id]

    def reachable(self, exclude: str | None = None, branch: str | None = None, port: str | None = None) -> set[str]:
        """Nodes reached from the start, never passing `exclude`, leaving `branch` only by `port`."""
        key = (exclude, branch, port)
        if key not in self._cache:
            self._cache[key] = self._walk(exclude, branch, port)
        return self._cache[key]

    def _walk(self, exclude: str | None, branch: str | None, port: str | None) -> set[str]:
        start = self.graph.start_node()
        if start is None or start["id"] == exclude:
            return set()
        seen, stack = {start["id"]}, [start["id"]]
        while stack:
            node = stack.pop()
            for edge_port, target in self._edges.get(node, ()):
                if node == branch and edge_port != port:
                    continue
                if target not in seen and target != exclude:
                    seen.add(target)
                    stack.append(target)
        return seen

    def never_before(self, target: str, node_id: str) -> bool:
        """Whether `target` cannot have run when `node_id` runs (it runs after it, never, or on another branch)."""
        if target == node_id or target not in self.reachable(exclude=node_id):
            return True
        for branch in self._branching:
            target_port, node_port = self._only_port(branch, target), self._only_port(branch, node_id)
            if target_port is not None and node_port is not None and target_port != node_port:
                return True  # the branch node takes one port per run: never both
        return False

    def _only_port(self, branch: str, node_id: str) -> str | None:
        """The one port of `branch` behind which `node_id` lies (None: several or none)."""
        ports = {port for port, _ in self._edges[branch]}
        behind = [port for port in sorted(ports) if node_id in self.reachable(branch=branch, port=port)]
        return behind[0] if len(behind) == 1 else None
