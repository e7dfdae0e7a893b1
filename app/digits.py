"""Whole numbers read from text a client sent: query parameters, path segments, cookies, headers.

Why not `str.isdigit()` and `int()`: both accept far more than 0-9. `"²".isdigit()` is true but
`int("²")` raises, so a check-then-convert pair turned a crafted value into a 500. `int()` reads
`"١"` (Arabic-Indic one), `"𝟏"`, `" 1"`, `"+1"` and `"1_0"` as numbers, so texts nobody meant as
ids named real rows. And `int()` of thousands of digits raises or takes long, and a big enough
value overflows the database's 64-bit integers (a 500 again). Here a number is 1 to N ASCII digits
and nothing else, the same rule for every parser.
"""

from __future__ import annotations

ID_DIGITS = 18  # every number of up to 18 digits fits a 64-bit database integer (SQLite, BIGINT)


def ascii_whole(text: object, max_digits: int) -> int | None:
    """`text` as an int when it is 1 to `max_digits` ASCII digits (0-9) and nothing else, else None."""
    if not isinstance(text, str) or not 0 < len(text) <= max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
