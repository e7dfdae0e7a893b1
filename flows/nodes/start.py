"""Define the start node, which declares the flow's inputs and checks them on every run.

The declared inputs are a contract: the app validates requests against them before a run is
created, and the start node validates again when the run executes, so the rest of the flow can
rely on ``inputs.*`` having the declared types whoever started the run.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from flows.inputs import MESSAGE_INPUT_TYPES, declared_inputs, validate_inputs
from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.schema_parts import ITEM_TITLE, choice, closed_object, text_field
from flows.patterns import INPUT_NAME
from flows.problems import Problem
from flows.nodes.outputs import INPUT_TYPE_TITLES, INPUT_TYPE_WORDS, output_field

_INPUT_SCHEMA = closed_object({
    "name": text_field("Name", "How templates refer to the input: inputs.<name>.", pattern=INPUT_NAME),
    "type": choice(INPUT_TYPE_TITLES, title="Type", description="What kind of value callers must send."),
    "required": {"type": "boolean", "default": False, "title": "Required",
                 "description": "Refuse requests that leave this input out (unless it has a default)."},
    "default": {"title": "Default", "description": "Value used when the request leaves the input out."},
    "description": text_field("Description", "Shown to API callers."),
}, required=["name", "type"])


class StartNode(NodeType):
    """Declare the flow's inputs; every run passes through here first."""

    type = "start"
    category = "start"
    title = "Start"
    description = "Declares the inputs the flow accepts. Every flow has exactly one start node."
    config_schema = closed_object({
        "inputs": {"type": "array", "maxItems": 100, "items": _INPUT_SCHEMA, "default": [], "title": "Inputs",
                   ITEM_TITLE: "Input",
                   "description": "The values callers send to this flow."},
        "message_input": text_field("Message input", "Which input receives the text a chat caller sends; "
                                    "conversation history and OpenAI chat calls read the message from it "
                                    "(pick a text input).", **{"x-widget": "input-select"}),
    })

    def output_fields(self, config: dict) -> list[dict]:
        """The start node outputs the run's inputs (also reachable as `inputs.*`)."""
        return [output_field(item["name"], INPUT_TYPE_WORDS[item["type"]], item.get("description") or
                             f"The input '{item['name']}'.") for item in declared_inputs(config)]

    def check(self, node: dict) -> list[Problem]:
        config = node.get("config") or {}
        inputs = config.get("inputs", [])
        problems: list[Problem] = []
        seen: set[str] = set()
        for index, item in enumerate(inputs):
            name, path = item["name"], f"config.inputs[{index}]"
            if name in seen:
                problems.append(self.problem(
                    node, "duplicate_input",
                    f"The input name '{name}' is used twice; give each input a different name.",
                    f"{path}.name"))
            seen.add(name)
            if "default" in item and not Draft202012Validator({"type": item["type"]}).is_valid(item["default"]):
                problems.append(self.problem(
                    node, "invalid_default",
                    f"The default of input '{name}' is not of type {item['type']}; change the "
                    f"default or the type.", f"{path}.default"))
        problems += self._check_message_input(node, config, inputs)
        return problems

    def _check_message_input(self, node: dict, config: dict, inputs: list[dict]) -> list[Problem]:
        name = config.get("message_input")
        if name is None:
            return []
        types = {item["name"]: item["type"] for item in inputs}
        if name not in types:
            reason = (f"declare an input named '{name}' or pick one of: {', '.join(types)}" if types
                      else f"declare an input named '{name}' first")
            message = f"The message input '{name}' is not a declared input; {reason}."
        elif types[name] not in MESSAGE_INPUT_TYPES:
            message = (f"The message input '{name}' is a {INPUT_TYPE_TITLES[types[name]]} input, but a chat "
                       f"message needs a Text (or Object) input; change its type or pick another input.")
        else:
            return []
        return [self.problem(node, "invalid_message_input", message, "config.message_input")]

    def step_input(self, ctx: NodeContext) -> dict:
        """Record the inputs as received, so the run view shows what the caller really sent."""
        return {"inputs": ctx.payload.get("inputs")}

    def run(self, ctx: NodeContext) -> NodeResult:
        values, errors = validate_inputs(ctx.config, ctx.payload.get("inputs"))
        if errors:
            listed = "; ".join(f"{e['field']} {e['reason']}" if e["field"] else e["reason"] for e in errors)
            raise NodeError(f"The inputs do not match the start node: {listed}.")
        return NodeResult(output=values, port="out")
