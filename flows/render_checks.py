"""Refuse template operations whose result would be huge, before Python builds it.

A single builtin can allocate a gigabyte from a short template: ``'x'|center(10**9)``,
``"%0*d" % (10**9, 1)``, ``'{:>999999999}'.format(1)``, ``s|replace('', s)``, ``lipsum(10**9)``.
The sandbox hooks (`flows.templating`) route every method call, filter, global, operator,
``str.format`` field and ``~`` through the checks here, which estimate the size of the result
from the arguments and raise `RenderLimit` with a message naming the operation.

The rule is deny-by-default for sizes: any whole number above `MAX_VALUE_CHARS` passed to a
method or filter is refused, except for the few parameters known to be plain values (a
default, a start index, a count that only limits). Operations whose size is a product (a
width times the number of lines, a replacement times its occurrences, a repetition of shared
values) get their own estimate. What an estimate misses is still bounded by the memory cap in
`flows.render_limits`.
"""

from __future__ import annotations

import re
import string
import types
from typing import Any

from jinja2.utils import generate_lorem_ipsum

from flows.render_limits import MAX_INT_BITS, check_clock, measure, require, size_error

MAX_RANGE = 100_000
# Methods whose whole-number arguments are values or limits, never sizes.
_VALUE_METHODS = frozenset({"get", "find", "rfind", "index", "rindex", "count", "startswith", "endswith",
                            "split", "rsplit", "replace", "format", "format_map", "fromkeys"})
_PERCENT_SPEC = re.compile(r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
                           r"[hlL]?(?P<conv>.)", re.S)
_DIGITS = re.compile(r"\d+")


def whole_number(value: Any) -> int:
    """Return `value` as a whole number when it is one (not a bool), else 0."""
    return abs(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _digits(text: str) -> int:
    """Read a width or precision written in a format; absurdly long ones count as huge."""
    return int(text) if len(text) <= 12 else 10 ** 12


def check_numbers(what: str, values: Any) -> None:
    """Refuse any whole number above the value limit among `values` (one level of nesting)."""
    for value in values:
        nested = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else (value,)
        for item in nested:
            require(whole_number(item), f"{what} with the number {whole_number(item)}")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` whose result would be huge."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int) and count > 0:
                require(measure(seq) * count, "'*' (repetition)")
        if whole_number(left) and whole_number(right):
            _require_bits(left.bit_length() + right.bit_length(), "'*'")
    elif operator == "**":
        if whole_number(left) > 1 and isinstance(right, int) and right > 0:
            _require_bits(abs(left).bit_length() * right, "'**'")
    elif operator == "+":  # lists only count their items: printing or joining them is checked in full
        if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
            require(len(left) + len(right), "'+' (joining)")
        elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            require(2 * (len(left) + len(right)), "'+' (joining)")
    elif operator == "%" and isinstance(left, (str, bytes)):
        check_percent(left, right)


def _require_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise size_error(f"{what} (a number of {bits} bits)", bits * 3 // 10, MAX_INT_BITS * 3 // 10, "digits")


def check_percent(fmt: str | bytes, values: Any) -> None:
    """Refuse ``"%0*d" % (10**9, 1)`` and the like: add up every field's width, precision and value."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    positional = list(values) if isinstance(values, tuple) else [values]
    mapping = values if isinstance(values, dict) else None
    total, index = len(text), 0
    for match in _PERCENT_SPEC.finditer(text):
        if match["conv"] == "%":
            continue
        for part in (match["width"], match["precision"]):
            if part == "*":
                total += whole_number(positional[index]) if index < len(positional) else 0
                index += 1
            elif part:
                total += _digits(part)
        if match["key"] is not None and mapping is not None:
            value = mapping.get(match["key"])
        else:
            value = positional[index] if index < len(positional) else ""
            index += 1
        total += measure(value)
        require(total, "'%' formatting")


def format_spec_size(spec: str) -> int:
    """Return the widths and precisions a ``str.format`` spec asks for (``>{10**9}``, ``.500f``)."""
    return sum(_digits(run) for run in _DIGITS.findall(spec))


class BoundedFormatterMixin(string.Formatter):
    """Add up the size of every ``str.format`` field and refuse the call once it is too large."""

    _total = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._total = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._total += format_spec_size(format_spec) + measure(value)
        require(self._total, "str.format")
        return super().format_field(value, format_spec)


def check_method(method: Any, args: tuple, kwargs: dict) -> tuple:
    """Check a call of a builtin method (``'x'.center(n)``); return the arguments to call it with."""
    receiver = getattr(method, "__self__", None)
    if not isinstance(method, types.BuiltinMethodType) or receiver is None or isinstance(receiver, types.ModuleType):
        return args
    name = method.__name__
    if name not in _VALUE_METHODS:
        check_numbers(f"'{name}'", (*args, kwargs))
    if isinstance(receiver, (str, bytes)):
        if name == "join" and args:
            items = materialized(args[0], f"'{name}'")
            require(measure(items) + len(receiver) * len(items), "'join'")
            return (items, *args[1:])
        if name == "replace" and len(args) >= 2:
            check_replace(receiver, args[0], args[1], args[2] if len(args) > 2 else -1)
        elif name == "expandtabs":
            tabsize = whole_number(args[0] if args else kwargs.get("tabsize", 8))
            require(len(receiver) + receiver.count("\t" if isinstance(receiver, str) else b"\t") * tabsize,
                    "'expandtabs'")
        elif name == "translate" and args and isinstance(args[0], dict):
            widest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
            require(len(receiver) * max(widest, 1), "'translate'")
    return args


def check_result(value: Any) -> Any:
    """Refuse a text longer than the value limit that a call returned (a macro that doubles its input)."""
    if isinstance(value, (str, bytes)):
        require(len(value), "a call")
    return value


def check_replace(text: Any, old: Any, new: Any, count: Any) -> None:
    if not (isinstance(old, type(text)) and isinstance(new, type(text))) or isinstance(text, (list, tuple)):
        return
    occurrences = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    require(len(text) + occurrences * (len(new) - len(old)), "'replace'")


def materialized(iterable: Any, what: str) -> list | tuple:
    """Return `iterable` as a list, checking the clock and the size while it is read."""
    if isinstance(iterable, (list, tuple)):
        return iterable
    items: list = []
    for item in iterable:
        items.append(item)
        if len(items) % 1024 == 0:
            check_clock()
            require(len(items), what)
    return items


def checked_range(*args: int) -> range:
    """Replace ``range``: refuse ranges above MAX_RANGE items with the same message as other limits."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise size_error("range()", len(numbers), MAX_RANGE, "numbers")
    return numbers


def checked_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    """Replace ``lipsum``: refuse a text of more paragraphs or words than the value limit allows."""
    check_numbers("lipsum", (n, min, max))
    require(whole_number(n) * (whole_number(max) + whole_number(min)) * 12, "lipsum")
    return generate_lorem_ipsum(n, html, min, max)


def checked_concat(pieces: Any) -> str:
    """Replace ``environment.concat`` (macro bodies, ``{% set %}`` blocks): check the total first."""
    pieces = list(pieces)
    require(sum(len(piece) for piece in pieces), "the output of a macro or block")
    return "".join(pieces)


def sized_parts(parts: tuple) -> tuple:
    """Check the parts of a ``~`` concatenation before they are converted and joined."""
    require(sum(measure(part) for part in parts), "'~' (joining)")
    return parts
