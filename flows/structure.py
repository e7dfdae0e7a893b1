"""Check the shape of a flow as a whole: one start, wired triggers, no orphans, no loops.

These rules make a published flow predictable to run: every trigger leads into the single
start node (so every run gets validated inputs), every other node can actually be reached, and
the graph is acyclic, because the runner executes each node at most once per run and a loop
would otherwise be silently cut short. Messages name nodes as the canvas shows them
(`display_name`), never by their internal ids, which the people drawing flows never see.
"""

from __future__ import annotations

from collections import deque

from flows.available import quoted_name as _named
from flows.graph import Graph
from flows.problems import Problem


def structure_problems(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    """Return the whole-graph problems of `graph`.

    `configs` maps node ids to their configs for the nodes whose config passed their schema;
    only those take part in checks that read settings (trigger keys).
    """
    starts = [node["id"] for node in graph.nodes.values() if _category(graph, node["id"]) == "start"]
    problems = _start_problems(graph, starts)
    if starts:
        problems += _trigger_problems(graph, set(starts))
        problems += _unreachable_problems(graph, starts)
    problems += _cycle_problems(graph)
    problems += _duplicate_key_problems(graph, configs)
    return problems


def _category(graph: Graph, node_id: str) -> str | None:
    node_type = graph.node_type(node_id)
    return node_type.category if node_type is not None else None


def _start_problems(graph: Graph, starts: list[str]) -> list[Problem]:
    if not starts:
        return [Problem("no_start_node", "The flow has no start node; add one and connect your "
                                         "triggers to it.")]
    if len(starts) == 1:
        return []
    listed = ", ".join(_named(graph, node_id) for node_id in starts)
    return [
        Problem("multiple_start_nodes", f"The flow has {len(starts)} start nodes ({listed}); keep "
                                        f"exactly one and delete the others.", node_id=node_id)
        for node_id in starts
    ]


def _trigger_problems(graph: Graph, starts: set[str]) -> list[Problem]:
    outgoing_by_node: dict[str, list[dict]] = {}
    for edge in graph.edges:
        if edge["target"] in graph.nodes:  # dangling edges are reported on their own
            outgoing_by_node.setdefault(edge["source"], []).append(edge)
    problems: list[Problem] = []
    start = _named(graph, next(iter(starts)))
    for trigger in graph.trigger_nodes():
        trigger_id = trigger["id"]
        outgoing = outgoing_by_node.get(trigger_id, [])
        if not any(edge["target"] in starts for edge in outgoing):
            problems.append(Problem(
                "trigger_not_connected",
                f"The trigger {_named(graph, trigger_id)} is not connected to {start}; draw a connection "
                f"from it to {start}.", node_id=trigger_id))
        for edge in outgoing:
            if edge["target"] not in starts:
                problems.append(Problem(
                    "trigger_edge_not_to_start",
                    f"The trigger {_named(graph, trigger_id)} is connected to {_named(graph, edge['target'])}, "
                    f"but a trigger may only lead to {start} (which checks the inputs); connect it to "
                    f"{start} instead.", node_id=trigger_id, edge_id=edge["id"]))
    return problems


def _adjacency(graph: Graph) -> dict[str, list[str]]:
    """Map each node to the nodes it has edges to, ignoring dangling edges and edges into
    triggers (both are reported on their own)."""
    adjacency: dict[str, list[str]] = {node_id: [] for node_id in graph.nodes}
    for edge in graph.edges:
        source, target = edge["source"], edge["target"]
        if source in adjacency and target in adjacency and _category(graph, target) != "trigger":
            adjacency[source].append(target)
    return adjacency


def _unreachable_problems(graph: Graph, starts: list[str]) -> list[Problem]:
    adjacency = _adjacency(graph)
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for target in adjacency[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [
        Problem("unreachable_node", f"{_named(graph, node_id)} can never run because nothing leads to it "
                                    f"from the start node; connect it or delete it.", node_id=node_id)
        for node_id in graph.nodes
        if node_id not in seen and _category(graph, node_id) != "trigger"
    ]


def _cycle_problems(graph: Graph) -> list[Problem]:
    on_cycles = nodes_on_cycles(_adjacency(graph))
    return [
        Problem("cycle", f"{_named(graph, node_id)} is part of a loop; each step runs at most once per run, "
                         f"so remove a connection to break the loop.", node_id=node_id)
        for node_id in graph.nodes if node_id in on_cycles
    ]


def nodes_on_cycles(adjacency: dict[str, list[str]]) -> set[str]:
    """Return the nodes that lie on a cycle (Tarjan's strongly connected components).

    Iterative rather than recursive so that a long chain of nodes cannot hit Python's recursion
    limit, and linear in the size of the graph so an oversized document cannot stall a save.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: set[str] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in adjacency:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(adjacency[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    visit(child)
                    work.append((child, iter(adjacency[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in adjacency[node]:
                        result.update(component)
    return result


def _duplicate_key_problems(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for trigger in graph.trigger_nodes():
        key = configs.get(trigger["id"], {}).get("key")
        if not isinstance(key, str):
            continue
        owner = owners.setdefault(key.lower(), trigger["id"])
        if owner != trigger["id"]:
            problems.append(Problem(
                "duplicate_trigger_key",
                f"The key '{key}' is already used by another trigger, {_named(graph, owner)} (keys ignore "
                f"case); choose another key.",
                node_id=trigger["id"], path="config.key"))
    return problems
