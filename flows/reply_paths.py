"""Warn about branches that end without a Reply: the caller waits and gets no answer.

Only a warning: a flow may mean to answer nothing on some branch (a filter that drops an event),
so publishing is never blocked for it. It is not raised for flows only a schedule starts, since
nobody waits for their answer.
"""

from __future__ import annotations

from flows.available import display_name
from flows.graph import Graph
from flows.problems import WARNING, Problem


def reply_warnings(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    """One warning per place where a path from the start node stops before reaching a Reply."""
    start = graph.start_node()
    triggers = [graph.node_type(t["id"]) for t in graph.trigger_nodes()]
    if start is None or (triggers and not any(getattr(t, "delivers_reply", True) for t in triggers)):
        return []
    problems: list[Problem] = []
    seen, stack = {start["id"]}, [start["id"]]
    while stack:
        node_id = stack.pop()
        node_type = graph.node_type(node_id)
        if node_type is None or node_id not in configs or node_type.replies:
            continue  # a broken node is an error already; a Reply ends the search on this path
        ports = node_type.output_ports(configs[node_id])
        if not ports:
            problems.append(_warning(graph, node_id, None))
        for port in ports:
            targets = graph.successors(node_id, port)
            if not targets:
                problems.append(_warning(graph, node_id, port if len(ports) > 1 else None))
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    order = {node_id: index for index, node_id in enumerate(graph.nodes)}
    return sorted(problems, key=lambda p: order[p.node_id])


def _warning(graph: Graph, node_id: str, port: str | None) -> Problem:
    when = f" when it leaves by '{port}'" if port else ""
    return Problem("branch_without_reply", f'The flow ends at "{display_name(graph, node_id)}"{when} without a '
                   f"Reply, so a caller waiting for an answer gets none; connect a Reply after it.",
                   node_id=node_id, severity=WARNING)
