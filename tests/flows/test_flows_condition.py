"""The condition node: operators, branch order, match all/any, and clear failures."""

from __future__ import annotations

import pytest

from flows import NodeContext, NodeError, registry
from flows.nodes.operators import OPERATORS

CONDITION = registry.get("condition")


def _route(branches: list[dict], inputs: dict | None = None):
    ctx = NodeContext(node={"id": "route", "type": "condition"}, config=CONDITION.effective_config({"branches": branches}),
                      payload={}, inputs=inputs or {})
    return CONDITION.run(ctx)


def _single(value: str, operator: str, compare_to: str | None = None) -> str:
    condition = {"value": value, "operator": operator}
    if compare_to is not None:
        condition["compare_to"] = compare_to
    return _route([{"port": "yes", "conditions": [condition]}]).port


OPERATOR_TABLE = [
    # operator, value, compare_to, matches
    ("equals", "abc", "abc", True),
    ("equals", "abc", "ABC", False),
    ("equals", "1.0", "1", True),  # both numbers: compared as numbers
    ("equals", " 2 ", "2", True),
    ("equals", "12345678901234567890", "12345678901234567891", False),  # no float rounding
    ("equals", "1.0", "one", False),
    ("equals", "", "", True),
    ("not_equals", "abc", "abd", True),
    ("not_equals", "10", "1e1", False),
    ("contains", "server status please", "status", True),
    ("contains", "server", "status", False),
    ("not_contains", "server", "status", True),
    ("not_contains", "status", "status", False),
    ("starts_with", "status of db", "status", True),
    ("starts_with", "db status", "status", False),
    ("ends_with", "db status", "status", True),
    ("ends_with", "status of db", "status", False),
    ("greater_than", "10", "9", True),
    ("greater_than", "9", "10", False),  # numbers, not text order
    ("greater_than", "-1.5", "-2", True),
    ("greater_or_equal", "3", "3.0", True),
    ("greater_or_equal", "2.99", "3", False),
    ("less_than", "2", "10", True),
    ("less_than", "1e3", "999", False),
    ("less_or_equal", "4", "4", True),
    ("less_or_equal", "4.01", "4", False),
    ("is_empty", "", None, True),
    ("is_empty", "   ", None, True),
    ("is_empty", "x", None, False),
    ("is_not_empty", "x", None, True),
    ("is_not_empty", " ", None, False),
    ("is_true", "TRUE", None, True),
    ("is_true", " yes ", None, True),
    ("is_true", "1", None, True),
    ("is_true", "On", None, True),
    ("is_true", "maybe", None, False),
    ("is_false", "False", None, True),
    ("is_false", "no", None, True),
    ("is_false", "0", None, True),
    ("is_false", "off", None, True),
    ("is_false", "", None, True),
    ("is_false", "maybe", None, False),
]


def test_table_covers_every_operator():
    assert {row[0] for row in OPERATOR_TABLE} == set(OPERATORS)


@pytest.mark.parametrize(("operator", "value", "compare_to", "matches"), OPERATOR_TABLE)
def test_operator(operator, value, compare_to, matches):
    assert _single(value, operator, compare_to) == ("yes" if matches else "else")


def test_unary_operators_ignore_compare_to():
    assert _single("", "is_empty", "{{ undefined_variable }}") == "yes"


@pytest.mark.parametrize(("value", "compare_to", "side"), [
    ("many", "10", "the value 'many'"),
    ("10", "ten", "the compare-to value 'ten'"),
    ("", "1", "the value ''"),
])
def test_numeric_operators_fail_on_text(value, compare_to, side):
    with pytest.raises(NodeError) as info:
        _single(value, "less_than", compare_to)

    assert str(info.value) == f"Branch 'yes', condition 1: 'less_than' compares numbers, but {side} is not a number."


def test_values_are_templates():
    branches = [{"port": "db", "conditions": [
        {"value": "{{ inputs.service }}", "operator": "equals", "compare_to": "{{ 'd' ~ 'b' }}"}]}]

    assert _route(branches, {"service": "db"}).output == {"port": "db", "label": "db"}


def test_first_matching_branch_wins_and_label_is_reported():
    branches = [
        {"port": "never", "label": "Never", "conditions": [{"value": "a", "operator": "equals", "compare_to": "b"}]},
        {"port": "first", "label": "First", "conditions": [{"value": "x", "operator": "is_not_empty"}]},
        {"port": "second", "label": "Second", "conditions": [{"value": "x", "operator": "is_not_empty"}]},
    ]

    result = _route(branches)

    assert (result.port, result.output) == ("first", {"port": "first", "label": "First"})


def test_no_match_takes_else():
    result = _route([{"port": "yes", "conditions": [{"value": "", "operator": "is_not_empty"}]}])

    assert (result.port, result.output) == ("else", {"port": "else", "label": "else"})


@pytest.mark.parametrize(("match", "port"), [("all", "else"), ("any", "yes")])
def test_match_all_or_any(match, port):
    conditions = [{"value": "a", "operator": "is_not_empty"}, {"value": "", "operator": "is_not_empty"}]

    assert _route([{"port": "yes", "match": match, "conditions": conditions}]).port == port


def test_match_any_stops_at_the_first_true_condition():
    conditions = [{"value": "a", "operator": "is_not_empty"},
                  {"value": "{{ inputs.not_declared }}", "operator": "is_not_empty"}]

    assert _route([{"port": "yes", "match": "any", "conditions": conditions}]).port == "yes"


def test_output_ports_follow_the_branches():
    config = {"branches": [{"port": "a", "conditions": []}, {"port": "b", "conditions": []}]}

    assert CONDITION.output_ports(config) == ["a", "b", "else"]


def test_ports_are_named_for_people_as_the_form_names_them():
    """The run page's Port column: a branch by its label, a switch case by its value, not "case_1"."""
    from flows import registry

    condition, switch, template = registry.get("condition"), registry.get("switch"), registry.get("template")
    config = {"branches": [{"port": "yes", "label": "Asks for status"}, {"port": "b2", "label": "  "}]}
    assert condition.port_label(config, "yes") == "Asks for status"
    assert condition.port_label(config, "b2") == "b2"  # no label: the port name is all there is
    assert condition.port_label(config, "else") == "else (no branch matched)"
    assert condition.port_label(config, "error") == "Error path"
    assert condition.port_label({"branches": "broken"}, "yes") == "yes"  # an old version's odd config
    cases = {"cases": [{"port": "case_1", "equals": "billing"}, {"port": "case_2", "equals": ""}]}
    assert switch.port_label(cases, "case_1") == 'is "billing"'
    assert switch.port_label(cases, "case_2") == "is empty"
    assert switch.port_label(cases, "default") == "default (no case matched)"
    assert switch.port_label(None, "case_9") == "case_9"
    assert template.port_label({}, "out") == ""
    assert template.port_label({}, "error") == "Error path"
