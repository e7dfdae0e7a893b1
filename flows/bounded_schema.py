"""Check a value against a JSON Schema a flow's author wrote (a trigger's filter), in bounded time.

Why not jsonschema's validator as it comes: it runs `pattern` and `patternProperties` (and,
through them, `additionalProperties` and `unevaluatedProperties`) with Python's `re`, whose
backtracking cannot be interrupted. The filter pattern `(a+)+$` held a web worker for 30 s on a
41-character body until gunicorn killed it, and the other requests it was serving with it. Here:

- those keywords search with the `regex` module, which takes a `timeout=`;
- every keyword checks one clock for the whole check, so no combination of `$ref`, `anyOf`…
  can multiply the work past it;
- `uniqueItems` compares in linear time (jsonschema compares objects pairwise: hours for an
  array of 100,000 objects), and `multipleOf` answers for integers too large for a float
  (jsonschema raised OverflowError).

So a check gives an answer, or gives up with `SchemaTooSlow`, within its budget whatever the
schema and the value. A schema that cannot be applied at all (a reference to nowhere, references
nested past Python's stack) raises `SchemaUnusable`. `flows.filter_checks` refuses such schemas
when a flow is saved; these exceptions are for what was stored before, and for bodies.

Patterns are ECMA-262 in JSON Schema; jsonschema has always run them as Python patterns, and
`regex` reads those the same way (its default VERSION0 mode is `re`-compatible).
"""

from __future__ import annotations

import math
import re
import time
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache
from re import _constants as sre  # the parser's opcodes; `re` compiles every stored pattern (see `_required`)
from re import _parser as sre_parse

import regex
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing.exceptions import Unresolvable

SECONDS = 1.0
# `regex` writes out a pattern's required repetitions when it compiles one: `a{1000000}` took half
# a second and `(?:(?:a{1000}){1000}){1000}` never finished. Compiling cannot be interrupted, so a
# pattern is measured first and refused above this many required characters.
MAX_REQUIRED_CHARACTERS = 10_000
_DEADLINE: ContextVar[float] = ContextVar("bounded_schema_deadline", default=math.inf)


class SchemaTooSlow(Exception):
    """The check ran out of time; `pattern` is the pattern that was searching then, if one was."""

    def __init__(self, pattern: str | None):
        super().__init__(pattern)
        self.pattern = pattern


class SchemaUnusable(Exception):
    """The schema cannot be applied; the message completes "The filter …" in words."""


def first_schema_error(schema: object, instance: object, seconds: float = SECONDS) -> ValidationError | None:
    """Return the error that best says why `instance` fails `schema`, or None when it passes.

    Raises SchemaTooSlow after `seconds` and SchemaUnusable for a schema that cannot be applied.
    """
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        return best_match(_BoundedValidator(schema).iter_errors(instance))
    except RecursionError:
        raise SchemaUnusable("refers to itself (through $ref, allOf, anyOf…) more deeply than can be followed "
                             "on this body") from None
    except Unresolvable as exc:
        raise SchemaUnusable(f"has a $ref that points to nothing in it ({_ref_of(exc)})") from None
    finally:
        _DEADLINE.reset(token)


def pattern_problem(pattern: str) -> str | None:
    """Say why `pattern` cannot be run (the words complete "The filter …"), or None when it can."""
    try:
        _compiled(pattern)
    except SchemaUnusable as exc:
        return str(exc)
    return None


def _ref_of(exc: Unresolvable) -> str:
    ref = getattr(getattr(exc, "_wrapped", exc), "ref", None)
    return repr(ref)[:200] if ref is not None else "a $ref"


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 100 else pattern[:100] + "…")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern:
    try:
        required = _required(sre_parse.parse(pattern))
    except (re.error, RecursionError, OverflowError) as exc:
        raise SchemaUnusable(f"pattern {_shown(pattern)} is not a valid regular expression ({exc})") from None
    if required > MAX_REQUIRED_CHARACTERS:
        raise SchemaUnusable(f"pattern {_shown(pattern)} requires more than {MAX_REQUIRED_CHARACTERS:,} repeated "
                             "characters; use minLength for lengths")
    try:
        return regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        raise SchemaUnusable(f"pattern {_shown(pattern)} is not a valid regular expression ({exc})") from None


def _required(parsed) -> int:
    """How many characters the pattern spells out when compiled: each item once, repeats times their minimum."""
    total = 0
    for op, av in parsed:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            total += max(av[0], 1) * _required(av[2])
        elif op is sre.SUBPATTERN:
            total += _required(av[3])
        elif op is sre.ATOMIC_GROUP:
            total += _required(av)
        elif op is sre.BRANCH:
            total += sum(_required(branch) for branch in av[1])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            total += _required(av[1])
        elif op is sre.GROUPREF_EXISTS:
            total += _required(av[1]) + (_required(av[2]) if av[2] is not None else 0)
        else:
            total += 1
        if total > MAX_REQUIRED_CHARACTERS:
            return total
    return total


def _search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`, within what is left of the check's time."""
    remaining = _DEADLINE.get() - time.monotonic()
    if remaining <= 0:
        raise SchemaTooSlow(pattern)
    try:
        return _compiled(pattern).search(text, timeout=None if math.isinf(remaining) else remaining) is not None
    except TimeoutError:
        raise SchemaTooSlow(pattern) from None


def _tick() -> None:
    if time.monotonic() > _DEADLINE.get():
        raise SchemaTooSlow(None)


# ---- the keywords that differ from jsonschema's ---------------------------------------------------

def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    extras = [key for key in instance if key not in properties and not any(_search(p, key) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        names = ", ".join(repr(key) for key in sorted(extras, key=str))
        if patterns:
            yield ValidationError(f"{names} {'does' if len(extras) == 1 else 'do'} not match any of the regexes: "
                                  f"{', '.join(repr(p) for p in sorted(patterns))}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({names} "
                                  f"{'was' if len(extras) == 1 else 'were'} unexpected)")


def _unevaluated_properties(validator, unevaluated, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    failing = [key for key in instance if key not in evaluated
               and next(validator.descend(instance[key], unevaluated, path=key, schema_path=key), None) is not None]
    if failing:
        names = ", ".join(repr(key) for key in sorted(failing, key=str))
        verb = "was" if len(failing) == 1 else "were"
        yield ValidationError(f"Unevaluated properties are not allowed ({names} {verb} unexpected)"
                              if unevaluated is False else
                              f"Unevaluated properties are not valid under the given schema ({names} {verb} "
                              "unevaluated and invalid)")


def _evaluated_keys(validator, instance: dict, schema) -> set:
    """The keys `schema` evaluates in place: jsonschema's own rule, with bounded pattern searches."""
    _tick()
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set = set()
    for keyword in ("$ref", "$dynamicRef"):
        if (ref := schema.get(keyword)) is not None:
            resolved = validator._resolver.lookup(ref)  # as jsonschema's own helper does
            keys |= _evaluated_keys(validator.evolve(schema=resolved.contents, _resolver=resolved.resolver),
                                    instance, resolved.contents)
    if validator.is_type(properties := schema.get("properties"), "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {key for key, value in instance.items() if next(validator.descend(value, subschema), None) is None}
    for pattern in schema.get("patternProperties", {}):
        keys |= {key for key in instance if _search(pattern, key)}
    for name, subschema in schema.get("dependentSchemas", {}).items():
        if name in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if next(validator.descend(instance, subschema), None) is None:
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _unique_items(validator, unique, instance, schema):
    if unique and validator.is_type(instance, "array"):
        seen: set = set()
        for item in instance:
            _tick()
            key = _comparable(item)
            if key in seen:
                yield ValidationError(f"{instance!r} has non-unique elements")
                return
            seen.add(key)


def _comparable(value: object) -> object:
    """A hashable stand-in equal for values JSON Schema calls equal (1 and 1.0, but not 1 and true)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_comparable(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _comparable(item)) for key, item in value.items()))
    return ("text", value)


_MULTIPLE_OF = Draft202012Validator.VALIDATORS["multipleOf"]


def _multiple_of(validator, divisor, instance, schema):
    try:
        yield from _MULTIPLE_OF(validator, divisor, instance, schema)
    except OverflowError:  # an integer too large for a float divided by a float: decide exactly
        if (Fraction(instance) / Fraction(divisor)).denominator != 1:
            yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _timed(keyword):
    """Check the clock before each keyword, so no schema can run past the check's budget."""
    def check(validator, value, instance, schema):
        _tick()
        return keyword(validator, value, instance, schema)
    return check


_KEYWORDS = {**Draft202012Validator.VALIDATORS, "pattern": _pattern, "patternProperties": _pattern_properties,
             "additionalProperties": _additional_properties, "unevaluatedProperties": _unevaluated_properties,
             "uniqueItems": _unique_items, "multipleOf": _multiple_of}
_BoundedValidator = validators.extend(Draft202012Validator, {name: _timed(fn) for name, fn in _KEYWORDS.items()})
