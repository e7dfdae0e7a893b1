"""The one rule for numbers in client text: ASCII digits, nothing else, up to a maximum (app.digits)."""

from __future__ import annotations

import pytest

from app.digits import MAX_INTEGER, ascii_whole


@pytest.mark.parametrize("text, number", [("0", 0), ("7", 7), ("0042", 42), ("0" * 50 + "1", 1),
                                          (str(MAX_INTEGER), MAX_INTEGER)])
def test_ascii_digits_are_a_number(text, number):
    assert ascii_whole(text, MAX_INTEGER) == number


@pytest.mark.parametrize("text", [
    "²", "1²", "¹²³",  # superscripts: isdigit() says yes, int() refuses
    "١", "٣٤", "۱", "१", "𝟏", "１",  # other scripts' digits: int() reads them as numbers
    "Ⅻ", "½", "〇",  # numeric but not digits
    " 1", "1 ", "1\n", "+1", "-1", "1_000", "1.0", "1e3", "0x1", "", "abc",
    str(MAX_INTEGER + 1), "9" * 19, "9" * 5000,  # too large; 5000 digits would make int() itself raise
])
def test_anything_else_is_not(text):
    assert ascii_whole(text, MAX_INTEGER) is None


def test_the_maximum_is_the_callers():
    assert ascii_whole("200", 200) == 200 and ascii_whole("0200", 200) == 200
    assert ascii_whole("201", 200) is None and ascii_whole("1000", 200) is None


@pytest.mark.parametrize("value", [None, 1, 1.0, b"1", ["1"]])
def test_only_text_is_read(value):
    assert ascii_whole(value, MAX_INTEGER) is None
