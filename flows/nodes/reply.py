"""Define the output nodes: reply (the flow's answer) and end (stop this branch).

A reply does not stop the run: a flow may answer and then carry on (log, notify). The answer
the caller receives is the output of the last reply node executed, which keeps the rule simple
to explain and deterministic with the runner's breadth-first order. Each reply also publishes
a `reply` event, so a flow can stream partial answers ("looking that up…") before the last one.
"""

from __future__ import annotations

from flows.nodes.base import NodeContext, NodeResult, NodeType
from flows.nodes.outputs import OBJECT, TEXT, output_field


class ReplyNode(NodeType):
    """Produce the flow's answer: a text plus optional named data fields."""

    type = "reply"
    category = "output"
    title = "Reply"
    description = "Sets the flow's answer. If several replies run, the caller gets the last one."
    replies = True
    required_text = ("text",)
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {
            "text": {
                "type": "string",
                "default": "",
                "title": "Text",
                "x-widget": "template",
                "description": "What the flow answers; use Insert value to add an input or an earlier step's result.",
            },
            "data": {
                "type": "object",
                "maxProperties": 50,
                "propertyNames": {"minLength": 1, "maxLength": 64, "title": "Data field name"},
                "additionalProperties": {"type": "string", "title": "Data field template", "x-widget": "template-inline"},
                "title": "Data",
                "description": "Extra named fields for API callers; each value is a template.",
            },
        },
    }

    def output_fields(self, config: dict) -> list[dict]:
        fields = [output_field("text", TEXT, "The answer sent.")]
        if "data" in config:
            fields.append(output_field("data", OBJECT, "The extra named fields sent with the answer."))
        return fields

    def run(self, ctx: NodeContext) -> NodeResult:
        output: dict = {"text": ctx.render(ctx.config["text"], "config.text")}
        if "data" in ctx.config:
            output["data"] = {
                name: ctx.render(source, f"config.data.{name}") for name, source in ctx.config["data"].items()
            }
        ctx.emit({"type": "reply", "node_id": ctx.node_id, "text": output["text"]})
        return NodeResult(output=output, port="out", reply=True)


class EndNode(NodeType):
    """End the branch explicitly, so a canvas reader sees where the flow stops on purpose."""

    type = "end"
    category = "output"
    title = "End"
    description = "Ends this branch of the flow."
    error_handling = False
    config_schema = {"type": "object", "additionalProperties": False, "properties": {}}

    def output_ports(self, config: dict) -> list[str]:
        return []

    def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(output={}, port=None)
