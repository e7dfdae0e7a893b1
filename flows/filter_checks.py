"""Refuse, when a flow is saved, a trigger filter that no request could ever be checked against.

A filter is a JSON Schema the flow's author writes; it is checked on every request to the
trigger (`flows.bounded_schema`). Valid JSON Schema is not enough for that: `{"$ref": "#"}` is
valid and sends the check round in a circle (every request was a 500 RecursionError),
`{"$ref": "#/nope"}` points to nothing, and a pattern may be one the `regex` module cannot
compile, or compile only in minutes. Each is refused here with the reason, so the author fixes
the filter while editing it instead of every caller meeting a broken trigger.

The circle test follows the keywords that look at the same part of the body again (`$ref`,
`$dynamicRef`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`):
a loop through those alone never ends. A loop through `properties`, `items` and the like goes one
level deeper into the body each time, so it ends with the body; that is a recursive schema, and
welcome.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from flows.bounded_schema import pattern_problem

MAX_FILTER_BYTES = 20_000
_SAME_PLACE = {"allOf": list, "anyOf": list, "oneOf": list, "not": dict, "if": dict, "then": dict, "else": dict,
               "dependentSchemas": "map"}
_DEEPER = {"properties": "map", "patternProperties": "map", "additionalProperties": dict, "propertyNames": dict,
           "unevaluatedProperties": dict, "items": dict, "prefixItems": list, "contains": dict,
           "unevaluatedItems": dict, "$defs": "map", "definitions": "map"}
_REFERENCES = ("$ref", "$dynamicRef")


def filter_problem(schema: object) -> str | None:
    """Say what is wrong with a trigger filter, as a sentence for the editor; None when it is usable."""
    if len(str(schema)) > MAX_FILTER_BYTES:
        return f"The filter is larger than {MAX_FILTER_BYTES} characters; keep it to the fields you need to check."
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        return f"The filter is not a valid JSON Schema: {exc.message} (at {where})."
    except RecursionError:  # a pattern of hundreds of nested groups, compiled by the "regex" format check
        return "The filter nests too deeply to be checked; simplify its patterns."
    if _has_remote_ref(schema):
        return "The filter may only use local references ($ref starting with '#'); remote schemas are never fetched."
    problem = _walk(schema)
    return f"The filter {problem}." if problem else None


def _has_remote_ref(value: object) -> bool:
    if isinstance(value, dict):
        if any(isinstance(value.get(key), str) and not value[key].startswith("#") for key in _REFERENCES):
            return True
        return any(_has_remote_ref(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_remote_ref(item) for item in value)
    return False


def _walk(schema: object) -> str | None:
    """Visit every subschema once; return the first unusable pattern, dangling reference or circle."""
    todo = [(schema, Registry().resolver_with_root(DRAFT202012.create_resource(schema)), False)]
    same_place: dict[int, dict[int, str]] = {}  # subschema -> subschemas applied to the same value, by how
    while todo:
        node, resolver, entered = todo.pop()
        if not isinstance(node, dict) or id(node) in same_place:
            continue
        if not entered:  # as jsonschema does on each descent: an `$id` here changes what references mean
            resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
        edges = same_place[id(node)] = {}
        problem = _patterns_problem(node)
        if problem:
            return problem
        for keyword, child, same in _children(node):
            if same and isinstance(child, dict):
                edges.setdefault(id(child), keyword)
            todo.append((child, resolver, False))
        for keyword in _REFERENCES:
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable:
                return f"has a {keyword} that points to nothing in it ({ref!r})"
            if isinstance(resolved.contents, dict):
                edges.setdefault(id(resolved.contents), f"{keyword} {ref!r}")
            todo.append((resolved.contents, resolved.resolver, True))
    return _circle(same_place)


def _children(node: dict):
    """Yield (keyword, subschema, whether it applies to the same value as `node`)."""
    for table, in_place in ((_SAME_PLACE, True), (_DEEPER, False)):
        for keyword, shape in table.items():
            value = node.get(keyword)
            same = in_place and (keyword not in ("then", "else") or "if" in node)  # alone, they are never applied
            if shape == "map" and isinstance(value, dict):
                yield from ((keyword, child, same) for child in value.values())
            elif shape is list and isinstance(value, list):
                yield from ((keyword, child, same) for child in value)
            elif shape is dict and isinstance(value, (dict, bool)):
                yield keyword, value, same


def _patterns_problem(node: dict) -> str | None:
    patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
    patterns += list(node["patternProperties"]) if isinstance(node.get("patternProperties"), dict) else []
    for pattern in patterns:
        problem = pattern_problem(pattern)
        if problem:
            return problem
    return None


def _circle(same_place: dict[int, dict[int, str]]) -> str | None:
    try:
        TopologicalSorter({node: set(targets) for node, targets in same_place.items()}).prepare()
    except CycleError as exc:
        cycle = exc.args[1][::-1]  # the sorter lists a cycle against the direction of our edges
        steps = [same_place.get(a, {}).get(b) or same_place.get(b, {}).get(a) for a, b in zip(cycle, cycle[1:])]
        return (f"refers back to itself ({' → '.join(step for step in steps if step)}) without looking any "
                "deeper into the body, so checking a request against it would never end")
    return None
