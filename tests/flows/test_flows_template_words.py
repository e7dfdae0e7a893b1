"""A template that does not parse is refused in words a non-programmer can act on (flows.template_words).

The problems list above the canvas and a refused save show these messages; before, they showed the
parser's own ("unexpected 'end of template'", "expected token 'end of print statement', got 'integer'").
"""

from __future__ import annotations

import re

import pytest

import flows
from tests.flows.test_flows_runnable_checks import _flow

JARGON = re.compile(r"token|end of print statement|end of statement block|Jinja|innermost|got '|TemplateSyntax")


def _syntax_messages(text: str) -> list[str]:
    document = _flow({"id": "answer", "type": "reply", "name": "Compose", "config": {"text": text}})
    return [p.message for p in flows.errors(flows.validate(document)) if p.code == "template_syntax_error"]


@pytest.mark.parametrize("text", ["Hello {{", "Hello {{ inputs.message", "Hello {{ inputs.message }",
                                  "{{ inputs.message }} and {{ inputs.n"])
def test_an_unclosed_value_says_to_close_it_or_use_insert_value(text):
    assert _syntax_messages(text) == [
        'Compose: "Text" has an unfinished value: close "{{" with "}}", or use Insert value.']


@pytest.mark.parametrize("text", ["{%", "{% if inputs.n", "Hi {% for x in inputs.items"])
def test_an_unclosed_instruction_says_to_close_it(text):
    assert _syntax_messages(text) == ['Compose: "Text" has an unfinished instruction: close "{%" with "%}".']


@pytest.mark.parametrize(("text", "words"), [
    ("{{ inputs.message | shout }}", 'line 1: there is no filter called "shout"'),
    ("{{ 1 2 }}", 'line 1: a number is unexpected inside "{{ }}": put one value in each pair of braces'),
    ("{{ inputs.message inputs.n }}", 'line 1: "inputs" is unexpected inside "{{ }}"'),
    ("Hi\n\n{{ }}", 'line 3: "{{ }}" is empty: put a value between the braces, or use Insert value'),
    ("{% if inputs.n %}yes", 'line 1: the "{% if %}" block is never closed: add "{% endif %}" after it'),
    ("{% for x in inputs.items %}{{ x }}", 'the "{% for %}" block is never closed: add "{% endfor %}"'),
    ("{% endif %}", 'line 1: "{% endif %}" has no "{% if %}" before it to close'),
    ("{% shout %}", '"{% shout %}" is not an instruction templates know'),
    ("{{ (inputs.n }}", 'line 1: a "(" is never closed: add ")"'),
    ("{{ inputs.items[ }}", 'a "[" is never closed: add "]"'),
    ('{{ "abc }}', 'line 1: a quote (") is never closed'),
    ("{{ inputs.n is bogus }}", 'there is no test called "bogus"'),
    ("{# note", 'a comment "{#" is never closed: add "#}"'),
    ("Hi {#", 'line 1: a comment "{#" is never closed: add "#}"'),
    ("Hi {# a #}\n{#-", 'line 2: a comment "{#" is never closed: add "#}"'),
    ("{{ 'abc }}", "line 1: a quote (') is never closed: add another ' after the text"),
    ("{{ inputs.message | }}", 'expected a name here, not "}}"'),
])
def test_other_syntax_errors_say_the_line_and_what_is_wrong_in_words(text, words):
    [message] = _syntax_messages(text)
    assert message.startswith('Compose: "Text" is not a valid template (line ')
    assert words in message
    assert not JARGON.search(message), message


def test_a_message_nobody_mapped_falls_back_to_the_parsers_words():
    from jinja2 import TemplateSyntaxError

    from flows.template_words import syntax_words

    assert syntax_words(TemplateSyntaxError("something new happened.", 1)) == "something new happened"


def test_a_run_of_a_broken_template_says_it_in_the_same_words():
    from flows.templating import TemplateError, render_template

    with pytest.raises(TemplateError) as caught:
        render_template("Hi\n{{ inputs.message | shout }}", {"inputs": {}}, "config.text")
    assert caught.value.message == 'syntax error on line 2: there is no filter called "shout"'


@pytest.mark.parametrize("text", ["{% raw %}Hi {#{% endraw %}", '{{ "{#" }}', "Hi {# a #} there", "# {"])
def test_a_brace_hash_that_opens_no_comment_is_not_refused(text):
    assert _syntax_messages(text) == []


def test_a_run_of_a_trailing_comment_opener_fails_instead_of_dropping_the_text():
    # A version published before the check answered "Hi " for "Hi {#"; it now says why it cannot.
    from flows.templating import TemplateError, render_template

    with pytest.raises(TemplateError) as caught:
        render_template("Hi {#", {"inputs": {}}, "config.text")
    assert caught.value.message == 'syntax error on line 1: a comment "{#" is never closed: add "#}"'
