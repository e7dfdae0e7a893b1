"""Refuse templates that cannot render: syntax errors, and values the run will never have.

A Reply saying ``{{ nodes.template_1.text }}`` where no node template_1 runs before it failed only
when a caller hit it. Here each template setting is parsed as the renderer parses it and each
``inputs.X`` / ``nodes.X.field`` it reads is checked against the start node's inputs and the
nodes upstream (`flows.available`). ``trigger.*``, ``session.*`` and ``run.*`` depend on how a
run was started, so they are not checked; neither is anything after a computed key.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import TemplateSyntaxError

from flows.available import display_name, node_output_fields, value_label
from flows.graph import Graph
from flows.inputs import declared_inputs
from flows.problems import ERROR, WARNING, Problem
from flows.run_paths import RunPaths
from flows.references import Reference, TemplateField, expression, template_fields, template_references
from flows.template_words import syntax_words, unfinished_opener, unfinished_words

_MAX_LISTED = 8
WARNING_CODES = ("node_maybe_not_run",)


def reference_problems(graph: Graph, configs: dict[str, dict]) -> list[Problem]:
    """Check every template setting of the nodes whose settings passed their schema."""
    start = graph.start_node()
    inputs = None
    if start is not None and start["id"] in configs:
        inputs = [item["name"] for item in declared_inputs(configs[start["id"]])]
    problems: list[Problem] = []
    paths = RunPaths(graph)
    for node_id, config in configs.items():
        node_type = graph.node_type(node_id)
        if node_type.is_trigger:
            continue  # a trigger's text settings (the REST default text) are passed on as they are, never rendered
        fields = template_fields(node_type.config_schema, config)
        if not fields:
            continue
        checker = _Checker(graph, configs, node_id, inputs, paths)
        for field in fields:
            problems += checker.field_problems(field)
    return problems


@lru_cache(maxsize=256)
def _parsed(source: str) -> tuple[Reference, ...] | str:
    """The references of `source`, or what is wrong with it after "<field> " (the canvas re-validates
    the same texts). An unclosed "{{" is a value still being typed: it gets an instruction, not a
    parser's complaint; other errors say their line and what is wrong in words (`flows.template_words`)."""
    try:
        return tuple(template_references(source))
    except TemplateSyntaxError as exc:
        opener = unfinished_opener(source)
        if opener:
            return unfinished_words(opener)
        return (f"is not a valid template (line {exc.lineno}: {syntax_words(exc)}); fix it, or pick a value "
                f"with Insert value.")
    except RecursionError:
        return "is not a valid template (it is nested too deeply to read); simplify it."


class _Checker:
    """Check the references of one node's templates against what is available at that node."""

    def __init__(self, graph: Graph, configs: dict[str, dict], node_id: str, inputs: list[str] | None,
                 paths: RunPaths):
        self.graph, self.configs, self.node_id, self.inputs, self.paths = graph, configs, node_id, inputs, paths
        self.name = display_name(graph, node_id)

    def field_problems(self, field: TemplateField) -> list[Problem]:
        parsed = _parsed(field.source)
        where = f'{self.name}: "{field.title}"'
        if isinstance(parsed, str):
            return [Problem("template_syntax_error", f"{where} {parsed}", node_id=self.node_id, path=field.path)]
        problems, seen = [], set()
        for reference in parsed:
            reason = self._reason(reference)
            if reason and reason[1] not in seen:
                seen.add(reason[1])
                severity = WARNING if reason[0] in WARNING_CODES else ERROR
                problems.append(Problem(reason[0], f"{where} uses {reason[1]}", node_id=self.node_id,
                                        path=field.path, severity=severity))
        return problems

    def _reason(self, reference: Reference) -> tuple[str, str] | None:
        if reference.root not in ("inputs", "nodes"):
            return None  # trigger.*, session.*, run.*: depend on how a run starts (see the module docstring)
        parts, used = reference.parts, self._label(reference.root, reference.parts)
        if reference.root == "inputs" and parts and self.inputs is not None and parts[0] not in self.inputs:
            have = f"its inputs are: {_listed(self.inputs)}" if self.inputs else "it declares no inputs"
            return "unknown_input", (f"{used}, but the start node has no input "
                                     f"'{parts[0]}' ({have}); add the input or pick another value.")
        if reference.root != "nodes" or not parts:
            return None
        target = parts[0]
        if not isinstance(target, str) or target not in self.graph.nodes:
            return "unknown_node", (f"{used}, but no such step is on the canvas (was it deleted?); "
                                    f"pick a value from an earlier step with Insert value.")
        if target not in self.paths.upstream(self.node_id):
            if self.paths.never_before(target, self.node_id):
                return "node_not_upstream", (f"{used}, but \"{display_name(self.graph, target)}\" never runs "
                                             f"before this node; connect it earlier in the flow or pick another value.")
            return "node_maybe_not_run", (f"{used}, but \"{display_name(self.graph, target)}\" is on another "
                                          f"branch: it runs before this node only if that branch runs first; "
                                          f"connect it earlier in the flow to be sure.")
        return self._output_reason(target, parts, used)

    def _label(self, root: str, parts: tuple) -> str:
        """A value as the canvas's chips name it ("Answer › text", "Start › message", "REST › Caller's
        reference"), not as typed ("nodes.reply.text"): internal ids and API names mean nothing to the
        people who draw flows."""
        if root == "nodes" and parts and isinstance(parts[0], str):
            head = display_name(self.graph, parts[0]) if parts[0] in self.graph.nodes else parts[0]
            rest = parts[1:2]
        elif root == "inputs" and parts:
            start = self.graph.start_node()
            head, rest = (display_name(self.graph, start["id"]) if start else "Start"), parts[:1]
        elif root in ("trigger", "session") and parts and isinstance(parts[0], str):
            head, rest = value_label(self.graph, root, parts[0]), parts[1:2]  # "REST › Caller's reference"
        else:
            return expression(root, parts[:2])
        return " › ".join([head, *(str(part) for part in rest)])

    def _output_reason(self, target: str, parts: tuple, used: str) -> tuple[str, str] | None:
        node_type = self.graph.node_type(target)
        if len(parts) < 2 or target not in self.configs or node_type.is_trigger:
            return None  # a trigger passes on whatever the request carried
        names = [field["name"] for field in node_output_fields(self.graph, target) or []]
        if parts[1] in names:
            return None
        return "unknown_output", (f"{used}, but \"{display_name(self.graph, target)}\" has no output "
                                  f"'{parts[1]}' (it has: {_listed(names) or 'none'}); pick another value.")


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (", …" if len(names) > _MAX_LISTED else "")
