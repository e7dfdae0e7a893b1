"""The one rule for numbers in client text: 1 to N ASCII digits, nothing else (app.digits)."""

from __future__ import annotations

import pytest

from app.digits import ID_DIGITS, ascii_whole


@pytest.mark.parametrize("text, number", [("0", 0), ("7", 7), ("0042", 42), ("9" * 18, 10**18 - 1)])
def test_ascii_digits_are_a_number(text, number):
    assert ascii_whole(text, ID_DIGITS) == number


@pytest.mark.parametrize("text", [
    "²", "1²", "¹²³",  # superscripts: isdigit() says yes, int() refuses
    "١", "٣٤", "۱", "१", "𝟏", "１",  # other scripts' digits: int() reads them as numbers
    "Ⅻ", "½", "〇",  # numeric but not digits
    " 1", "1 ", "1\n", "+1", "-1", "1_000", "1.0", "1e3", "0x1", "", "abc",
    "9" * 19, "9" * 5000,  # longer than allowed; 5000 digits would make int() itself raise
])
def test_anything_else_is_not(text):
    assert ascii_whole(text, ID_DIGITS) is None


def test_the_digit_limit_is_the_callers():
    assert ascii_whole("200", 3) == 200 and ascii_whole("1000", 3) is None


@pytest.mark.parametrize("value", [None, 1, 1.0, b"1", ["1"]])
def test_only_text_is_read(value):
    assert ascii_whole(value, ID_DIGITS) is None
