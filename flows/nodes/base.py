"""Define the contract every node type fulfils: schema, ports, checks and run().

Node types are small stateless classes (DESIGN.md, decision 3). Their JSON Schema drives both
the editor's generated config form and server-side validation, so no rule lives only in the
browser. Everything a node needs while running arrives in a `NodeContext`, and everything it
produces leaves in a `NodeResult`, which keeps nodes free of I/O with the run's storage and makes
the runner the only place that persists steps.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, ClassVar

from jsonschema import Draft202012Validator

from flows.problems import Problem
from flows.templating import render_template

_IMMUTABLE = (str, int, float, bool, type(None))  # defaults handed out without a copy

CATEGORIES = ("trigger", "start", "logic", "output")
ERROR_PORT = "error"

# Settings every node type that can fail on its own accepts (see `NodeType.error_handling`):
# how often to try, and whether a final failure stops the run or leaves by the `error` port.
COMMON_SETTINGS = {
    "retry": {
        "type": "object",
        "additionalProperties": False,
        "title": "Retry",
        "x-advanced": True,
        "description": "Try the step again when it fails: how many attempts in all, and the wait "
                       "before the second attempt (doubled for each further one, at most 5 minutes).",
        "properties": {
            "attempts": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1, "title": "Attempts"},
            "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 60, "default": 1,
                                "title": "Wait between attempts (seconds)"},
        },
    },
    "on_error": {
        "type": "string",
        "enum": ["fail", "port"],
        "x-enum-titles": {"fail": "Stop the run", "port": "Continue from the error port"},
        "default": "fail",
        "title": "When it fails",
        "description": "Stop the run with the error, or carry on from the node's 'error' port, "
                       "whose output holds the error message.",
        "x-advanced": True,
    },
}


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
    # Publish a partial result while the node runs (LLM tokens, replies); the app forwards the
    # events to whoever follows the run live. A no-op when nobody listens.
    emit: Callable[[dict], None] = field(default=lambda event: None)
    # Look up a workspace credential by name: returns a dict such as {"kind": "bearer",
    # "value": …}, or None. The app passes it in; the engine never reads credentials itself.
    credential_resolver: Callable[[str], dict | None] | None = None
    # Operator settings the app passes in (e.g. "http_allowed_networks"); nodes read, never write.
    settings: dict = field(default_factory=dict)
    # Every secret value handed to the node, so the runner can blank it out of outputs and errors.
    secrets: set = field(default_factory=set)
    attempt: int = 1
    clock: Callable[[], float] = time.time  # epoch seconds; the runner passes its own

    @property
    def node_id(self) -> str:
        return self.node["id"]

    @property
    def session(self) -> dict:
        """Return the conversation the run belongs to ({} when none): id, history, contact."""
        session = self.trigger.get("session")
        return session if isinstance(session, dict) else {}

    def credential(self, name: str) -> dict:
        """Return the workspace credential called `name`, remembering its secrets for redaction.

        Raise NodeError when it does not exist, naming it, so the author can create or pick one.
        """
        found = self.credential_resolver(name) if self.credential_resolver and name else None
        if not isinstance(found, dict):
            raise NodeError(f"The credential '{name}' does not exist in this workspace; create it under "
                            f"Credentials or pick another one.")
        for key, value in found.items():
            if key not in ("kind", "name", "header", "username") and isinstance(value, str) and len(value) >= 4:
                self.secrets.add(value)
        return found

    @property
    def trigger(self) -> dict:
        """Return the trigger metadata the run was started with ({} when there is none)."""
        trigger = self.payload.get("trigger")
        return trigger if isinstance(trigger, dict) else {}

    def template_context(self) -> dict:
        """Return the variables templates can use: inputs, nodes, session, trigger and run."""
        return {"inputs": self.inputs, "nodes": self.nodes, "session": self.session, "trigger": self.trigger,
                "run": self.run}

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
    # Park the run until this time (epoch seconds) before running the next node (delay node).
    resume_at: float | None = None


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
    # Whether the type accepts the common `retry` and `on_error` settings. Triggers, start and
    # end have nothing to retry; every other type gets both added to its schema automatically.
    error_handling: ClassVar[bool] = True
    # Whether the type can park the run (delay): replay then checks whether its time has come.
    waits: ClassVar[bool] = False
    # Settings that must not be left blank for the node to do anything (Reply text, HTTP URL);
    # validation refuses to publish them empty (`flows.runnable_checks`). "list[].field" names a
    # setting inside each item of a list setting (every condition's Value).
    required_text: ClassVar[tuple[str, ...]] = ()
    # Settings that must be an absolute http(s) URL once rendered; a template may build them.
    url_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        """Add the common settings to each error-handling type's schema, once, at class creation."""
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("config_schema")
        if cls.__dict__.get("error_handling", True) and cls.category not in ("trigger", "start") \
                and isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            for name, prop in COMMON_SETTINGS.items():
                schema["properties"].setdefault(name, copy.deepcopy(prop))

    @property
    def handles_errors(self) -> bool:
        return "on_error" in self.config_schema.get("properties", {})

    @cached_property
    def config_validator(self) -> Draft202012Validator:
        """Return a validator for this type's config, built once per process."""
        return Draft202012Validator(self.config_schema)

    def default_config(self) -> dict:
        """Return the config a newly placed node starts with: every property's default."""
        properties = self.config_schema.get("properties", {})
        return {name: copy.deepcopy(prop["default"]) for name, prop in properties.items() if "default" in prop}

    def effective_config(self, config: dict | None) -> dict:
        """Return `config` with the defaults of the properties it leaves out.

        Keys keep the order of `default_config()` updated by `config`; only the defaults used are
        copied (every step asks for its node's config, and copying unused defaults was most of it).
        """
        config = config or {}
        merged = {}
        for name, prop in self.config_schema.get("properties", {}).items():
            if "default" in prop:
                default = config[name] if name in config else prop["default"]
                merged[name] = default if name in config or type(default) in _IMMUTABLE else copy.deepcopy(default)
        merged.update(config)
        return merged

    def input_ports(self, config: dict) -> list[str]:
        """Return the ports edges may arrive at; triggers start runs, so they have none."""
        return [] if self.is_trigger else ["in"]

    def output_ports(self, config: dict) -> list[str]:
        """Return the ports edges may leave from, not counting the error port."""
        return ["out"]

    def all_output_ports(self, config: dict) -> list[str]:
        """Return every port edges may leave from: the type's own, plus `error` when enabled."""
        ports = self.output_ports(config)
        if self.handles_errors and isinstance(config, dict) and config.get("on_error") == "port":
            ports = ports + [ERROR_PORT]
        return ports

    def port_label(self, config: object, port: str) -> str:
        """Name the output port `port` for people reading a run ("" for the plain way on, "out").

        Why on the type: only it knows what its ports mean (a condition's branch label, a switch
        case's value); the run page shows these instead of the port names stored with each step.
        `config` is the node's config as saved in the run's version, so it is checked, not trusted.
        """
        if port == "out":
            return ""
        return "Error path" if port == ERROR_PORT else port

    def output_fields(self, config: dict) -> list[dict]:
        """Return what run() outputs, as `flows.nodes.outputs.output_field` dicts (name, type, description).

        The value picker lists them and validation refuses references to fields not listed, so
        declare every top-level key run() can output. `config` has its defaults filled in.
        """
        return []

    def fixed_inputs(self, config: dict) -> dict | None:
        """Return the inputs this trigger sends with every run (a schedule's), or None when callers send them."""
        return None

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
            "error_port": self.handles_errors,
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
