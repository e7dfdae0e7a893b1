"""Find every problem in a flow document before it is published.

Saving a flow publishes it (DESIGN.md, decision 5), so this is the gate between the canvas and
production. It reports all problems at once, each tied to the node or edge to fix, in a stable
order. It accepts any value whatsoever: the document comes straight from an HTTP body, and a
crash here would turn a user's mistake into a server error.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator

from flows.available import quoted_name as _named
from flows.document import document_schema, document_validator
from flows.graph import Graph
from flows.nodes import NodeRegistry
from flows.problems import ERROR, Problem, errors
from flows.reference_checks import reference_problems
from flows.reply_paths import reply_warnings
from flows.runnable_checks import settings_problems
from flows.schema_errors import describe_errors, format_path
from flows.structure import structure_problems

# Every code validate() can return, in the order docs/flow-format.md explains them.
PROBLEM_CODES = (
    "invalid_document", "duplicate_node_id", "duplicate_edge_id", "unknown_node_type",
    "unsupported_type_version", "invalid_config", "duplicate_input", "invalid_default",
    "invalid_message_input", "duplicate_port", "missing_compare_to", "duplicate_variable", "dangling_edge", "unknown_port",
    "edge_into_trigger", "no_start_node", "multiple_start_nodes", "trigger_not_connected",
    "trigger_edge_not_to_start", "unreachable_node", "cycle", "duplicate_trigger_key",
    "invalid_schedule", "empty_field", "invalid_url", "unknown_credential", "invalid_schedule_inputs",
    "template_syntax_error", "unknown_input", "unknown_node", "node_not_upstream", "unknown_output",
    "node_maybe_not_run", "branch_without_reply",
)
# The codes above that are only suspicious: reported with severity "warning", never blocking.
WARNING_CODES = ("node_maybe_not_run", "branch_without_reply")

MAX_DEPTH = 64


def validate(document: object, registry: NodeRegistry | None = None, *,
             credentials: Collection[str] | None = None) -> list[Problem]:
    """Return the problems of `document`: it can be published when none has severity "error".

    `registry` defaults to the engine's node types. `credentials` are the names of the
    workspace's credentials (the engine cannot know them); None skips that check. Warnings
    (severity "warning", e.g. a branch without a Reply) come last and never block.
    """
    problems = _json_problems(document)
    if problems:
        return problems  # not JSON data at all: the remaining checks would be meaningless
    if not isinstance(document, dict):
        return [Problem("invalid_document", "The flow document must be a JSON object with "
                                            "schema_version, name, nodes and edges.")]
    problems = _size_problems(document)
    if problems:
        return problems  # checking every item of an oversized flow would only waste the server's time
    problems += _schema_problems(document)
    problems += _duplicate_id_problems(document, "nodes", "duplicate_node_id", "node")
    problems += _duplicate_id_problems(document, "edges", "duplicate_edge_id", "edge")
    graph = Graph(document, registry)
    node_problems, configs = _node_problems(graph)
    problems += node_problems
    problems += _edge_problems(graph, configs)
    problems += structure_problems(graph, configs)
    problems += settings_problems(graph, configs, credentials)
    problems += reference_problems(graph, configs) + reply_warnings(graph, configs)
    return errors(problems) + [problem for problem in problems if problem.severity != ERROR]


def _json_problems(document: object) -> list[Problem]:
    """Report values JSON cannot carry (NaN, sets, non-string keys) and absurd nesting.

    Python's json module accepts NaN and Infinity, and Python callers can pass anything; such
    documents could neither be stored nor compared with canonical_json(), and very deep nesting
    would exhaust the recursion of the schema validator.
    """
    problems: list[Problem] = []
    stack: list[tuple[object, list]] = [(document, [])]
    while stack:
        value, parts = stack.pop()
        if len(parts) > MAX_DEPTH:
            return [Problem("invalid_document", f"The document is nested more than {MAX_DEPTH} levels "
                                                f"deep; flatten it.", path=format_path(parts[:MAX_DEPTH]))]
        reason = _non_json_reason(value)
        if reason:
            problems.append(_located(document, parts, f"'{format_path(parts) or 'document'}' {reason}."))
        elif isinstance(value, dict):
            stack.extend((child, parts + [key]) for key, child in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((child, parts + [index]) for index, child in reversed(list(enumerate(value))))
    return problems


def _non_json_reason(value: object) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, dict) and not all(isinstance(key, str) for key in value):
        return "must only have text keys"
    if value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return None
    return f"is not a JSON value ({type(value).__name__})"


def _size_problems(document: dict) -> list[Problem]:
    problems = []
    for field in ("nodes", "edges"):
        items, limit = document.get(field), document_schema()["properties"][field]["maxItems"]
        if isinstance(items, list) and len(items) > limit:
            problems.append(Problem("invalid_document", f"The flow has {len(items)} {field}; at most {limit} are "
                                                        f"allowed, so split it into smaller flows.", path=field))
    return problems


def _schema_problems(document: dict) -> list[Problem]:
    errors = document_validator().iter_errors(document)
    return [_located(document, parts, message) for parts, message in describe_errors(errors)]


def _located(document: object, parts: list, message: str) -> Problem:
    """Attach a document-level message to the node or edge its path points into, if any."""
    if len(parts) >= 2 and parts[0] in ("nodes", "edges") and isinstance(parts[1], int) \
            and isinstance(document, dict) and isinstance(document.get(parts[0]), list):
        item = document[parts[0]][parts[1]]
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str):
            relative = format_path(parts[2:]) or None
            if parts[0] == "nodes":
                return Problem("invalid_document", message, node_id=item_id, path=relative)
            return Problem("invalid_document", message, edge_id=item_id, path=relative)
    return Problem("invalid_document", message, path=format_path(parts) or None)


def _duplicate_id_problems(document: dict, field: str, code: str, noun: str) -> list[Problem]:
    items = document.get(field)
    seen: set[str] = set()
    problems: list[Problem] = []
    for item in items if isinstance(items, list) else []:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            continue
        if item_id in seen:
            located = {"node_id": item_id} if noun == "node" else {"edge_id": item_id}
            problems.append(Problem(code, f"More than one {noun} has the id '{item_id}'; ids must be "
                                          f"unique, so rename or delete the extra {noun}.", **located))
        seen.add(item_id)
    return problems


def _node_problems(graph: Graph) -> tuple[list[Problem], dict[str, dict]]:
    """Check each node's type and settings; return the problems and the configs that passed."""
    problems: list[Problem] = []
    configs: dict[str, dict] = {}
    known = ", ".join(node_type.type for node_type in graph.registry.types())
    for node_id, node in graph.nodes.items():
        type_name = node.get("type")
        node_type = graph.registry.get(type_name)
        if node_type is None:
            if isinstance(type_name, str):  # a non-string type is already an invalid_document
                problems.append(Problem("unknown_node_type", f"{_named(graph, node_id)} has the unknown type "
                                        f"'{type_name}'; use one of: {known}.", node_id=node_id, path="type"))
            continue
        version = node.get("type_version", node_type.version)
        if isinstance(version, int) and not isinstance(version, bool) and version > node_type.version:
            problems.append(Problem(
                "unsupported_type_version",
                f"{_named(graph, node_id)} needs version {version} of '{type_name}', but this server has "
                f"version {node_type.version}; upgrade the server or recreate the node.",
                node_id=node_id, path="type_version"))
        config = node.get("config", {})
        if not isinstance(config, dict):
            continue  # reported by the document schema
        config_problems = [
            Problem("invalid_config", message, node_id=node_id, path=format_path(["config", *parts]))
            for parts, message in describe_errors(node_type.config_validator.iter_errors(config))
        ]
        if not config_problems:
            config_problems = node_type.check(node)
            configs[node_id] = config
        problems += config_problems
    return problems, configs


def _edge_problems(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    problems: list[Problem] = []
    for edge in graph.edges:
        problems += _edge_endpoint_problems(graph, configs, edge)
    return problems


def _edge_endpoint_problems(graph: Graph, configs: dict[str, dict], edge: dict) -> Iterator[Problem]:
    """Check that both ends exist and that the ports exist on them.

    Ports are only checked on nodes whose config passed its schema, because a node's ports can
    depend on its settings (a condition's branches).
    """
    edge_id, source, target = edge["id"], edge["source"], edge["target"]
    for end, node_id in (("source", source), ("target", target)):
        if node_id not in graph.nodes:
            yield Problem("dangling_edge", f"Edge '{edge_id}' {'starts at' if end == 'source' else 'leads to'} "
                                           f"node '{node_id}', which does not exist; reconnect or delete it.",
                          edge_id=edge_id, path=end)
    if source in configs:
        yield from _port_problem(graph, edge, source, edge["source_port"],
                                 graph.node_type(source).all_output_ports(configs[source]), "output", "source_port")
    target_type = graph.node_type(target)
    if target_type is not None and target_type.is_trigger:
        yield Problem("edge_into_trigger", f"A connection leads into the trigger {_named(graph, target)}, but "
                                           f"triggers start runs and accept no incoming connections; delete it.",
                      node_id=target, edge_id=edge_id)
    elif target in configs:
        yield from _port_problem(graph, edge, target, edge["target_port"], target_type.input_ports(configs[target]),
                                 "input", "target_port")


def _port_problem(graph: Graph, edge: dict, node_id: str, port: str, ports: list[str], kind: str,
                  field: str) -> Iterator[Problem]:
    if port in ports:
        return
    if ports:
        fix = f"its {kind} ports are: {', '.join(ports)}; reconnect or delete the connection"
    else:
        fix = f"it has no {kind} ports, so delete the connection"
    yield Problem("unknown_port", f"{_named(graph, node_id)} has no {kind} port '{port}'; {fix}.",
                  node_id=node_id, edge_id=edge["id"], path=field)
