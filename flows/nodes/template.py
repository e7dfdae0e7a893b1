"""Define the template node, which turns run data into text (and optionally JSON data).

It is the flow's general-purpose formatter: compose a message, build a JSON body for a later
node, or compute a value with Jinja expressions, all without code execution outside the sandbox.
"""

from __future__ import annotations

import json

from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.outputs import ANY, TEXT, output_field


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class TemplateNode(NodeType):
    """Render a Jinja template; optionally parse the text as JSON."""

    required_text = ("template",)

    type = "template"
    category = "logic"
    title = "Template"
    description = "Builds text from the inputs and earlier steps' results."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["template"],
        "properties": {
            "template": {
                "type": "string",
                "default": "",
                "title": "Template",
                "x-widget": "template",
                "description": "The text to build; use Insert value to add an input or an earlier step's result.",
            },
            "parse_json": {
                "type": "boolean",
                "default": False,
                "title": "Parse as JSON",
                "description": "Also parse the text as JSON and expose it as data.",
            },
        },
    }

    def output_fields(self, config: dict) -> list[dict]:
        fields = [output_field("text", TEXT, "The rendered text.")]
        if config.get("parse_json"):
            fields.append(output_field("data", ANY, "The text read as JSON."))
        return fields

    def run(self, ctx: NodeContext) -> NodeResult:
        text = ctx.render(ctx.config["template"], "config.template")
        output: dict = {"text": text}
        if ctx.config["parse_json"]:
            output["data"] = _parse_json(text)
        return NodeResult(output=output, port="out")


def _parse_json(text: str) -> object:
    """Parse `text` as strict JSON (no NaN or Infinity, which could not be stored)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise NodeError(
            f"The rendered template is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}). Fix the template or turn off 'Parse as JSON'.") from None
    except ValueError as exc:
        raise NodeError(f"The rendered template is not valid JSON ({exc}). Fix the template or "
                        f"turn off 'Parse as JSON'.") from None
