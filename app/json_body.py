"""Parse a request body as one JSON object, the same way at every endpoint that takes a body.

Why one parser: every door (REST triggers, the management API, the OpenAI-compatible API) must
refuse the same hostile input with the same clear 400, and must accept the same good input
whatever its Content-Type says (`curl -d` sends a JSON body labelled as a form). Python's `json`
accepts more than JSON and more than we can keep: NaN and Infinity, integers too long to turn
back into text (a ValueError deep inside a later `json.dumps`), lone UTF-16 surrogates that no
UTF-8 encoder can write, NUL characters PostgreSQL refuses, and nesting deep enough to exhaust the
stack. Each is refused here, once, with a message that names the problem.

Error lists are capped too (`listed`, `abridged_details`): a body with 20,000 unknown fields gets the first
few names and the count, not a 4 MB answer. And every name or value a refusal quotes is abridged
(`abridged`, `quoted`): a 900,000-character key is named by its first characters and its length,
so the answer stays small and the message still says what is wrong with it.
"""

from __future__ import annotations

import json
import math

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 1000
LIST_LIMIT = 20
# How much of a name or value a refusal quotes; longer ones get "…" and their length.
ABRIDGE_CHARS = 60


class BodyError(Exception):
    """A body the caller must fix: `code` for programs, `message` for people, `details` per field."""

    def __init__(self, code: str, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def parse_json_object(raw: bytes) -> dict:
    """Parse the raw body as a JSON object; an empty body is an empty object."""
    if not raw.strip():
        return {}
    value = _loads(raw)
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
        raise BodyError("invalid_body", f"The body must be a JSON object ({{...}}), not {kind}.")
    try:
        _check_storable(value, 0)
    except BodyError as exc:
        where = _bad_text_at(value, "", 0) if exc.code == "invalid_text" else None
        if where is None:
            raise
        raise BodyError(exc.code, f"{exc.message} (in {abridged(where)})",
                        [{"field": abridged(where), "reason": exc.message}]) from None
    return value


def parse_json_value(raw: str) -> object:
    """Parse one JSON value typed by a person (a Run-now form field) under the body's rules."""
    value = _loads(raw.encode("utf-8", "surrogatepass"))
    _check_storable(value, 0)
    return value


def _bad_text_at(value, path: str, depth: int) -> str | None:
    """The field path (`name`, `document.nodes.0.id`) of the first text no column can keep, to name it.

    Only walked after a refusal, so good bodies never pay for building paths.
    """
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and not _storable_text(key):
            return f"a field name in {path}" if path else "a field name"
        if isinstance(item, str) and not _storable_text(item):
            return here
        found = _bad_text_at(item, here, depth + 1) if depth < MAX_DEPTH else None
        if found is not None:
            return found
    return None


def _storable_text(text: str) -> bool:
    try:
        _check_text(text)
    except BodyError:
        return False
    return True


def _loads(raw: bytes):
    try:
        return json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise BodyError("invalid_json", "The body is not valid JSON: it is not UTF-8 text.") from None
    except RecursionError:
        raise BodyError("invalid_json", f"The body is nested more than {MAX_DEPTH} levels deep.") from None
    except json.JSONDecodeError as exc:
        raise BodyError("invalid_json",
                        f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None


def _check_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise BodyError("invalid_number", f"A number in the body is {len(text)} characters long; "
                        f"at most {MAX_NUMBER_CHARS} are accepted. Send long numbers as strings.")


def _parse_int(text: str) -> int:
    _check_length(text)
    return int(text)


def _parse_float(text: str) -> float:
    _check_length(text)
    value = float(text)
    if not math.isfinite(value):
        raise BodyError("invalid_number", f"The number {text[:40]} is too large for a JSON number "
                        "(the limit is about 1.8e308). Send it as a string.")
    return value


def _refuse_constant(name: str):
    raise BodyError("invalid_number", f"{name} is not a JSON number; send a finite number, or null.")


def _check_storable(value, depth: int) -> None:
    """Refuse what no database column can keep: NUL, lone surrogates, and absurd nesting."""
    if isinstance(value, str):
        _check_text(value)
        return
    if depth > MAX_DEPTH:
        raise BodyError("invalid_json", f"The body is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)


def _check_text(text: str) -> None:
    if text.isascii():
        if "\x00" in text:
            raise BodyError("invalid_text", "Text in the body must not contain the NUL character (\\u0000).")
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code_point = ord(text[exc.start])
        raise BodyError("invalid_text", f"Text in the body contains a lone surrogate (\\u{code_point:04x}), which is "
                        "not a character; send UTF-8 text or a surrogate pair.") from None
    if "\x00" in text:
        raise BodyError("invalid_text", "Text in the body must not contain the NUL character (\\u0000).")


def abridged(text: object, limit: int = ABRIDGE_CHARS) -> str:
    """A name or value as a refusal shows it: whole when short, else its start, "…" and its length.

    Why: refusals name what the caller sent, and what they sent may be a 900,000-character key.
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(text: object, limit: int = ABRIDGE_CHARS) -> str:
    """A name or value in double quotes for a message: `"colour"`, or `"kkkk…" (900,000 characters)`."""
    text = str(text)
    if len(text) <= limit:
        return f'"{text}"'
    return f'"{text[:limit]}…" ({len(text):,} characters)'


def listed(names, limit: int = LIST_LIMIT) -> str:
    """Join the first `limit` names (each abridged) for a message, and say how many more there are."""
    names = list(names)
    shown = ", ".join(abridged(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def abridged_details(details):
    """A refusal's `details`, capped to `LIST_LIMIT` entries, every text in them abridged.

    Applied to every JSON error answer (`app.errors.error_response`), so no endpoint can echo a
    huge field name or value through its details, whichever code path built them.
    """
    if isinstance(details, list):
        return [_abridged_detail(item) for item in details[:LIST_LIMIT]]
    return _abridged_detail(details)


# Detail entries that name what was sent are abridged at a length no real name or settings path
# reaches (the canvas matches a problem's `path` to its field, so a real one must stay whole);
# other texts (a problem's message, a reason) only when absurdly long, so an explanation is never cut.
_NAMING_KEYS = frozenset({"field", "param", "node_id", "edge_id", "path"})
_NAMING_CHARS = 200
_DETAIL_TEXT_CHARS = 1000


def _abridged_detail(item, limit: int = _DETAIL_TEXT_CHARS):
    if isinstance(item, str):
        return abridged(item, limit)
    if isinstance(item, dict):
        return {abridged(key): _abridged_detail(value, _NAMING_CHARS if key in _NAMING_KEYS else _DETAIL_TEXT_CHARS)
                for key, value in item.items()}
    if isinstance(item, list):
        return [_abridged_detail(value) for value in item[:LIST_LIMIT]]
    return item
