"""Define the switch node: several branches chosen by one value, like a menu of answers.

The condition node answers yes/no questions with operators; a switch is the simpler tool when
one value (an HTTP status, a category the model picked) selects one of many paths: the first
case whose text equals the value wins, otherwise the run takes `default`.
"""

from __future__ import annotations

from flows.nodes.base import NodeContext, NodeResult, NodeType
from flows.nodes.schema_parts import ITEM_TITLE, closed_object, text_field
from flows.problems import Problem
from flows.nodes.outputs import TEXT, output_field

DEFAULT_PORT = "default"


class SwitchNode(NodeType):
    """Render `value`; leave by the port of the first case equal to it, else by `default`."""

    required_text = ("value",)  # switching on nothing always leaves by the same port
    type = "switch"
    category = "logic"
    title = "Switch"
    description = "Picks a branch by value: the first case equal to the value, otherwise 'default'."
    config_schema = closed_object({
        "value": text_field("Value", "The value to compare with each case; use Insert value to pick it.", maxLength=10000, default="",
                            **{"x-widget": "template-inline"}),
        "cases": {
            "type": "array", "minItems": 1, "maxItems": 50, "title": "Cases", ITEM_TITLE: "Case",
            "description": "Checked in order; each case has its own output port.",
            "default": [{"port": "case_1", "equals": ""}],
            "items": closed_object({"port": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$", "title": "Port"},
                                    "equals": {"type": "string", "maxLength": 1000, "title": "Equals"}},
                                   required=["port", "equals"]),
        },
        "ignore_case": {"type": "boolean", "default": False, "title": "Ignore case",
                        "description": "Compare without regard to upper and lower case."},
    }, required=["value", "cases"])

    def output_ports(self, config: dict) -> list[str]:
        return list(dict.fromkeys(case["port"] for case in config.get("cases", []))) + [DEFAULT_PORT]

    def palette_entry(self) -> dict:
        entry = super().palette_entry()
        entry["dynamic_output_ports"] = {"array": "cases", "field": "port", "append": [DEFAULT_PORT]}
        return entry

    def port_label(self, config: object, port: str) -> str:
        """A case by the value it matches ('is "billing"'); default as "default (no case matched)"."""
        if port == DEFAULT_PORT:
            return "default (no case matched)"
        cases = config.get("cases") if isinstance(config, dict) else None
        for case in cases if isinstance(cases, list) else []:
            if isinstance(case, dict) and case.get("port") == port and isinstance(case.get("equals"), str):
                return f'is "{case["equals"]}"' if case["equals"] else "is empty"
        return super().port_label(config, port)

    def check(self, node: dict) -> list[Problem]:
        problems, seen = [], set()
        for index, case in enumerate(node["config"]["cases"]):
            port = case["port"]
            if port in (DEFAULT_PORT, "error") or port in seen:
                reason = "is reserved" if port in (DEFAULT_PORT, "error") else "is used by two cases"
                problems.append(self.problem(node, "duplicate_port", f"The port name '{port}' {reason}; choose "
                                             f"another name.", f"config.cases[{index}].port"))
            seen.add(port)
        return problems

    def output_fields(self, config: dict) -> list[dict]:
        return [output_field("value", TEXT, "The value that was compared."),
                output_field("port", TEXT, "The case taken (its port name).")]

    def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.render(ctx.config["value"], "config.value").strip()
        fold = (lambda text: text.casefold()) if ctx.config["ignore_case"] else (lambda text: text)
        for case in ctx.config["cases"]:
            if fold(case["equals"].strip()) == fold(value):
                return NodeResult(output={"value": value, "port": case["port"]}, port=case["port"])
        return NodeResult(output={"value": value, "port": DEFAULT_PORT}, port=DEFAULT_PORT)
