"""render_template(): sandboxed Jinja with errors that name the template and the variable."""

from __future__ import annotations

import pytest

from flows import TemplateError, render_template
from flows.templating import _compile

CONTEXT = {
    "inputs": {"service": "db", "items": ["a", "b"], "count": 3, "note": None},
    "nodes": {"check": {"text": "ok", "data": {"rows": [{"id": 7}]}}, "my-id": {"text": "dashed"}},
    "trigger": {"request_id": "req-1"},
    "run": {"id": "run-1"},
}


def _render(source: str) -> str:
    return render_template(source, CONTEXT, "config.template")


def _error(source: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        _render(source)
    return info.value


@pytest.mark.parametrize(("source", "expected"), [
    ("Service {{ inputs.service }}", "Service db"),
    ("{{ nodes.check.text }} / {{ nodes['my-id'].text }}", "ok / dashed"),
    ("{{ nodes.check.data.rows[0].id }}", "7"),
    ("{{ inputs.count * 2 }} {{ inputs.service | upper }}", "6 DB"),
    ("{{ inputs.items }}", "['a', 'b']"),  # a declared input called "items", not dict.items
    ("{{ inputs.items | join(',') }} {{ inputs | length }}", "a,b 4"),
    ("[{{ inputs.note }}]", "[]"),  # null renders as nothing, not "None"
    ("{{ inputs.note is none }}", "True"),
    ("{{ nodes.check | tojson }}", '{"data": {"rows": [{"id": 7}]}, "text": "ok"}'),
    ("{{ trigger.request_id }} {{ run.id }}", "req-1 run-1"),
    ("line\n", "line\n"),  # trailing newline kept
    ("{{ '<b>' }}", "<b>"),  # no HTML escaping: output is chat text, not HTML
])
def test_renders(source, expected):
    assert _render(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("{{ inputs.servce }}", "'inputs' has no attribute 'servce' (available: count, items, note, service)"),
    ("{{ nodes.chek.text }}", "'nodes' has no attribute 'chek' (available: check, my-id)"),
    ("{{ nodes.check.txt }}", "'nodes.check' has no attribute 'txt' (available: data, text)"),
    ("{{ nodes.check.data.rows[3] }}", "'nodes.check.data.rows' has no element 3 (it has 1 item)"),
    ("{{ nodes.check.data.rows[0].name }}", "'nodes.check.data.rows[0]' has no attribute 'name' (available: id)"),
    ("{{ inputs.items.first }}", "'inputs.items' is a list (2 items) and has no attribute 'first'"),
    ("{{ input.service }}", "'input' is undefined"),
    ("{{ inputs.missing | tojson }}", "'inputs' has no attribute 'missing'"),
    ("{% if inputs.nope == 1 %}x{% endif %}", "'inputs' has no attribute 'nope'"),
])
def test_undefined_names_the_template_and_the_variable(source, message):
    error = _error(source)

    assert error.name == "config.template"
    assert error.message.startswith(message)
    assert str(error) == f"Template config.template: {error.message}"


def test_defined_test_allows_optional_values():
    assert _render("{{ 'yes' if inputs.other is defined else 'no' }}") == "no"


def test_syntax_errors_give_the_line():
    error = _error("Hello\n{{ inputs.service }}\n{% if %}")

    assert error.message == 'syntax error on line 3: an instruction "{% … %}" is missing its value'


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ inputs.__class__ }}",
    "{{ inputs.items.append('c') }}",
    "{{ nodes.update({}) }}",
])
def test_sandbox_refuses_internals_and_mutation(source):
    error = _error(source)

    assert error.message.startswith("not allowed in templates:")
    assert "_Path" not in error.message
    assert CONTEXT["inputs"]["items"] == ["a", "b"]


def test_runtime_errors_are_template_errors():
    assert _error("{{ inputs.count / 0 }}").message == "ZeroDivisionError: division by zero"


def test_non_text_source_is_an_error():
    with pytest.raises(TemplateError, match="must be text"):
        render_template(None, {}, "config.text")


def test_compiled_templates_are_cached():
    source = "cache check {{ inputs.service }}"
    _render(source)
    hits = _compile.cache_info().hits

    _render(source)

    assert _compile.cache_info().hits == hits + 1
