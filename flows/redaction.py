"""Blank out credential secrets from anything the runner stores (step outputs and errors).

Why here and not in each node: a node cannot know what a remote server echoes back (an HTTP
endpoint that returns the request's headers, an error page quoting the token), so the runner
replaces every secret a node was given, wherever it appears, before the step is recorded.

A server rarely echoes a secret verbatim: a query string percent-encodes it (upper or lower
case hex, ``+`` for a space, any subset of the characters), a JSON body may escape any
character as ``\\u00xx`` (or ``\\/``), doubling the backslashes when JSON is quoted in JSON, and a Basic ``Authorization`` header carries
``base64(user:password)``. Each secret is therefore matched in all of those spellings: one
pattern accepts every character of the secret literally, percent-encoded or JSON-escaped,
and the base64 forms (standard and URL-safe, with or without padding, and at each of the
three alignments the secret can have inside a longer encoded text) are matched as well.

A text that is shown while it arrives (an LLM's answer, token by token) goes through
`StreamRedactor`: a secret split over two pieces must not leak its first half, so the redactor
holds back the end of what it has seen only while that end could still grow into a secret.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Any

import regex

MASK = "[redacted]"
_MIN_BASE64_FRAGMENT = 4
# A base64 spelling found whole may still grow by its last character and two "=" of padding.
_BASE64_TAIL = 3
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t"}


def redact(value: Any, secrets: set[str] | frozenset[str]) -> Any:
    """Return `value` with every spelling of each secret replaced by MASK (strings, keys, nesting)."""
    if not secrets:
        return value
    pattern = _pattern(frozenset(s for s in secrets if s))
    return _walk(value, pattern) if pattern is not None else value


class StreamRedactor:
    """Redact a text that arrives in pieces, passing on at once everything that cannot be a secret.

    Why the `regex` module: its partial matching says where the end of the text seen so far could
    still be the start of a secret's spelling, so only that much waits for the next piece (usually
    nothing, or a few characters); a fixed window as long as the longest spelling would hold back
    hundreds of characters of every answer. The pieces passed on, joined, read as `redact` reads the
    whole text.
    """

    def __init__(self, secrets: set[str] | frozenset[str]):
        plain = _pattern(frozenset(s for s in secrets if s)) if secrets else None
        self._pattern = _partial_pattern(plain.pattern) if plain is not None else None
        self._held = ""

    def feed(self, piece: str) -> str:
        """Return what of `piece` (after anything held back) can be shown now, secrets masked."""
        if self._pattern is None:
            return piece
        text, shown, position = self._held + piece, [], 0
        self._held = ""
        for match in self._pattern.finditer(text, partial=True):
            shown.append(text[position:match.start()])
            if match.partial or len(text) - match.end() <= _BASE64_TAIL:  # may yet grow: wait for more
                self._held, position = text[match.start():], len(text)
                break
            shown.append(MASK)
            position = match.end()
        shown.append(text[position:])
        return "".join(shown)

    def flush(self) -> str:
        """Return what was held back, now that the text has ended, masked as `redact` would mask it."""
        held, self._held = self._held, ""
        return self._pattern.sub(MASK, held) if held and self._pattern is not None else held


@lru_cache(maxsize=64)
def _partial_pattern(source: str) -> regex.Pattern:
    return regex.compile(source)


def _walk(value: Any, pattern: re.Pattern) -> Any:
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, dict):
        return {_walk(key, pattern): _walk(item, pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, pattern) for item in value]
    return value


@lru_cache(maxsize=256)
def _pattern(secrets: frozenset[str]) -> re.Pattern | None:
    """Compile one pattern matching every spelling of every secret, longest alternatives first."""
    alternatives: set[str] = set()
    for secret in secrets:
        alternatives.add(_spelled(secret))
        alternatives.update(re.escape(form) for form in base64_forms(secret))
    if not alternatives:
        return None
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)))


def _spelled(secret: str) -> str:
    """Return a pattern for `secret` with each character literal, percent-encoded or JSON-escaped."""
    return "".join(_character(char) for char in secret)


def _character(char: str) -> str:
    """Match `char` literally, percent-encoded (either hex case), or JSON-escaped at any nesting depth."""
    forms = [re.escape(char), "(?i:" + "".join(f"%{byte:02x}" for byte in char.encode("utf-8")) + ")"]
    code = ord(char)
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        code -= 0x10000
        forms.append(f"(?i:\\\\+u{0xD800 + (code >> 10):04x}\\\\+u{0xDC00 + (code & 0x3FF):04x})")
    else:
        forms.append(f"(?i:\\\\+u{code:04x})")
    if char == " ":
        forms.append(r"\+")
    if char in _JSON_SHORT:  # one backslash per level of JSON that quotes the secret
        forms.append(r"\\+" + re.escape(_JSON_SHORT[char][1:]) if char != "\\" else r"\\+")
    return "(?:" + "|".join(forms) + ")"


def base64_forms(secret: str) -> set[str]:
    """Return the base64 spellings of `secret`, alone or as part of a longer encoded text.

    Alone: standard and URL-safe alphabets, with and without padding. Inside a longer text
    (``base64("robot:" + password)``) the secret's encoding depends on its offset modulo 3;
    for each offset, the characters that depend on the secret alone are kept.
    """
    raw = secret.encode("utf-8")
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update((whole, whole.rstrip("=")))
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
            start, end = -(-4 * offset // 3), (offset + len(raw)) * 8 // 6
            if end - start >= _MIN_BASE64_FRAGMENT:
                forms.add(encoded[start:end])
    return forms
