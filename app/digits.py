"""Whole numbers read from text a client sent: query parameters, path segments, cookies, headers.

Why not `str.isdigit()` and `int()`: both accept far more than 0-9. `"²".isdigit()` is true but
`int("²")` raises, so a check-then-convert pair turned a crafted value into a 500. `int()` reads
`"١"` (Arabic-Indic one), `"𝟏"`, `" 1"`, `"+1"` and `"1_0"` as numbers, so texts nobody meant as
ids named real rows. And `int()` of thousands of digits raises or takes long. Here a number is
ASCII digits and nothing else, no larger than the caller says, the same rule for every parser
and for `<int:...>` in URL rules (`AsciiIntConverter`).

Why ids stop at `MAX_INTEGER`: PostgreSQL compares an id with `… = $1::INTEGER`, and a larger
value there is an "integer out of range" error, a 500 (SQLite's integers are wider, so only the
PostgreSQL variant showed it). An id above it names no row anyway.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, ValidationError

MAX_INTEGER = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL


def ascii_whole(text: object, maximum: int) -> int | None:
    """`text` as an int when it is ASCII digits (0-9) only and at most `maximum`, else None."""
    if not isinstance(text, str) or not text or not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):  # too large, and int() need not read it to know
        return None
    number = int(significant)
    return number if number <= maximum else None


class AsciiIntConverter(IntegerConverter):
    """Flask's `<int:...>` for ASCII digits only and values up to `MAX_INTEGER` (`min`/`max` still apply).

    Werkzeug's own converter matches `\\d+`, which takes any Unicode digit (`/versions/١` was
    version 1), of any length (`/versions/99999999999999999999/rollback` overflowed SQLite's
    integers: a 500). Such a segment does not match the rule here, so the URL is a 404 like any
    other unknown address.
    """

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        digits = value[1:] if self.signed and value.startswith("-") else value
        if ascii_whole(digits, MAX_INTEGER) is None:
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Make `<int:...>` strict in every URL rule; call before any blueprint adds its rules."""
    app.url_map.converters["int"] = AsciiIntConverter
