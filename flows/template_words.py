"""Say a template's syntax error in plain words: what is wrong, where, and what to do about it.

Why: the people who draw flows do not know Jinja. "expected token 'end of print statement', got
'integer'" told a reviewer nothing, and the most common case by far is a value still being typed
(an opened ``{{`` with no ``}}``), which deserves an instruction, not a parser's complaint. The
common messages are mapped to words here; anything unmapped falls back to the parser's own text,
so a new Jinja message is shown rather than hidden.
"""

from __future__ import annotations

import re

from jinja2 import TemplateSyntaxError

# Jinja's names for the tokens it expected or got, as the person sees them in their text.
_TOKEN_WORDS = {
    "end of print statement": '"}}"', "end of statement block": '"%}"', "end of template": "the end of the text",
    "name": "a name", "integer": "a number", "float": "a number", "string": "a quoted text",
    "begin of print statement": '"{{"', "begin of statement block": '"{%"',
}
_CLOSERS = {"{{": "}}", "{%": "%}"}


def unfinished_opener(source: str) -> str | None:
    """'{{' or '{%' when the text's last such opener is never closed after it (a value being typed)."""
    for opener, closer in _CLOSERS.items():
        start = source.rfind(opener)
        if start >= 0 and source.find(closer, start + len(opener)) < 0:
            return opener
    return None


def unfinished_words(opener: str) -> str:
    """What to do about an unclosed opener: the wording the canvas's hint beside the field uses."""
    if opener == "{{":
        return 'has an unfinished value: close "{{" with "}}", or use Insert value.'
    return 'has an unfinished instruction: close "{%" with "%}".'


def syntax_words(exc: TemplateSyntaxError) -> str:
    """The parser's complaint as a short plain sentence (no line; callers say where)."""
    message = str(exc.message or "").strip()
    for pattern, words in _MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return words(*match.groups())
    return message.rstrip(".") or "it cannot be read"


def _token(name: str) -> str:
    return _TOKEN_WORDS.get(name, f'"{name}"')


def _unclosed_block(tag: str) -> str:
    return f'the "{{% {tag} %}}" block is never closed: add "{{% end{tag} %}}" after it'


def _unknown_tag(tag: str) -> str:
    if tag.startswith("end") and len(tag) > 3:
        return f'"{{% {tag} %}}" has no "{{% {tag[3:]} %}}" before it to close'
    return f'"{{% {tag} %}}" is not an instruction templates know (they know if, for, set and a few more)'


def _expected(want: str, got: str) -> str:
    if want == "end of print statement":
        return f'{_token(got)} is unexpected inside "{{{{ }}}}": put one value in each pair of braces'
    if want == "end of statement block":
        return f'{_token(got)} is unexpected inside "{{% %}}"'
    return f"expected {_token(want)} here, not {_token(got)}"


def _missing_value(got: str) -> str:
    if got == "end of print statement":
        return '"{{ }}" is empty: put a value between the braces, or use Insert value'
    if got == "end of statement block":
        return 'an instruction "{% … %}" is missing its value'
    return f"a value is missing before {_token(got)}"


def _unexpected(what: str, want: str | None = None) -> str:
    closing = {")": "(", "]": "[", "}": "{"}.get(want or "")
    if closing:
        return f'a "{closing}" is never closed: add "{want}"'
    return f"{_token(what)} is unexpected here"


def _bad_char(single: str | None, double: str | None) -> str:
    char = single if single is not None else double  # Jinja quotes it with repr(): "'" or '"'
    if char in ("'", '"'):
        return f"a quote ({char}) is never closed: add another {char} after the text"
    return f"the character {char} cannot be used inside the braces"


_MESSAGES = [
    (re.compile(r"No filter named '([^']*)'\.?"), lambda name: f'there is no filter called "{name}"'),
    (re.compile(r"No test named '([^']*)'\.?"), lambda name: f'there is no test called "{name}" (after "is")'),
    (re.compile(r"Encountered unknown tag '([^']*)'\..*", re.S), _unknown_tag),
    (re.compile(r"Unexpected end of template\..*innermost block that needs to be closed is '([^']*)'\.?", re.S),
     _unclosed_block),
    (re.compile(r"expected token '([^']*)', got '([^']*)'"), _expected),
    (re.compile(r"Expected an expression, got '([^']*)'"), _missing_value),
    (re.compile(r"unexpected '([^']*)'(?:, expected '([^']*)')?"), _unexpected),
    (re.compile(r"""unexpected char (?:'(.)'|"(.)") at \d+"""), _bad_char),
    (re.compile(r"Missing end of comment tag"), lambda: 'a comment "{#" is never closed: add "#}"'),
    (re.compile(r"Missing end of raw directive"), lambda: 'a "{% raw %}" is never closed: add "{% endraw %}"'),
    (re.compile(r"tag name expected"), lambda: '"{%" needs an instruction after it, such as "if" or "for"'),
    (re.compile(r"expected name or number"), lambda: 'a "." must be followed by a name or a number'),
]
