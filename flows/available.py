"""List the values a node's templates can use: the flow's inputs, the trigger, the session and upstream outputs.

The editor's value picker shows this list, and validation uses the same answer to refuse a
template naming a node that cannot have run before it. A node can use the output of a node only
if an edge path leads from that node to it (its graph ancestors); anything else is either not run
yet or on another branch. Works on any document, however broken, because the editor asks while
the flow is being drawn.

Each value's `label` is how people see it ("Start › message", "REST › Caller's reference"): the
trigger's and the conversation's fields by their titles, never their API names; `hint` then says
in one line what the value is. The expression inserted in templates keeps the name.
"""

from __future__ import annotations

from collections import defaultdict

from flows.document import document_schema
from flows.graph import Graph
from flows.inputs import declared_inputs
from flows.nodes import NodeRegistry, NodeType, registry as default_registry
from flows.nodes.outputs import (BASE_TRIGGER_FIELDS, ERROR_FIELD, INPUT_TYPE_WORDS, SESSION_FIELDS,
                                 SESSION_RECORD_FIELDS)
from flows.references import expression

INPUTS, TRIGGER, SESSION = "Inputs", "Trigger", "Conversation"


def display_name(graph: Graph, node_id: str) -> str:
    """The node's name as people see it on the canvas (see `node_display_name`)."""
    return node_display_name(graph.node(node_id) or {"id": node_id}, graph.registry)


def quoted_name(graph: Graph, node_id: str) -> str:
    """The node's display name in quotes, as problem messages name nodes ("Compose" can never run…)."""
    return f'"{display_name(graph, node_id)}"'


def node_display_name(node: dict, registry: NodeRegistry | None = None) -> str:
    """A node's name as people see it on the canvas: its name, else its type's title, else its type or id.

    Problems, the value picker and the version history all name nodes with this one rule.
    """
    name = node.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    node_type = (registry or default_registry).get(node.get("type"))
    return node_type.title if node_type is not None else str(node.get("type") or node.get("id"))


def ancestors(graph: Graph, node_id: str) -> list[str]:
    """Return the nodes from which an edge path leads to `node_id` (never itself), in document order."""
    sources: dict[str, set[str]] = defaultdict(set)
    for edge in graph.edges:
        sources[edge["target"]].add(edge["source"])
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        for source in sources.get(stack.pop(), ()):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    seen.discard(node_id)
    return [other for other in graph.nodes if other in seen]


def node_output_fields(graph: Graph, node_id: str) -> list[dict] | None:
    """Return what a node outputs, or None when its type is unknown or its settings too broken to tell."""
    node_type, node = graph.node_type(node_id), graph.node(node_id) or {}
    config = node.get("config", {})
    if node_type is None or not isinstance(config, dict):
        return None
    try:
        fields = node_type.output_fields(node_type.effective_config(config))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # settings that fail their schema: the schema problem is reported elsewhere
    if node_type.handles_errors and config.get("on_error") == "port":
        fields = fields + [ERROR_FIELD]
    return fields


def too_large(document: dict, registry: NodeRegistry | None = None) -> str | None:
    """Why the picker will not list values for `document`, in words, or None when it will.

    The picker answers for broken documents, but not for ones saving would refuse for their size:
    more nodes or edges than a flow may have, or more start inputs than a start node may declare.
    Listing values for those only made answers of megabytes (20,000 inputs gave 3.2 MB), for a
    flow that can never be saved anyway.
    """
    for field in ("nodes", "edges"):
        items, limit = document.get(field), document_schema()["properties"][field]["maxItems"]
        if isinstance(items, list) and len(items) > limit:
            return f"The flow has {len(items):,} {field}; at most {limit} are allowed, so split it into smaller flows."
    start = Graph(document, registry).start_node()
    inputs = start.get("config", {}).get("inputs") if start and isinstance(start.get("config"), dict) else None
    start_type = (registry or default_registry).get("start")
    limit = start_type.config_schema["properties"]["inputs"]["maxItems"] if start_type else None
    if isinstance(inputs, list) and limit is not None and len(inputs) > limit:
        return f"The start node declares {len(inputs):,} inputs; at most {limit} are allowed."
    return None


def has_node(document: object, node_id: str, registry: NodeRegistry | None = None) -> bool:
    """Whether `document` has a node with this id (as the picker and validation read nodes)."""
    return node_id in Graph(document, registry).nodes


def result_schema(graph: Graph, node_id: str) -> dict | None:
    """A step's recorded result named as the picker names the node's values: a schema of its top-level
    names ({"request_id": {"title": "Request id"}}), a time marked as one ("format": "date-time"), and
    for a trigger its `session` named as the picker's Conversation values. None when the node's type or
    settings say nothing (its result is then shown as stored)."""
    fields = node_output_fields(graph, node_id)
    if fields is None:
        return None
    properties = {field["name"]: _field_schema(field) for field in fields}
    node_type = graph.node_type(node_id)
    if node_type is not None and node_type.is_trigger:
        properties["session"] = {"title": SESSION, "properties": {
            field["name"]: _field_schema(field) for field in SESSION_FIELDS + SESSION_RECORD_FIELDS}}
    return {"properties": properties}


def _field_schema(field: dict) -> dict:
    schema = {"title": field["title"]} if field.get("title") else {}
    if field.get("moment"):
        schema["format"] = "date-time"
    return schema


def available_values(document: object, node_id: object, registry: NodeRegistry | None = None) -> list[dict]:
    """Return the picker's list for `node_id` (contract 1 in the editor round); [] for an unknown node."""
    graph = Graph(document, registry)
    if not isinstance(node_id, str) or node_id not in graph.nodes:
        return []
    node_type = graph.node_type(node_id)
    if node_type is not None and node_type.is_trigger:
        return []  # nothing exists before a run starts; its text settings are sent as they are
    values = _input_values(graph) + _trigger_values(graph)
    if _has_conversations(graph):
        values += [_value(SESSION, expression("session", (f["name"],)), SESSION, None, f) for f in SESSION_FIELDS]
    for upstream in ancestors(graph, node_id):
        if is_start_or_trigger(graph.node_type(upstream)):
            continue  # their values are listed as Inputs and Trigger
        name = display_name(graph, upstream)
        for field in node_output_fields(graph, upstream) or []:
            values.append(_value(name, expression("nodes", (upstream, field["name"])), name, upstream, field))
    return values


def _value(label_name: str, expr: str, group: str, node_id: str | None, field: dict) -> dict:
    value = {"expression": expr, "label": f"{label_name} › {field.get('title') or field['name']}", "group": group,
             "type": field["type"], "node_id": node_id, "description": field["description"]}
    if field.get("title"):
        value["hint"] = field["description"]  # a title hides the name: say what the value is
    return value


def value_label(graph: Graph, root: str, name: str) -> str | None:
    """The picker's label of ``trigger.<name>`` or ``session.<name>`` in this flow ("REST › Caller's
    reference"), so problems name these values as the chips do; None for other roots."""
    if root == "trigger":
        for field_name, field, owner in _trigger_fields(graph):
            if field_name == name:
                return _value(display_name(graph, owner) if owner else TRIGGER, "", TRIGGER, owner, field)["label"]
        return f"{TRIGGER} › {name}"
    if root == "session":
        field = next((f for f in SESSION_FIELDS if f["name"] == name), {"name": name, "type": "", "description": ""})
        return _value(SESSION, "", SESSION, None, field)["label"]
    return None


def _input_values(graph: Graph) -> list[dict]:
    start = graph.start_node()
    if start is None:
        return []
    name = display_name(graph, start["id"])
    values = []
    for item in declared_inputs(start.get("config")):
        field = {"name": item["name"], "type": INPUT_TYPE_WORDS[item["type"]],
                 "description": item["description"] if isinstance(item.get("description"), str) else
                 f"The input '{item['name']}' the caller sends."}
        values.append(_value(name, expression("inputs", (item["name"],)), INPUTS, start["id"], field))
    return values


def _trigger_values(graph: Graph) -> list[dict]:
    """Every field any of the flow's triggers may put in `trigger.*`, labelled by the trigger that does."""
    return [_value(display_name(graph, owner) if owner else TRIGGER, expression("trigger", (name,)), TRIGGER, owner, field)
            for name, field, owner in _trigger_fields(graph)]


def _trigger_fields(graph: Graph) -> list[tuple[str, dict, str | None]]:
    """(name, field, the one trigger that provides it or None when several or all do), in listing order."""
    providers: dict[str, list[str]] = {}
    fields: dict[str, dict] = {field["name"]: field for field in BASE_TRIGGER_FIELDS}
    for trigger in graph.trigger_nodes():
        for field in node_output_fields(graph, trigger["id"]) or []:
            fields.setdefault(field["name"], field)
            providers.setdefault(field["name"], []).append(trigger["id"])
    listed = []
    for name, field in fields.items():
        owners = providers.get(name, [])
        listed.append((name, field, owners[0] if len(owners) == 1 else None))
    return listed


def _has_conversations(graph: Graph) -> bool:
    return any(getattr(graph.node_type(t["id"]), "holds_conversations", False) for t in graph.trigger_nodes())


def is_start_or_trigger(node_type: NodeType | None) -> bool:
    """Whether a node's outputs are the run's inputs or trigger data rather than a step's result."""
    return node_type is not None and (node_type.is_trigger or node_type.category == "start")

