"""Compare rendered condition values without evaluating any user-written code.

Condition values come out of templates as text, so every operator works on strings and decides
explicitly when text counts as a number or a boolean. Numbers are compared as decimals, not
floats: ids such as "12345678901234567890" and "12345678901234567891" must not compare equal.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable

from flows.nodes.base import NodeError

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
_FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})


def as_number(text: str) -> Decimal | None:
    """Return `text` as a number when it is one (surrounding spaces allowed), else None."""
    stripped = text.strip()
    return Decimal(stripped) if _NUMBER.fullmatch(stripped) else None


def _equals(value: str, other: str) -> bool:
    left, right = as_number(value), as_number(other)
    if left is not None and right is not None:
        return left == right
    return value == other


def _numbers(operator: str, value: str, other: str) -> tuple[Decimal, Decimal]:
    left, right = as_number(value), as_number(other)
    for side, text, number in (("value", value, left), ("compare-to value", other, right)):
        if number is None:
            raise NodeError(f"'{operator}' compares numbers, but the {side} {text!r} is not a number.")
    return left, right


def _numeric(test: Callable[[Decimal, Decimal], bool], operator: str) -> Callable[[str, str], bool]:
    return lambda value, other: test(*_numbers(operator, value, other))


BINARY: dict[str, Callable[[str, str], bool]] = {
    "equals": _equals,
    "not_equals": lambda value, other: not _equals(value, other),
    "contains": lambda value, other: other in value,
    "not_contains": lambda value, other: other not in value,
    "starts_with": lambda value, other: value.startswith(other),
    "ends_with": lambda value, other: value.endswith(other),
    "greater_than": _numeric(lambda a, b: a > b, "greater_than"),
    "greater_or_equal": _numeric(lambda a, b: a >= b, "greater_or_equal"),
    "less_than": _numeric(lambda a, b: a < b, "less_than"),
    "less_or_equal": _numeric(lambda a, b: a <= b, "less_or_equal"),
}

UNARY: dict[str, Callable[[str], bool]] = {
    "is_empty": lambda value: value.strip() == "",
    "is_not_empty": lambda value: value.strip() != "",
    "is_true": lambda value: value.strip().lower() in _TRUE_WORDS,
    "is_false": lambda value: value.strip().lower() in _FALSE_WORDS,
}

OPERATORS: tuple[str, ...] = tuple(BINARY) + tuple(UNARY)


def compare(operator: str, value: str, compare_to: str | None) -> bool:
    """Apply `operator`; unary operators ignore `compare_to`. Raise NodeError on bad input."""
    if operator in UNARY:
        return UNARY[operator](value)
    if operator not in BINARY:
        raise NodeError(f"Unknown operator '{operator}'.")
    if compare_to is None:
        raise NodeError(f"'{operator}' needs a value to compare to.")
    return BINARY[operator](value, compare_to)
