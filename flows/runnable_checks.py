"""Refuse settings that pass the schema but cannot work: blanks, placeholder URLs, unknown credentials, bad schedule inputs.

Saving publishes (DESIGN.md, decision 5), and a flow with an empty Reply or an HTTP URL left at
``https://`` only failed when a caller hit it. These checks run on nodes whose settings passed
their schema; every problem names the node and the setting as the canvas shows them, so a
person who never saw a node id or a config path knows what to fix.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from urllib.parse import urlsplit

from flows.available import display_name
from flows.graph import Graph
from flows.inputs import MessageAliasError, apply_message_alias, validate_inputs
from flows.nodes import NodeType
from flows.nodes.schema_parts import item_title
from flows.problems import Problem

_SCHEMES = ("http://", "https://")
_TEMPLATE_MARKS = ("{{", "{%")


def field_title(node_type: NodeType, name: str) -> str:
    """The setting's title as the config form shows it, else its name."""
    prop = node_type.config_schema.get("properties", {}).get(name)
    title = prop.get("title") if isinstance(prop, dict) else None
    return title if isinstance(title, str) else name


def settings_problems(graph: Graph, configs: dict[str, dict], credentials: Collection[str] | None) -> list[Problem]:
    """Blank required settings, URLs that are not absolute http(s) URLs, and (when known) missing credentials."""
    problems: list[Problem] = []
    for node_id, config in configs.items():
        node_type = graph.node_type(node_id)
        problems += _blank_problems(graph, node_id, node_type, config)
        problems += _url_problems(graph, node_id, node_type, config)
        if credentials is not None:
            problems += _credential_problems(graph, node_id, node_type, config, credentials)
    problems += _fixed_input_problems(graph, configs)
    return problems


def _blank_problems(graph: Graph, node_id: str, node_type: NodeType, config: dict) -> Iterator[Problem]:
    effective = node_type.effective_config(config)
    for spec in node_type.required_text:
        head, *rest = spec.split(".")
        for path, where in _blanks(effective, [head, *rest], "config", node_type.config_schema, ""):
            yield Problem("empty_field", f'{display_name(graph, node_id)}: "{where}" is empty; fill it in, or '
                                         f'pick a value with Insert value.', node_id=node_id, path=path)


def _blanks(value: object, parts: list[str], path: str, schema: dict, where: str) -> Iterator[tuple[str, str]]:
    """Yield (path, label) of each blank text at `parts` ("branches[]", "conditions[]", "value").

    A list part visits every item and names it as the form does ("Branch 1 › Condition 2 › Value"),
    by the list's item title (`item_title`), which the form reads too.
    """
    name, rest = parts[0], parts[1:]
    listed = name.endswith("[]")
    name = name.removesuffix("[]")
    prop = (schema.get("properties") or {}).get(name) if isinstance(schema, dict) else None
    prop = prop if isinstance(prop, dict) else {}
    title = prop.get("title") if isinstance(prop.get("title"), str) else name
    item = value.get(name) if isinstance(value, dict) else None
    if not listed:
        label = f"{where} › {title}" if where else title
        if not rest:
            if isinstance(item, str) and not item.strip():
                yield f"{path}.{name}", label
            return
        yield from _blanks(item, rest, f"{path}.{name}", prop, label)
        return
    noun = item_title(prop, name)
    for index, element in enumerate(item if isinstance(item, list) else []):
        label = f"{where} › {noun} {index + 1}" if where else f"{noun} {index + 1}"
        yield from _blanks(element, rest, f"{path}.{name}[{index}]", prop.get("items") or {}, label)


def _url_problems(graph: Graph, node_id: str, node_type: NodeType, config: dict) -> Iterator[Problem]:
    effective = node_type.effective_config(config)
    for name in node_type.url_fields:
        value = effective.get(name)
        if not isinstance(value, str) or not value.strip():
            continue  # blank: reported as empty_field
        reason = url_problem(value.strip())
        if reason:
            yield Problem("invalid_url", f'{display_name(graph, node_id)}: "{field_title(node_type, name)}" '
                                         f'{reason}', node_id=node_id, path=f"config.{name}")


def url_problem(url: str) -> str | None:
    """Say why `url` cannot be requested, or None. A template may build the URL, but not turn it into a non-web one.

    ``{{ inputs.url }}`` and ``https://x/{{ ... }}`` stay allowed: only the fixed text before the
    first template mark is checked, and it must be (the start of) an http or https address.
    """
    marks = [url.find(mark) for mark in _TEMPLATE_MARKS if mark in url]
    if marks:
        prefix = url[:min(marks)].lower()
        if any(scheme.startswith(prefix) or prefix.startswith(scheme) for scheme in _SCHEMES):
            return None
        return (f"must start with http:// or https:// (it starts with '{prefix[:40]}'); write the full address, "
                f"e.g. https://example.com/{{{{ inputs.id }}}}.")
    if url.lower() in _SCHEMES:
        return f"is still the placeholder '{url}'; write the full address, e.g. https://example.com/api."
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https"):
        return f"'{url[:80]}' is not a web address; write a full http:// or https:// address."
    if not host:
        return f"'{url[:80]}' has no host name; write a full address, e.g. https://example.com/api."
    return None


def credential_settings(node_type: NodeType, config: dict) -> Iterator[tuple[str, str]]:
    """Yield (setting, credential name) for each credential setting ("x-widget": "credential") that names one."""
    for name, prop in node_type.config_schema.get("properties", {}).items():
        value = config.get(name) if isinstance(config, dict) else None
        if isinstance(prop, dict) and prop.get("x-widget") == "credential" and isinstance(value, str) and value:
            yield name, value


def _credential_problems(graph: Graph, node_id: str, node_type: NodeType, config: dict,
                         credentials: Collection[str]) -> Iterator[Problem]:
    for name, value in credential_settings(node_type, config):
        if value not in credentials:
            yield Problem("unknown_credential",
                          f'{display_name(graph, node_id)}: "{field_title(node_type, name)}" names the credential '
                          f"'{value}', which does not exist in this workspace; create it under Credentials or "
                          f"pick another one.", node_id=node_id, path=f"config.{name}")


def _fixed_input_problems(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    """A schedule's inputs must satisfy the start node, exactly as a request's would (else every fire fails)."""
    start = graph.start_node()
    if start is None or start["id"] not in configs:
        return []
    start_config = configs[start["id"]]
    problems: list[Problem] = []
    for trigger in graph.trigger_nodes():
        node_id, node_type = trigger["id"], graph.node_type(trigger["id"])
        if node_id not in configs:
            continue
        inputs = node_type.fixed_inputs(node_type.effective_config(configs[node_id]))
        if inputs is None:
            continue
        for reason in fixed_input_errors(start_config, inputs):
            problems.append(Problem("invalid_schedule_inputs",
                                    f'{display_name(graph, node_id)}: "{field_title(node_type, "inputs")}" '
                                    f"{reason}; change them or the start node's inputs.",
                                    node_id=node_id, path="config.inputs"))
    return problems


def fixed_input_errors(start_config: dict, inputs: dict) -> list[str]:
    """Check inputs as a request's body is checked: a message alias fills the message input."""
    try:
        data = apply_message_alias(start_config, inputs)
    except MessageAliasError as exc:
        return [_ALIAS_REASONS[exc.reason].format(first=exc.fields[0], fields=", ".join(exc.fields),
                                                  message=exc.message_name)]
    _, errors = validate_inputs(start_config, data)
    return [_input_error(error) for error in errors]


_ALIAS_REASONS = {
    "twice": "set the message twice ({fields})",
    "no_message_input": "send '{first}', but the start node has no message input",
    "both": "set the message twice ('{first}' and '{message}')",
}


def _input_error(error: dict) -> str:
    if not error["field"]:
        return error["reason"]
    if error["reason"] == "is required":
        return f"leave out the required input '{error['field']}'"
    return f"set '{error['field']}', which {error['reason']}"
