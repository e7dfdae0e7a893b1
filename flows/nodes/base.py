"""Define the contract every node type fulfils: schema, ports, checks and run().

Node types are small stateless classes (DESIGN.md, decision 3). Their JSON Schema drives both
the editor's generated config form and server-side validation, so no rule lives only in the
browser. Everything a node needs while running arrives in a `NodeContext`, and everything it
produces leaves in a `NodeResult`, which keeps nodes free of I/O with the run's storage and makes
the runner the only place that persists steps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from jsonschema import Draft202012Validator

from flows.problems import Problem
from flows.templating import render_template

CATEGORIES = ("trigger", "start", "logic", "output")


class NodeError(Exception):
    """Fail the current step with a message meant for the flow's author.

    The message is stored on the step and shown in the run view as-is, so write it as a
    sentence that says what went wrong and, where possible, how to fix it.
    """


@dataclass
class NodeContext:
    """Give a running node its settings and the data of the run so far.

    `config` already has defaults filled in, so nodes never repeat the schema's defaults.
    `nodes` maps node ids to the outputs of the nodes executed before this one.
    """

    node: dict
    config: dict
    payload: dict
    inputs: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)

    @property
    def node_id(self) -> str:
        return self.node["id"]

    @property
    def trigger(self) -> dict:
        """Return the trigger metadata the run was started with ({} when there is none)."""
        trigger = self.payload.get("trigger")
        return trigger if isinstance(trigger, dict) else {}

    def template_context(self) -> dict:
        """Return the variables templates can use: inputs, nodes, trigger and run."""
        return {"inputs": self.inputs, "nodes": self.nodes, "trigger": self.trigger, "run": self.run}

    def render(self, source: str, name: str) -> str:
        """Render one of this node's templates; `name` is its config path, used in errors."""
        return render_template(source, self.template_context(), name)


@dataclass
class NodeResult:
    """Report what a node produced and which output port the run continues from.

    `port` None means the branch ends here. `reply` marks the output as the flow's answer;
    when several reply nodes run, the last one wins.
    """

    output: dict
    port: str | None = "out"
    reply: bool = False


class NodeType:
    """Base class of node types; subclasses set the class attributes and override run()."""

    type: ClassVar[str]
    version: ClassVar[int] = 1
    category: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    config_schema: ClassVar[dict]
    is_trigger: ClassVar[bool] = False
    # Whether this type's output is the flow's answer. The runner needs it when it replays
    # persisted steps, where no NodeResult exists to carry the `reply` flag.
    replies: ClassVar[bool] = False
    # Whether to record a "running" step before executing, so a worker that dies inside the node
    # leaves a trace and the retry is counted as attempt 2. Pure nodes (no side effects, no waiting)
    # skip it and record the finished step in one write; re-running them after a crash is harmless.
    checkpoint_before_run: ClassVar[bool] = False

    @cached_property
    def config_validator(self) -> Draft202012Validator:
        """Return a validator for this type's config, built once per process."""
        return Draft202012Validator(self.config_schema)

    def default_config(self) -> dict:
        """Return the config a newly placed node starts with: every property's default."""
        properties = self.config_schema.get("properties", {})
        return {name: copy.deepcopy(prop["default"]) for name, prop in properties.items() if "default" in prop}

    def effective_config(self, config: dict | None) -> dict:
        """Return `config` with the defaults of the properties it leaves out."""
        merged = self.default_config()
        merged.update(config or {})
        return merged

    def input_ports(self, config: dict) -> list[str]:
        """Return the ports edges may arrive at; triggers start runs, so they have none."""
        return [] if self.is_trigger else ["in"]

    def output_ports(self, config: dict) -> list[str]:
        """Return the ports edges may leave from."""
        return ["out"]

    def check(self, node: dict) -> list[Problem]:
        """Return problems the schema cannot express; only called when the schema passed."""
        return []

    def step_input(self, ctx: NodeContext) -> dict:
        """Return what the run view shows as this step's input: by default, the settings used."""
        return ctx.config

    def run(self, ctx: NodeContext) -> NodeResult:
        """Execute the node; raise NodeError (or TemplateError) to fail the step."""
        raise NotImplementedError

    def palette_entry(self) -> dict:
        """Describe this type for the editor's palette and generated config form."""
        defaults = self.default_config()
        return {
            "type": self.type,
            "version": self.version,
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "config_schema": _with_property_order(copy.deepcopy(self.config_schema)),
            "is_trigger": self.is_trigger,
            "default_config": defaults,
            "input_ports": self.input_ports(defaults),
            "output_ports": self.output_ports(defaults),
        }

    def problem(self, node: dict, code: str, message: str, path: str | None = None) -> Problem:
        """Build a Problem located on `node`, for use in check()."""
        return Problem(code=code, message=message, node_id=node.get("id"), path=path)


def _with_property_order(schema: object) -> object:
    """Add "x-order" (the properties in the order they are written) to every object schema.

    JSON objects may be re-sorted on their way to the browser (Flask sorts keys), but the
    generated form should list settings in the order the node type declares them.
    """
    if isinstance(schema, dict):
        for value in schema.values():
            _with_property_order(value)
        if isinstance(schema.get("properties"), dict):
            schema["x-order"] = list(schema["properties"])
    elif isinstance(schema, list):
        for item in schema:
            _with_property_order(item)
    return schema
