"""Define the set-variables node: compute named values once and refer to them by name later.

Without it, a value used by several nodes (a cleaned-up order number, a JSON object taken from
an HTTP answer) would be repeated as the same template in each of them. Each value is a
template; `as` says how to read the rendered text, so later nodes get numbers and objects, not
only text.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.problems import Problem
from flows.nodes.outputs import ANY, NUMBER, TEXT, YES_NO, output_field
from flows.nodes.schema_parts import ITEM_TITLE


class SetVariablesNode(NodeType):
    """Render each variable's template; output {name: value}."""

    type = "set_variables"
    category = "logic"
    title = "Set variables"
    description = "Computes named values from templates, e.g. nodes.vars.order_id for later nodes."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["variables"],
        "properties": {
            "variables": {
                "type": "array", "minItems": 1, "maxItems": 50, "title": "Variables", ITEM_TITLE: "Variable",
                "description": "Each: a name, a template, and how to read the result (text, number, boolean, JSON).",
                "default": [{"name": "value", "value": "{{ inputs | tojson }}", "as": "json"}],
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["name", "value"],
                    "properties": {
                        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$", "title": "Name"},
                        "value": {"type": "string", "maxLength": 100000, "title": "Value", "x-widget": "template-inline"},
                        "as": {"type": "string", "enum": ["text", "number", "boolean", "json"], "default": "text",
                               "title": "Read as",
                               "x-enum-titles": {"text": "Text", "number": "Number", "boolean": "Yes/No",
                                                 "json": "JSON (list or object)"}},
                    },
                },
            },
        },
    }

    def check(self, node: dict) -> list[Problem]:
        seen: set[str] = set()
        problems = []
        for index, variable in enumerate(node["config"]["variables"]):
            if variable["name"] in seen:
                problems.append(self.problem(node, "duplicate_variable",
                                             f"Two variables are called '{variable['name']}'; give each its own name.",
                                             f"config.variables[{index}].name"))
            seen.add(variable["name"])
        return problems

    def output_fields(self, config: dict) -> list[dict]:
        words = {"text": TEXT, "number": NUMBER, "boolean": YES_NO, "json": ANY}
        return [output_field(item["name"], words.get(item.get("as", "text"), ANY), f"The variable '{item['name']}'.")
                for item in config.get("variables") or [] if isinstance(item, dict) and isinstance(item.get("name"), str)]

    def run(self, ctx: NodeContext) -> NodeResult:
        output = {}
        for index, variable in enumerate(ctx.config["variables"]):
            text = ctx.render(variable["value"], f"config.variables[{index}].value")
            output[variable["name"]] = _read(text, variable.get("as", "text"), variable["name"])
        return NodeResult(output=output, port="out")


def _read(text: str, kind: str, name: str) -> object:
    if kind == "number":
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            raise NodeError(f"Variable '{name}' should be a number but its template gave {text[:100]!r}.") from None
        if not number.is_finite():
            raise NodeError(f"Variable '{name}' should be a finite number, not {text.strip()!r}.")
        return int(number) if number == number.to_integral_value() and "." not in text and "e" not in text.lower() \
            else float(number)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off", ""):
            return False
        raise NodeError(f"Variable '{name}' should be true or false but its template gave {text[:100]!r}.")
    if kind == "json":
        try:
            return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        except ValueError as exc:
            raise NodeError(f"Variable '{name}' should be JSON but its template gave invalid JSON ({exc}); "
                            f"use | tojson to insert values.") from None
    return text
