"""Show a stored value (a run's inputs and answer, a step's settings and result, a request body)
as a readable list of name → value pairs instead of JSON.

Why: the people who read the run page do not write code. ``{"text": "hi"}`` reads as code to
them; "text: hi" does not. The exact JSON stays one click away on the page (a collapsed
"Show as JSON"), so this view may simplify: names become labels, yes/no replaces true/false,
"(empty)" replaces "", null, {} and [].

Why the limits: a step's output can be large (an HTTP body, a long list). The readable view is
bounded in depth, in items per list or mapping, in items overall and in characters per text, and
says "… N more" wherever it stops, so no value can make an unbounded page; the JSON has it all.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping

from markupsafe import Markup

MAX_DEPTH = 4  # mappings and lists nested deeper are summarised ("3 fields", see the JSON)
MAX_ITEMS = 30  # entries shown per mapping or list
MAX_TOTAL = 200  # entries shown in the whole value
MAX_CHARS = 2000  # characters shown per text
EMPTY = "(empty)"
_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(value: object, labels: Mapping[str, str] | None = None,
             choices: Mapping[str, Mapping[str, str]] | None = None) -> Markup:
    """Return `value` as escaped HTML: mappings as definition lists, lists as numbered lists.

    `labels` renames the top-level names (a node's settings by the titles its form shows) and
    `choices` the top-level values picked from a list ({"on_error": {"fail": "Stop the run"}});
    names and values they do not cover are shown as they are.
    """
    return _Renderer(labels or {}, choices or {}).value(value, 0)


class _Renderer:
    def __init__(self, labels: Mapping[str, str], choices: Mapping[str, Mapping[str, str]]):
        self.labels, self.choices, self.left = labels, choices, MAX_TOTAL

    def value(self, value: object, depth: int) -> Markup:
        if value is None or value == "" or (isinstance(value, (Mapping, list, tuple)) and not value):
            return Markup('<span class="rv-empty">%s</span>') % EMPTY
        if isinstance(value, bool):
            return Markup('<span class="rv-yesno">%s</span>') % ("yes" if value else "no")
        if isinstance(value, (int, float)):
            return Markup('<span class="rv-number">%s</span>') % _number(value)
        if isinstance(value, Mapping):
            return self._mapping(value, depth)
        if isinstance(value, (list, tuple)):
            return self._list(value, depth)
        return _text(str(value))

    def _mapping(self, mapping: Mapping, depth: int) -> Markup:
        if depth >= MAX_DEPTH:
            return _summary(len(mapping), "field")
        take = self._take(len(mapping))
        if not take:
            return _summary(len(mapping), "field")
        rows = []
        for key, item in itertools.islice(mapping.items(), take):
            label = self.labels.get(key) if depth == 0 and isinstance(key, str) else None
            name = _clean(str(label or key)) or "(no name)"
            term = (Markup('<dt title="%s">%s</dt>') % (_clean(str(key)), name) if label
                    else Markup("<dt>%s</dt>") % name)
            words = self.choices.get(key) if depth == 0 and isinstance(key, str) else None
            if words and isinstance(item, str) and isinstance(words.get(item), str):
                item = words[item]
            rows.append(term + Markup("<dd>%s</dd>") % self.value(item, depth + 1))
        more = _more(len(mapping) - len(rows), "field")
        return Markup('<dl class="readable">%s</dl>%s') % (Markup("").join(rows), more)

    def _list(self, items: list | tuple, depth: int) -> Markup:
        if depth >= MAX_DEPTH:
            return _summary(len(items), "item")
        take = self._take(len(items))
        if not take:
            return _summary(len(items), "item")
        shown = [Markup("<li>%s</li>") % self.value(item, depth + 1) for item in items[:take]]
        more = _more(len(items) - len(shown), "item")
        return Markup('<ol class="readable-list">%s</ol>%s') % (Markup("").join(shown), more)

    def _take(self, count: int) -> int:
        """How many of `count` entries to show, out of what is left of the whole value's budget."""
        taken = max(0, min(count, MAX_ITEMS, self.left))
        self.left -= taken
        return taken


def _number(number: int | float) -> str:
    if isinstance(number, float) and not math.isfinite(number):
        return "not a number" if math.isnan(number) else ("infinity" if number > 0 else "minus infinity")
    try:
        text = str(number)
    except ValueError:  # an integer longer than Python prints (4300 digits)
        return "(a number too long to show; see the JSON)"
    return text if len(text) <= 40 else text[:40] + "…"


def _text(text: str) -> Markup:
    shown = _clean(text[:MAX_CHARS])
    if len(text) <= MAX_CHARS:
        return Markup('<span class="rv-text">%s</span>') % shown
    return Markup('<span class="rv-text">%s</span> %s') % (shown, _more(len(text) - MAX_CHARS, "character"))


def _clean(text: str) -> str:
    """A lone surrogate (valid JSON, "\\ud800") cannot be sent as UTF-8: show the replacement character."""
    return _SURROGATE.sub("\ufffd", text)


def _plural(count: int, noun: str) -> str:
    return noun + ("" if count == 1 else "s")


def _more(count: int, noun: str) -> Markup:
    if count <= 0:
        return Markup("")
    return Markup('<span class="rv-more">… %d more %s (see the JSON)</span>') % (count, _plural(count, noun))


def _summary(count: int, noun: str) -> Markup:
    return Markup('<span class="rv-more">%d %s (see the JSON)</span>') % (count, _plural(count, noun))

