"""A stored value read as name → value pairs (app.readable_values): what the run page shows
instead of JSON. Parsed back with the standard HTML parser, as text a person would read."""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser

from app.readable_values import MAX_CHARS, MAX_DEPTH, MAX_ITEMS, MAX_TOTAL, readable


class _Tree(HTMLParser):
    """The rendered HTML as nested (tag, children) tuples and text, to check its structure."""

    def __init__(self):
        super().__init__()
        self.root: list = []
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = (tag, dict(attrs), [])
        self.stack[-1].append(node)
        self.stack.append(node[2])

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].append(data)


def tree(html) -> list:
    parser = _Tree()
    parser.feed(str(html))
    parser.close()
    assert parser.stack == [parser.root], "every element is closed"
    return parser.root


def text(nodes) -> str:
    return "".join(n if isinstance(n, str) else text(n[2]) for n in nodes)


def pairs(nodes) -> list[tuple[str, str]]:
    """The (name, value text) pairs of the first definition list."""
    dl = next(n for n in nodes if not isinstance(n, str) and n[0] == "dl")
    items = dl[2]
    return [(text(items[i][2]), text(items[i + 1][2])) for i in range(0, len(items), 2)]


def count(nodes, tag) -> int:
    return sum((1 if n[0] == tag else 0) + count(n[2], tag) for n in nodes if not isinstance(n, str))


def test_a_mapping_reads_as_names_and_plain_values():
    shown = tree(readable({"text": "hi", "count": 3, "price": 2.5, "urgent": True, "done": False}))
    assert pairs(shown) == [("text", "hi"), ("count", "3"), ("price", "2.5"), ("urgent", "yes"), ("done", "no")]
    assert "{" not in text(shown) and '"' not in text(shown)


def test_empty_values_say_so():
    shown = tree(readable({"a": "", "b": None, "c": {}, "d": []}))
    assert pairs(shown) == [("a", "(empty)"), ("b", "(empty)"), ("c", "(empty)"), ("d", "(empty)")]
    assert text(tree(readable({}))) == "(empty)"


def test_nested_mappings_and_lists_are_nested_lists():
    shown = tree(readable({"order": {"id": 7, "items": ["tea", {"name": "cake", "qty": 2}]}}))
    assert count(shown, "dl") == 3 and count(shown, "ol") == 1 and count(shown, "li") == 2
    order = pairs(shown)[0]
    assert order[0] == "order" and "tea" in order[1] and "cake" in order[1]


def test_labels_rename_the_top_level_names_only_and_keep_the_name_as_a_hint():
    html = str(readable({"template": "Hi {{ inputs.name }}", "nested": {"template": 1}},
                        {"properties": {"template": {"title": "Text"}}}))
    shown = tree(html)
    assert [name for name, _ in pairs(shown)] == ["Text", "nested"]
    assert 'title="template"' in html and "<dt>template</dt>" in html  # the nested one keeps its name


def test_choices_say_a_picked_setting_as_its_form_does():
    shown = tree(readable({"on_error": "fail", "other": "fail", "odd": 5, "nested": {"on_error": "fail"}},
                          {"properties": {"on_error": {"title": "When it fails", "x-enum-titles": {"fail": "Stop the run"}},
                                          "odd": {"x-enum-titles": {"5": "five"}}}}))
    assert pairs(shown)[:3] == [("When it fails", "Stop the run"), ("other", "fail"), ("odd", "5")]
    assert "fail" in pairs(shown)[3][1]  # only the top level is a setting


def test_html_in_names_and_values_is_escaped():
    html = str(readable({"<b>name</b>": "<script>alert(1)</script>", "x": ["<img src=x onerror=alert(1)>"]},
                        {"properties": {"x": {"title": "<i>label</i>"}}}))
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert pairs(tree(html))[0] == ("<b>name</b>", "<script>alert(1)</script>")


def test_a_wide_mapping_and_a_long_list_stop_and_say_how_many_more():
    wide = tree(readable({f"k{i}": i for i in range(100_000)}))
    assert len(pairs(wide)) == MAX_ITEMS
    assert f"… {100_000 - MAX_ITEMS} more fields" in text(wide)
    long = tree(readable(list(range(1000))))
    assert count(long, "li") == MAX_ITEMS and f"… {1000 - MAX_ITEMS} more items" in text(long)


def test_the_whole_value_is_bounded_however_it_is_shaped():
    grid = {f"row{i}": {f"col{j}": "x" * 10 for j in range(100)} for i in range(100)}
    html = str(readable(grid))
    assert count(tree(html), "dd") <= MAX_TOTAL
    assert len(html) < 40_000 and "more fields" in html


def test_a_deep_value_is_summarised_below_the_depth_limit():
    deep: object = "bottom"
    for _ in range(10_000):  # deeper than Python's recursion limit
        deep = {"a": [deep]}
    shown = tree(readable(deep))
    assert count(shown, "dl") + count(shown, "ol") == MAX_DEPTH
    assert "(see the JSON)" in text(shown) and "bottom" not in text(shown)


def test_long_text_is_cut_and_says_how_much_is_left():
    name, shown = pairs(tree(readable({"answer": "y" * (MAX_CHARS + 500)})))[0]
    assert shown.count("y") == MAX_CHARS
    assert "… 500 more characters" in shown


def test_numbers_read_plainly_whatever_their_size():
    assert text(tree(readable(10 ** 30))) == "1000000000000000000000000000000"
    assert text(tree(readable(float("inf")))) == "infinity"
    assert text(tree(readable(float("nan")))) == "not a number"
    assert text(tree(readable(1e300))) == "1e+300"
    assert text(tree(readable(0))) == "0"  # zero is a value, not "(empty)"


def test_lone_surrogates_become_the_replacement_character():
    value = json.loads('{"\\ud800name": "a\\udfffb"}')
    html = str(readable(value))
    html.encode("utf-8")  # the page can be sent
    assert pairs(tree(html)) == [("\ufffdname", "a\ufffdb")]


def test_a_huge_value_renders_quickly():
    huge = {"list": list(range(1_000_000)), "text": "z" * 5_000_000}
    started = time.monotonic()
    html = str(readable(huge))
    assert time.monotonic() - started < 2 and len(html) < 20_000


# ---- a node's settings read through its config schema, at every level ----------------------------

def _setting(shown, *names):
    """The text shown for the setting reached by following `names` (labels) down nested lists."""
    nodes = shown
    for name in names:
        dl = next(n for n in _walk(nodes) if n[0] == "dl")
        items = dl[2]
        found = [items[i + 1][2] for i in range(0, len(items), 2) if text(items[i][2]) == name]
        assert found, (name, [text(items[i][2]) for i in range(0, len(items), 2)])
        nodes = found[0]
    return text(nodes)


def _walk(nodes):
    for n in nodes:
        if not isinstance(n, str):
            yield n
            yield from _walk(n[2])


def test_nested_settings_read_as_their_form_names_them():
    import flows

    schema = flows.registry.get("condition").config_schema
    value = {"branches": [{"port": "yes", "label": "Yes", "match": "any", "conditions": [
        {"value": "{{ inputs.message }}", "operator": "contains", "compare_to": "status"},
        {"value": "x", "operator": "is_empty"}]}], "retry": {"attempts": 3, "backoff_seconds": 2}, "on_error": "port"}
    stored = dict(sorted(value.items()))  # a step's settings come back from the database sorted by key
    html = str(readable(stored, schema=schema))
    shown = tree(html)
    assert [name for name, _ in pairs(shown)] == ["Branches", "Retry", "When it fails"]  # the form's order
    assert _setting(shown, "Retry", "Attempts") == "3"
    assert _setting(shown, "Retry", "Wait between attempts (seconds)") == "2"
    assert _setting(shown, "When it fails") == "Continue from the error port"
    branches = _setting(shown, "Branches")
    assert branches.startswith("Branch 1") and "Condition 1" in branches and "Condition 2" in branches
    assert _setting(shown, "Branches", "Match") == "Any one condition"
    assert _setting(shown, "Branches", "Conditions", "Test") == "contains"
    assert "is empty" in _setting(shown, "Branches", "Conditions")
    assert "Compare to" in branches and "Value" in branches
    visible = text(shown)
    for raw in ("operator", "compare_to", "backoff_seconds", "is_empty", "on_error"):
        assert raw not in visible, raw
    assert 'title="operator"' in html  # the key stays a hover hint


def test_settings_the_schema_does_not_know_are_shown_as_they_are():
    schema = {"properties": {"known": {"title": "Known", "properties": {"a": {"title": "A"}}},
                             "headers": {"additionalProperties": {"type": "string"}},
                             "pick": {"x-enum-titles": {"x": "Ex"}}, "odd": {"title": 5, "properties": []}}}
    shown = tree(readable({"known": {"a": 1, "b": 2}, "headers": {"X-Key": "v"}, "extra": {"a": 1},
                           "pick": ["x", "y"], "odd": {"k": "x"}}, schema=schema))
    assert [name for name, _ in pairs(shown)] == ["Known", "headers", "extra", "pick", "odd"]
    assert _setting(shown, "Known", "A") == "1" and _setting(shown, "Known", "b") == "2"
    assert _setting(shown, "headers", "X-Key") == "v" and _setting(shown, "extra", "a") == "1"
    assert _setting(shown, "odd", "k") == "x"  # a malformed schema part is ignored, not trusted


def test_a_schema_does_not_lift_the_bounds():
    schema = {"properties": {"list": {"x-item-title": "Entry", "items": {"properties": {"a": {"title": "A"}}}}}}
    html = str(readable({"list": [{"a": i} for i in range(10_000)]}, schema=schema))
    shown = tree(html)
    assert count(shown, "li") == MAX_ITEMS and f"… {10_000 - MAX_ITEMS} more items" in text(shown)
    assert "Entry 1" in text(shown) and f"Entry {MAX_ITEMS + 1}" not in text(shown)
    deep: object = "bottom"
    for _ in range(1000):
        deep = {"a": [deep]}
    recursive = {"properties": {}, "items": {}}
    recursive["properties"]["a"] = recursive
    recursive["items"] = recursive
    nested = tree(readable(deep, schema=recursive))
    assert count(nested, "dl") + count(nested, "ol") == MAX_DEPTH and "bottom" not in text(nested)


def test_entries_of_a_free_form_mapping_keep_their_own_names():
    """A Reply's Data: the schema's title for every extra field ("Data field template") names none of them."""
    import flows

    schema = flows.registry.get("reply").config_schema
    shown = tree(readable({"text": "hi", "data": {"order_id": "{{ x }}", "status": "packed"}}, schema=schema))
    data = _setting(shown, "Data")
    assert "Data field template" not in text(shown) and "order_id" in data and "status" in data
    assert _setting(shown, "Data", "order_id") == "{{ x }}" and _setting(shown, "Data", "status") == "packed"


def test_a_time_reads_as_the_page_writes_times_only_where_the_schema_says_it_is_one():
    schema = {"properties": {"received_at": {"title": "Received", "format": "date-time"},
                             "odd": {"format": "date-time"}}}
    shown = tree(readable({"received_at": "2026-12-01T10:53:16.026123+00:00", "odd": "soon",
                           "note": "2026-12-01T10:53:16+00:00"}, schema=schema))
    assert _setting(shown, "Received") == "2026-12-01 10:53:16.026 UTC"
    assert _setting(shown, "odd") == "soon"  # not a time after all: shown as it is
    assert _setting(shown, "note") == "2026-12-01T10:53:16+00:00"  # a caller's text, not known to be a time


def test_a_nested_mapping_or_list_is_marked_to_sit_under_its_name():
    html = str(readable({"a": 1, "b": {"c": 2}, "d": [1], "e": {}}))
    assert '<dt>a</dt><dd><span class="rv-number">1</span></dd>' in html
    assert '<dt class="rv-nest">b</dt><dd class="rv-nest"><dl' in html and '<dt class="rv-nest">d</dt>' in html
    assert "<dt>e</dt>" in html  # "(empty)" fits on its name's line
