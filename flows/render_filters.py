"""Wrap every Jinja filter so that its arguments are checked before it runs.

The sandbox does not see filter calls (compiled templates call them directly), so each filter
in the environment is replaced by a wrapper that checks the clock, refuses size-like numbers
(`flows.render_checks.check_numbers`), checks that a printed value is not built from huge
shared parts, and applies the filter's own size estimate where its result is a product of
its arguments (a width times the lines, a fill value times the count).
"""

from __future__ import annotations

import functools
import inspect
from itertools import chain
from typing import Any, Callable

from jinja2.filters import make_attrgetter
from jinja2.utils import pass_environment

from flows.render_checks import check_numbers, check_percent, check_replace, materialized, whole_number
from flows.render_limits import check_clock, measure, require

# Filters whose whole-number arguments are values or limits, never sizes.
_VALUE_FILTERS = frozenset({"default", "d", "round", "int", "float", "sum", "format", "groupby", "min", "max",
                            "map", "select", "reject", "selectattr", "rejectattr", "replace", "truncate",
                            "wordwrap", "urlize", "attr", "dictsort", "sort", "unique", "abs", "filesizeformat"})
# Filters that print their value: a value built from shared references is checked before.
_PRINTING_FILTERS = frozenset({"capitalize", "center", "e", "escape", "forceescape", "format", "indent",
                               "lower", "pprint", "replace", "safe", "string", "striptags", "title", "tojson",
                               "trim", "truncate", "upper", "urlencode", "urlize", "wordcount", "wordwrap",
                               "xmlattr"})


def _indent(a: dict) -> None:
    text, width = str(a["value"]), a["width"]
    per_line = whole_number(width) if isinstance(width, int) else len(str(width))
    require(len(text) + (text.count("\n") + 1) * per_line, "'indent'")


def _replace(a: dict) -> None:
    count = a.get("count")
    check_replace(str(a["value"]), str(a["old"]), str(a["new"]), -1 if count is None else count)


def _join(a: dict) -> None:
    a["value"] = items = materialized(a["value"], "'join'")
    require(measure(items) + len(str(a["d"])) * len(items), "'join'")


def _wordwrap(a: dict) -> None:
    text, width = str(a["value"]), whole_number(a["width"])
    wrap = a["wrapstring"]
    lines = len(text) // max(width, 1) + len(text.split()) + 1
    require(len(text) + lines * (1 if wrap is None else len(str(wrap))), "'wordwrap'")


def _urlize(a: dict) -> None:
    text = str(a["value"])
    extra = len(str(a["target"] or "")) + len(str(a["rel"] or "")) + 60
    require(2 * len(text) + len(text.split()) * extra, "'urlize'")


def _fill(count_name: str) -> Callable[[dict], None]:
    def check(a: dict) -> None:
        if a["fill_with"] is not None:
            require(whole_number(a[count_name]) * measure(a["fill_with"]), "the fill value")
    return check


def _tojson(a: dict) -> None:
    indent = a["indent"]
    per_level = 0 if indent is None else whole_number(indent) if isinstance(indent, int) else len(str(indent))
    require(measure(a["value"], indent=per_level), "'tojson'")


def _format(a: dict) -> None:
    params = {k: v for k, v in a.items() if k not in ("value", "args", "kwargs")}
    check_percent(str(a["value"]), params or a["args"])


_FILTER_CHECKS: dict[str, Callable[[dict], None]] = {
    "indent": _indent, "replace": _replace, "join": _join, "wordwrap": _wordwrap, "urlize": _urlize,
    "batch": _fill("linecount"), "slice": _fill("slices"), "tojson": _tojson, "format": _format,
}


@pass_environment
def sequence_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Replace the ``sum`` filter: add up lists in linear time (Python's ``sum`` copies them again and again)."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    if not isinstance(start, (list, tuple)):
        return sum(iterable, start)
    items = materialized(iterable, "'sum'")
    for item in items:
        if type(item) is not type(start):
            raise TypeError(f'can only concatenate {type(start).__name__} (not "{type(item).__name__}") '
                            f'to {type(start).__name__}')
    require(sum(len(item) for item in items) + len(start), "'sum'")
    return type(start)(chain(start, *items))


def wrap_filters(filters: dict) -> None:
    """Replace every filter in `filters` with its checked wrapper (in place)."""
    filters["sum"] = sequence_sum
    for name, func in list(filters.items()):
        filters[name] = _checked_filter(name, func)


def _checked_filter(name: str, func: Callable) -> Callable:
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    names, defaults = _parameters(func)
    check = _FILTER_CHECKS.get(name)
    sizes, prints = name not in _VALUE_FILTERS, name in _PRINTING_FILTERS

    def checked(*args: Any, **kwargs: Any) -> Any:
        check_clock()
        if len(args) > skip:
            if sizes:
                check_numbers(f"'{name}'", (*args[skip + 1:], kwargs))
            if prints:
                require(measure(args[skip]), f"'{name}'")
            if check:
                named = {**defaults, **dict(zip(names, args[skip:])), "args": args[skip + len(names):], **kwargs}
                check(named)
                if named["value"] is not args[skip]:  # the check materialized an iterator
                    args = (*args[:skip], named["value"], *args[skip + 1:])
        return func(*args, **kwargs)

    return functools.update_wrapper(checked, func)


def _parameters(func: Callable) -> tuple[list[str], dict]:
    """Return the filter's parameter names (the value first, called "value") and their defaults.

    Jinja's async-aware filters take the evaluation context although the function they wrap
    (whose signature `inspect` reports) does not; the unwrapped function says which it is.
    """
    skip = 1 if getattr(inspect.unwrap(func), "jinja_pass_arg", None) is not None else 0
    try:
        parameters = list(inspect.signature(func).parameters.values())[skip:]
    except (TypeError, ValueError):  # a builtin such as len or escape
        return ["value"], {}
    names = ["value"] + [p.name for p in parameters[1:] if p.kind is p.POSITIONAL_OR_KEYWORD]
    defaults = {p.name: p.default for p in parameters[1:] if p.default is not p.empty}
    return names, defaults
