"""Read which run values a node's templates use, and where its templates are.

Validation refuses a template that names a node or input the run will never have, and the
editor shows references as readable names; both must read templates exactly as the renderer
does, so references come from Jinja's own parse tree (`flows.templating.parse_template`), not a
regular expression: ``{{ nodes['fetch'].text | upper }}``, ``inputs.get('name')`` and a loop's
``{% for item in nodes.fetch.json %}{{ item.name }}`` are all read the way they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import nodes

from flows.nodes.schema_parts import item_title
from flows.templating import parse_template

ROOTS = ("inputs", "nodes", "trigger", "session", "run")
TEMPLATE_WIDGETS = ("template", "template-inline")
_GUARD_TESTS = ("defined", "undefined")


@dataclass(frozen=True)
class Reference:
    """One use of a run value: ``nodes.fetch.json.items`` is root "nodes", parts ("fetch", "json", "items").

    `parts` stop where the template computes a key (``nodes[name]``): nothing after it is known.
    """

    root: str
    parts: tuple
    lineno: int


def template_references(source: str) -> list[Reference]:
    """Return the references in `source`, in order; raise jinja2.TemplateSyntaxError when it does not parse."""
    tree = parse_template(source)
    shadowed = {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}
    found: list[Reference] = []
    _walk(tree, frozenset(ROOTS) - shadowed, found)
    return found


def _walk(node: nodes.Node, roots: frozenset, found: list[Reference]) -> None:
    """Record each outermost chain of lookups on a root, then look inside what the chain computes with."""
    if isinstance(node, nodes.Test) and node.name in _GUARD_TESTS:
        return  # `x is defined` asks whether a value exists: not a use of it
    if isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Name)):
        root, parts, computed = _chain(node)
        if root is not None and root.name in roots:
            found.append(Reference(root.name, tuple(parts), node.lineno or 0))
            for child in computed:
                _walk(child, roots, found)
            return
    for child in node.iter_child_nodes():
        _walk(child, roots, found)


def _chain(node: nodes.Node) -> tuple[nodes.Name | None, list, list[nodes.Node]]:
    """Unwind ``a.b['c'].get('d')`` into (Name a, ["b", "c", "d"], nodes computed along the way).

    A method call drops its method name (``inputs.name.upper()`` uses ``inputs.name``), except
    ``get('key')``, which reads that key. A computed key cuts the chain there.
    """
    parts: list = []
    computed: list[nodes.Node] = []
    while True:
        if isinstance(node, nodes.Call):
            computed += [*node.args, *(kw.value for kw in node.kwargs)]
            computed += [part for part in (node.dyn_args, node.dyn_kwargs) if part is not None]
            if not isinstance(node.node, nodes.Getattr):
                return None, parts, computed
            key = _constant(node.args[0]) if node.node.attr == "get" and node.args else None
            parts = [key] if isinstance(key, str) else []
            node = node.node.node
        elif isinstance(node, nodes.Getattr):
            parts.insert(0, node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            key = _constant(node.arg)
            if key is None:
                parts = []
                computed.append(node.arg)
            else:
                parts.insert(0, key)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return node, parts, computed
        else:
            return None, parts, computed


def _constant(node: nodes.Node) -> str | int | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
        return node.value
    return None


@dataclass(frozen=True)
class TemplateField:
    """A setting that holds a template: its config path, its readable title and its text."""

    path: str
    title: str
    source: str


def template_fields(schema: object, config: object) -> list[TemplateField]:
    """Return every template setting in `config` ("x-widget": template or template-inline), nested ones too."""
    return list(_fields(schema, config, "config", ()))


def _fields(schema: object, value: object, path: str, titles: tuple) -> Iterator[TemplateField]:
    if not isinstance(schema, dict):
        return
    title = titles + ((schema["title"],) if isinstance(schema.get("title"), str) else ())
    if schema.get("x-widget") in TEMPLATE_WIDGETS and isinstance(value, str):
        yield TemplateField(path, " › ".join(title) or path, value)
    elif isinstance(value, dict):
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for key, child in value.items():
            sub = properties.get(key, schema.get("additionalProperties"))
            label = () if key in properties else (str(key),)
            yield from _fields(sub, child, f"{path}.{key}", title + label)
    elif isinstance(value, list):  # "Message 2", as the form names the item, not "Messages › 2"
        noun = item_title(schema, title[-1] if title else "Item")
        for index, child in enumerate(value):
            yield from _fields(schema.get("items"), child, f"{path}[{index}]", title[:-1] + (f"{noun} {index + 1}",))


def expression(root: str, parts: tuple | list) -> str:
    """Write a reference the way a person would type it between ``{{ }}``."""
    text = root
    for part in parts:
        if isinstance(part, str) and part.isidentifier() and part not in _KEYWORDS:
            text += f".{part}"
        else:
            text += f"[{part!r}]"
    return text


_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False",
                       "None"})
