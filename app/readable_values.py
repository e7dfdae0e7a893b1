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
from collections.abc import Mapping

from markupsafe import Markup

from flows.nodes.schema_parts import ITEM_TITLE
from flows.steps import storable_text

from app.words import moment_words

# Mappings and lists nested deeper are summarised ("3 fields", see the JSON). Five levels reach a
# condition's own settings (Branches › Branch 1 › Conditions › Condition 1 › Test).
MAX_DEPTH = 5
MAX_ITEMS = 30  # entries shown per mapping or list
MAX_TOTAL = 200  # entries shown in the whole value
MAX_CHARS = 2000  # characters shown per text
EMPTY = "(empty)"


def readable(value: object, schema: Mapping | None = None) -> Markup:
    """Return `value` as escaped HTML: mappings as definition lists, lists as numbered lists.

    `schema` (a node's config schema, or a step result's, `flows.available.result_schema`) names the
    values at every level as the form or the picker does: each property by its "title", a picked
    value by its "x-enum-titles", each item of a list by its "x-item-title" ("Branch 1",
    "Condition 2"); the schema is walked alongside the value. Names and values it does not cover are
    shown as they are, except that a text in a property whose "format" is "date-time" is written as
    the page writes times.
    """
    return _Renderer().value(value, 0, schema if isinstance(schema, Mapping) else None)


def _part(schema: Mapping | None, key: str) -> Mapping | None:
    """The sub-schema at `key` of `schema` (None when it says nothing about it), never trusting its shape."""
    part = schema.get(key) if schema is not None else None
    return part if isinstance(part, Mapping) else None


def _property(schema: Mapping | None, key: object) -> tuple[Mapping | None, bool]:
    """The schema of the setting `key` of an object and whether it is the key's own: its own property,
    else the one every extra key of a free-form mapping has (a Reply's Data, HTTP headers). That one's
    title names what all its entries are ("Data field template"), never one entry: those keep their key."""
    properties = _part(schema, "properties")
    if isinstance(key, str) and properties is not None and isinstance(properties.get(key), Mapping):
        return properties[key], True
    return _part(schema, "additionalProperties"), False


def _in_form_order(mapping: Mapping, schema: Mapping | None):
    """The entries in the order the form shows its settings (stored settings come back sorted by key),
    when the schema lists every name; otherwise, or for a huge mapping, as stored."""
    properties = _part(schema, "properties")
    if not properties or len(mapping) > MAX_TOTAL or any(key not in properties for key in mapping):
        return iter(mapping.items())
    place = {name: index for index, name in enumerate(properties)}
    return iter(sorted(mapping.items(), key=lambda entry: place[entry[0]]))


def _words(schema: Mapping | None, name: str) -> str | None:
    word = schema.get(name) if schema is not None else None
    return word if isinstance(word, str) and word else None


class _Renderer:
    def __init__(self):
        self.left = MAX_TOTAL

    def value(self, value: object, depth: int, schema: Mapping | None = None) -> Markup:
        if value is None or value == "" or (isinstance(value, (Mapping, list, tuple)) and not value):
            return Markup('<span class="rv-empty">%s</span>') % EMPTY
        if isinstance(value, bool):
            return Markup('<span class="rv-yesno">%s</span>') % ("yes" if value else "no")
        if isinstance(value, (int, float)):
            return Markup('<span class="rv-number">%s</span>') % _number(value)
        if isinstance(value, Mapping):
            return self._mapping(value, depth, schema)
        if isinstance(value, (list, tuple)):
            return self._list(value, depth, schema)
        titles = _part(schema, "x-enum-titles")  # a picked value, as its drop-down says it
        if titles is not None and isinstance(value, str) and isinstance(titles.get(value), str):
            return _text(titles[value])
        if isinstance(value, str) and _words(schema, "format") == "date-time":  # a time, as the page writes times
            return _text(moment_words(value))
        return _text(str(value))

    def _mapping(self, mapping: Mapping, depth: int, schema: Mapping | None) -> Markup:
        if depth >= MAX_DEPTH:
            return _summary(len(mapping), "field")
        take = self._take(len(mapping))
        if not take:
            return _summary(len(mapping), "field")
        rows = []
        for key, item in itertools.islice(_in_form_order(mapping, schema), take):
            prop, own = _property(schema, key)
            label = _words(prop, "title") if own else None
            name = _clean(str(label or key)) or "(no name)"
            # A nested mapping or list goes under its name, indented, rather than in a further column:
            # two levels of columns left a few letters per line at 1024 px.
            nest = Markup(' class="rv-nest"') if isinstance(item, (Mapping, list, tuple)) and item else Markup("")
            term = (Markup('<dt%s title="%s">%s</dt>') % (nest, _clean(str(key)), name) if label
                    else Markup("<dt%s>%s</dt>") % (nest, name))
            rows.append(term + Markup("<dd%s>%s</dd>") % (nest, self.value(item, depth + 1, prop)))
        more = _more(len(mapping) - len(rows), "field")
        return Markup('<dl class="readable">%s</dl>%s') % (Markup("").join(rows), more)

    def _list(self, items: list | tuple, depth: int, schema: Mapping | None) -> Markup:
        if depth >= MAX_DEPTH:
            return _summary(len(items), "item")
        take = self._take(len(items))
        if not take:
            return _summary(len(items), "item")
        item_schema, noun = _part(schema, "items"), _words(schema, ITEM_TITLE)
        if noun:  # "Branch 1", "Branch 2": each item named as the form's list names it, not a bare number
            shown = [Markup('<li><span class="rv-item-title">%s %d</span>%s</li>')
                     % (noun, index + 1, self.value(item, depth + 1, item_schema))
                     for index, item in enumerate(items[:take])]
        else:
            shown = [Markup("<li>%s</li>") % self.value(item, depth + 1, item_schema) for item in items[:take]]
        more = _more(len(items) - len(shown), "item")
        css = "readable-list titled" if noun else "readable-list"
        return Markup('<ol class="%s">%s</ol>%s') % (css, Markup("").join(shown), more)

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
    """Text a page can carry: a lone surrogate (valid JSON, "\\ud800") cannot be sent as UTF-8, so it
    shows as the replacement character (rows kept before the engine made stored text storable)."""
    return storable_text(text)


def _plural(count: int, noun: str) -> str:
    return noun + ("" if count == 1 else "s")


def _more(count: int, noun: str) -> Markup:
    if count <= 0:
        return Markup("")
    return Markup('<span class="rv-more">… %d more %s (see the JSON)</span>') % (count, _plural(count, noun))


def _summary(count: int, noun: str) -> Markup:
    return Markup('<span class="rv-more">%d %s (see the JSON)</span>') % (count, _plural(count, noun))

