"""Define the condition node, which routes a run down the first branch whose tests pass.

Branches are ordered and the first match wins, like an if / elif / else chain, because that is
the model non-programmers already know from spreadsheets and other flow tools. The implicit
"else" port guarantees that every run takes exactly one way out.
"""

from __future__ import annotations

from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.operators import OPERATORS, UNARY, compare
from flows.nodes.schema_parts import ITEM_TITLE, choice, closed_object, text_field
from flows.patterns import BRANCH_PORT
from flows.problems import Problem
from flows.nodes.outputs import TEXT, output_field

ELSE_PORT = "else"
# How the editor words each operator (the stored values stay the operator names).
OPERATOR_TITLES = {
    "equals": "is equal to", "not_equals": "is not equal to", "contains": "contains",
    "not_contains": "does not contain", "starts_with": "starts with", "ends_with": "ends with",
    "greater_than": "is more than (number)", "greater_or_equal": "is at least (number)",
    "less_than": "is less than (number)", "less_or_equal": "is at most (number)",
    "is_empty": "is empty", "is_not_empty": "is not empty", "is_true": "is yes / true", "is_false": "is no / false",
}

_CONDITION_SCHEMA = closed_object({
    "value": text_field("Value", "The value to test; use Insert value to pick an input or an earlier step's result.",
                        **{"x-widget": "template-inline"}),
    "operator": choice({name: OPERATOR_TITLES[name] for name in OPERATORS}, title="Test", description="How to compare."),
    "compare_to": text_field("Compare to", "Template for the value to compare with; not used by 'is empty', "
                                           "'is not empty', 'is yes / true' and 'is no / false'.",
                             **{"x-widget": "template-inline"}),
}, required=["value", "operator"])

_BRANCH_SCHEMA = closed_object({
    "port": text_field("Port", "Name of the output port this branch leaves from.", pattern=BRANCH_PORT),
    "label": text_field("Label", "Shown on the canvas.", maxLength=200),
    "match": {"enum": ["all", "any"], "default": "all", "title": "Match",
              "x-enum-titles": {"all": "All conditions", "any": "Any one condition"},
              "description": "Whether all conditions or any one of them must hold."},
    "conditions": {"type": "array", "minItems": 1, "maxItems": 20, "items": _CONDITION_SCHEMA, "title": "Conditions",
                   ITEM_TITLE: "Condition"},
}, required=["port", "conditions"])


class ConditionNode(NodeType):
    """Route the run to the first branch whose conditions hold, else to "else"."""

    required_text = ("branches[].conditions[].value",)  # a condition on nothing always reads the same
    type = "condition"
    category = "logic"
    title = "Condition"
    description = ("Sends the run down the first branch whose conditions hold; when none does, "
                   "down 'else'.")
    config_schema = closed_object({
        "branches": {
            "type": "array", "minItems": 1, "maxItems": 20, "items": _BRANCH_SCHEMA,
            "default": [{"port": "yes", "label": "Yes", "match": "all",
                         "conditions": [{"value": "", "operator": "is_not_empty"}]}],
            "title": "Branches", ITEM_TITLE: "Branch",
            "description": "Checked in order; the first branch that matches wins.",
        },
    }, required=["branches"])

    def output_ports(self, config: dict) -> list[str]:
        return [branch["port"] for branch in config.get("branches", [])] + [ELSE_PORT]

    def palette_entry(self) -> dict:
        """Tell the editor that the output ports follow the branches, so it redraws them as they change."""
        entry = super().palette_entry()
        entry["dynamic_output_ports"] = {"array": "branches", "field": "port", "append": [ELSE_PORT]}
        return entry

    def port_label(self, config: object, port: str) -> str:
        """A branch by its label ("Yes"), as the canvas form names it; else as "else (no branch matched)"."""
        if port == ELSE_PORT:
            return "else (no branch matched)"
        branches = config.get("branches") if isinstance(config, dict) else None
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, dict) and branch.get("port") == port:
                label = branch.get("label")
                return label.strip() if isinstance(label, str) and label.strip() else port
        return super().port_label(config, port)

    def check(self, node: dict) -> list[Problem]:
        problems: list[Problem] = []
        seen: set[str] = set()
        for b_index, branch in enumerate((node.get("config") or {})["branches"]):
            port, path = branch["port"], f"config.branches[{b_index}]"
            if port == ELSE_PORT or port in seen:
                reason = ("The port name 'else' is reserved for runs that match no branch; choose another name."
                          if port == ELSE_PORT else
                          f"Two branches use the port '{port}'; give each branch its own port name.")
                problems.append(self.problem(node, "duplicate_port", reason, f"{path}.port"))
            seen.add(port)
            for c_index, condition in enumerate(branch["conditions"]):
                if condition["operator"] not in UNARY and "compare_to" not in condition:
                    problems.append(self.problem(
                        node, "missing_compare_to",
                        f"Condition {c_index + 1} of branch '{port}' uses '{condition['operator']}' "
                        f"but has nothing to compare to; fill in 'Compare to'.",
                        f"{path}.conditions[{c_index}].compare_to"))
        return problems

    def output_fields(self, config: dict) -> list[dict]:
        return [output_field("port", TEXT, "The branch taken (its port name)."),
                output_field("label", TEXT, "The label of the branch taken.")]

    def run(self, ctx: NodeContext) -> NodeResult:
        for b_index, branch in enumerate(ctx.config["branches"]):
            if self._matches(ctx, branch, f"config.branches[{b_index}]"):
                return NodeResult(output={"port": branch["port"], "label": branch.get("label") or branch["port"]},
                                  port=branch["port"])
        return NodeResult(output={"port": ELSE_PORT, "label": ELSE_PORT}, port=ELSE_PORT)

    def _matches(self, ctx: NodeContext, branch: dict, path: str) -> bool:
        """Evaluate the branch's conditions lazily: stop as soon as the outcome is known."""
        results = (self._holds(ctx, branch, index, f"{path}.conditions[{index}]")
                   for index in range(len(branch["conditions"])))
        return any(results) if branch.get("match", "all") == "any" else all(results)

    @staticmethod
    def _holds(ctx: NodeContext, branch: dict, index: int, path: str) -> bool:
        condition = branch["conditions"][index]
        operator = condition["operator"]
        value = ctx.render(condition["value"], f"{path}.value")
        compare_to = condition.get("compare_to")
        if compare_to is not None and operator not in UNARY:
            compare_to = ctx.render(compare_to, f"{path}.compare_to")
        try:
            return compare(operator, value, compare_to)
        except NodeError as exc:
            raise NodeError(f"Branch '{branch['port']}', condition {index + 1}: {exc}") from None
