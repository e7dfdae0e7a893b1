"""Blank out credential secrets from anything the runner stores (step outputs and errors).

Why here and not in each node: a node cannot know what a remote server echoes back (an HTTP
endpoint that returns the request's headers, an error page quoting the token), so the runner
replaces every secret a node was given, wherever it appears, before the step is recorded.
"""

from __future__ import annotations

from typing import Any

MASK = "[redacted]"


def redact(value: Any, secrets: set[str] | frozenset[str]) -> Any:
    """Return `value` with every occurrence of each secret replaced by MASK (strings, keys, nesting)."""
    if not secrets:
        return value
    ordered = sorted((s for s in secrets if s), key=len, reverse=True)  # longest first: no partial leftovers
    return _walk(value, ordered)


def _walk(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_walk(key, secrets): _walk(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, secrets) for item in value]
    return value
