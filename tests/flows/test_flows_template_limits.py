"""Every template render is bounded in time and memory, whatever builtin, filter or operator it uses.

Each bomb here allocated about a gigabyte or ran for many seconds before (and the run even
succeeded); now each fails fast with a message saying which limit it hit, the memory it takes
stays small, and the process renders normally afterwards.
"""

from __future__ import annotations

import functools
import json
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

import flows
from flows import TemplateError, render_template
from flows import render_limits
from flows.nodes import base as node_base
from flows.render_limits import RENDER_MEMORY_BYTES, render_scope
from tests.flows.documents import chain

REPO = Path(__file__).resolve().parents[2]
LIMIT_MESSAGE = re.compile(r"exceeded its (size|time|memory) limit")
S = "{% set s = 'x' * 999999 %}"
TWENTY = "[" + ", ".join(["s"] * 20) + "]"

SIZE_BOMBS = [
    # a width, a fill or a length argument
    "{{ 'x'|center(10**9) }}", "{{ 'x'.center(10**9) }}", "{{ 'x'.ljust(10**9) }}", "{{ 'x'.rjust(10**9, '-') }}",
    "{{ 'x'.zfill(10**9) }}", "{{ 'x'|indent(10**9, true) }}", "{{ (1).to_bytes(10**9, 'big') }}",
    "{{ 'x'.encode().center(10**9) }}", "{{ 'x'|center(width=10**9) }}",
    # a size times a count
    "{{ ('\\t' * 1000).expandtabs(999999) }}", "{{ ('a\\n' * 10000)|indent(999999) }}",
    "{{ ('x' * 999999)|replace('', 'x' * 999999) }}", "{{ 'abc'.replace('', 'x' * 999999) * 1 }}",
    "{{ ('ab' * 400000)|replace('a', 'x' * 1000) }}", "{{ ('x' * 1000).translate({120: 'y' * 999999}) }}",
    "{{ ('x' * 1000)|wordwrap(1, true, 'y' * 999999) }}", "{{ ('a.com ' * 1000)|urlize(target='x' * 999999) }}",
    "{{ {'a': [1] * 1000}|tojson(indent=10**6) }}", "{{ [[[[1] * 1000]]]|tojson(indent='x' * 99999) }}",
    "{{ ['a']|batch(100000, 'y' * 999999)|list|length }}", "{{ ['a']|slice(100000, 'y' * 999999)|list|length }}",
    "{{ [1]|batch(10**9, 'x')|list }}", "{{ [1]|slice(10**9)|list }}",
    # printf-style and str.format widths and precisions
    "{{ '%0*d' % (10**9, 1) }}", "{{ '%1000000000s' % 'x' }}", "{{ '%.1000000000f' % 1.0 }}",
    "{{ '%.*f' % (10**9, 1.0) }}", "{{ '%(a)1000000000s' % {'a': 1} }}", "{{ '%s' % ('%1000000000d' % 1) }}",
    "{{ '%0*d'|format(10**9, 1) }}", "{{ '%1000000000s'|format('x') }}", "{{ '%(a)1000000000s'|format(a=1) }}",
    "{{ '{:>1000000000}'.format('x') }}", "{{ '{:>{}}'.format('x', 10**9) }}", "{{ '{0:.1000000000f}'.format(1.0) }}",
    "{{ '{a:>1000000000}'.format_map({'a': 1}) }}", "{{ ('{:>999999}' * 100).format(*range(100)) }}",
    "{% set f = '{:>1000000000}'.format %}{{ f(1) }}", "{{ ('{:>1000000000}'|e).format(1) }}",
    # generated text and ranges
    "{{ lipsum(10**9) }}", "{{ lipsum(1000, false, 10**5, 10**6) }}", "{{ lipsum(n=5000, max=5000) }}",
    "{{ range(10**9)|list }}", "{{ range(0, 10**12, 2)|length }}",
    # repetition, also of shared values, and joins or prints of them
    "{{ 'x' * 10**9 }}", "{{ 10**9 * 'x' }}", "{{ [1] * 10**9 }}", "{{ ['x' * 999999] * 1000 }}",
    "{{ ('x',) * 10**9 }}", "{{ 'x'.encode() * 10**9 }}",
    S + "{{ " + TWENTY + "|join }}", S + "{{ " + TWENTY + " }}", S + "{{ " + TWENTY + "|string }}",
    S + "{{ " + TWENTY + "|tojson }}", S + "{{ " + TWENTY + "|pprint }}", S + "{{ ''.join(" + TWENTY + ") }}",
    S + "{{ " + TWENTY + "|map('upper')|join }}", S + "{{ '%s' % (" + TWENTY + ",) }}",
    S + "{{ '{}'.format(" + TWENTY + ") }}", S + "{{ [" + ", ".join(["[s]"] * 20) + "]|sum(start=[])|join }}",
    # doubling in a loop: ~, +, a macro, a {% set %} block
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{% set ns = namespace(s='x') %}"
    "{% for i in range(40) %}{% set ns.s = d(ns.s) %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}"
    "{% endfor %}{{ ns.s|length }}",
    # numbers that grow without end
    "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x ** 100 %}{% endfor %}",
    "{{ 99 ** 99999 }}", "{{ 2 ** (10**9) }}",
    # the output itself
    "{% for i in range(100000) %}{{ 'y' * 50 }}{% endfor %}", "{{ 'x' * 999999 ~ 'x' * 999999 }}",
]

TIME_BOMBS = [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "{{ ('ab ' * 300000)|wordwrap(2)|length }}",  # one filter call, a long loop inside textwrap
    "{{ range(0, 100000 * (2**61 - 1), 2**61 - 1)|unique|list|length }}",  # equal hashes: quadratic
    "{{ range(100000)|map('string')|map('center', 100)|map('trim')|map('wordwrap', 3)|join|length }}",
]


def _render(source: str, time_limit: float = 2.0) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render_template(source, {"nodes": {}}, "config.text", time_limit=time_limit)
    return info.value


@pytest.fixture
def traced():
    """Measure the peak memory Python allocates during the test (MB)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    yield lambda: tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()


@pytest.mark.parametrize("source", SIZE_BOMBS)
def test_a_template_that_would_build_a_huge_value_fails_fast_in_little_memory(source, traced):
    started = time.monotonic()

    error = _render(source)

    assert LIMIT_MESSAGE.search(error.message), error.message
    assert error.message.startswith("exceeded its size limit"), error.message
    assert time.monotonic() - started < 5
    assert traced() < 120  # MB; each bomb asked for about a gigabyte or more


@pytest.mark.parametrize("source", TIME_BOMBS)
def test_a_template_that_runs_long_stops_at_its_time_limit(source):
    started = time.monotonic()

    error = _render(source, time_limit=0.3)

    assert error.message.startswith("exceeded its time limit: took longer than 0.3 s"), error.message
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("source", TIME_BOMBS[2:])
def test_the_time_limit_also_holds_outside_the_main_thread(source):
    """Workers render in the main thread (a timer signal); any other thread gets a profile hook."""
    errors: list = []
    started = time.monotonic()

    thread = threading.Thread(target=lambda: errors.append(_render_error(source)))
    thread.start()
    thread.join(30)

    assert errors and errors[0].startswith("exceeded its time limit"), errors
    assert time.monotonic() - started < 5


def _render_error(source: str) -> str:
    try:
        render_template(source, {}, "config.text", time_limit=0.3)
    except TemplateError as exc:
        return exc.message
    return "rendered"


def test_a_run_arms_the_interrupt_once_and_it_still_stops_a_runaway_filter(run_flow, monkeypatch):
    """In a run the timer is armed once for all renders; a long loop inside one filter still stops."""
    armed: list = []
    real_setitimer = signal.setitimer
    monkeypatch.setattr(render_limits.signal, "setitimer",
                        lambda which, *times: armed.append(times) or real_setitimer(which, *times))
    monkeypatch.setattr(node_base, "render_template", functools.partial(render_template, time_limit=0.3))
    document = chain({"id": "start", "type": "start", "config": {"inputs": []}},
                     {"id": "a", "type": "template", "config": {"template": "{{ 1 + 1 }}"}},
                     {"id": "b", "type": "template", "config": {"template": "{{ nodes.a.text }}!"}},
                     # only an interrupt stops it: one filter call looping for minutes
                     {"id": "bomb", "type": "template", "config": {"template": TIME_BOMBS[3]}},
                     {"id": "answer", "type": "reply", "config": {"text": "never"}})
    started = time.monotonic()

    outcome, _ = run_flow(document, "start", {})

    assert outcome.status == "failed" and outcome.error_node_id == "bomb"
    assert "exceeded its time limit: took longer than 0.3 s" in outcome.error, outcome.error
    assert time.monotonic() - started < 5
    assert len(armed) == 2 and armed[-1] == (0,)  # armed when the run began, disarmed when it ended
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_ticks_between_renders_of_a_run_stop_nothing():
    """The run's timer keeps ticking between renders, where there is no deadline to pass."""
    with render_scope():
        assert render_template("{{ 'a' ~ 1 }}", {}, "config.text", time_limit=0.01) == "a1"
        busy_until = time.process_time() + 0.3  # six ticks of CPU time outside any render
        while time.process_time() < busy_until:
            pass
        assert render_template("{{ 'b' ~ 2 }}", {}, "config.text") == "b2"
        error = _render(TIME_BOMBS[3], time_limit=0.3)  # and the next render is bounded as before
    assert error.message.startswith("exceeded its time limit: took longer than 0.3 s"), error.message
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_a_run_outside_the_main_thread_still_stops_a_runaway_filter():
    errors: list = []

    def run() -> None:
        with render_scope():
            errors.append(_render_error(TIME_BOMBS[3]))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)

    assert errors and errors[0].startswith("exceeded its time limit"), errors


def test_a_run_holds_the_memory_cap_for_every_render():
    resource = pytest.importorskip("resource")
    before = resource.getrlimit(resource.RLIMIT_DATA)

    with render_scope():
        capped = resource.getrlimit(resource.RLIMIT_DATA)
        error = _render("{{ range(100)|map('center', 16000000)|list|length }}")
        assert resource.getrlimit(resource.RLIMIT_DATA) == capped

    assert error.message.startswith("exceeded its memory limit"), error.message
    assert capped[0] != before[0]
    assert resource.getrlimit(resource.RLIMIT_DATA) == before


@pytest.mark.parametrize("source", [
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l|tojson }}",
])
def test_endless_recursion_and_deep_nesting_fail_clearly(source):
    assert _render(source).message.startswith("exceeded its nesting limit")


def test_what_no_size_check_foresees_hits_the_memory_limit():
    """Each call is small enough to pass the checks; together they would take 1.6 GB.

    How much the process grows is measured by the OS in a fresh process
    (`test_a_fresh_process_stays_small_through_every_bomb`), not here: the cap bounds new memory
    the process maps, and a process that has run a thousand tests holds freed heap that Python
    may fill first, so Python's own count of its allocations can pass the cap without the
    process growing by a byte more than it allows.
    """
    error = _render("{{ range(100)|map('center', 16000000)|list|length }}")

    assert error.message.startswith("exceeded its memory limit"), error.message


def test_limits_are_lifted_after_a_render_and_the_process_renders_on():
    resource = pytest.importorskip("resource")
    before = resource.getrlimit(resource.RLIMIT_DATA)

    for source in ("{{ 'x'|center(10**9) }}", "{{ range(100)|map('center', 16000000)|list|length }}"):
        _render(source)

    assert resource.getrlimit(resource.RLIMIT_DATA) == before
    assert len(bytearray(RENDER_MEMORY_BYTES + 2 ** 20)) > RENDER_MEMORY_BYTES  # no cap left behind
    assert render_template("{{ 'ok'|center(6) }}", {}, "config.text") == "  ok  "


def test_a_fresh_process_stays_small_through_every_bomb():
    """Resident memory measured by the OS, not by Python: no bomb grows the process by a gigabyte."""
    script = ("import json, resource, sys\n"
              "from flows import TemplateError, render_template\n"
              "render_template('{{ 1 }}', {}, 't')\n"
              "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "for source in json.loads(sys.stdin.read()):\n"
              "    try:\n"
              "        render_template(source, {}, 't')\n"
              "    except TemplateError:\n"
              "        pass\n"
              "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n")
    bombs = SIZE_BOMBS + ["{{ range(100)|map('center', 16000000)|list|length }}"]
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(bombs), cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=True)

    grown_mb = int(done.stdout.strip())
    assert grown_mb < RENDER_MEMORY_BYTES / 2 ** 20 + 64, done.stdout


def test_a_bomb_fails_its_step_with_the_reason_and_the_next_run_succeeds(run_flow):
    def document(text: str) -> dict:
        return chain({"id": "start", "type": "start", "config": {"inputs": []}},
                     {"id": "answer", "type": "reply", "config": {"text": text}})

    failed, _ = run_flow(document("{{ 'x'|center(10**9) }}"), "start", {})
    fine, _ = run_flow(document("{{ 'x'|center(5) }}"), "start", {})

    assert failed.status == "failed"
    assert "Template config.text: exceeded its size limit: 'center'" in failed.error
    assert fine.status == "succeeded" and fine.output["text"] == "  x  "


BIG_TEXT = "word " * 1_000_000  # 5 million characters: a large HTTP answer a flow may still use


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ 'x'|center(7) }}|{{ 'ab'.ljust(4, '.') }}|{{ '7'.zfill(3) }}", "   x   |ab..|007"),
    ("{{ '%05.2f'|format(3.14159) }} {{ '%s-%s' % ('a', 1) }} {{ '%(n)d' % {'n': 1700000000000} }}",
     "03.14 a-1 1700000000000"),
    ("{{ '{:>6}|{:,}'.format('a', 1234567) }} {{ '{n:.2f}'.format_map({'n': 2}) }}", "     a|1,234,567 2.00"),
    ("{{ [1, 2]|join(', ') }} {{ ['a', 'b']|map('upper')|join }} {{ ''.join(['x', 'y']) }}", "1, 2 AB xy"),
    ("{{ [[1], [2, 3]]|sum(start=[]) }} {{ [1, 2]|sum }} {{ [(1,), (2,)]|sum(start=()) }}", "[1, 2, 3] 3 (1, 2)"),
    ("{{ 'a\tb'.expandtabs(4) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'aXb'.replace('X', '--') }}", "a   b|  a\n  b|a--b"),
    ("{{ 2 ** 100 }} {{ 3 * 'ab' }} {{ [0] * 3 }} {{ 'a' ~ 1 ~ 'b' }}", f"{2 ** 100} ababab [0, 0, 0] a1b"),
    ("{{ {'k': 1}.get('x', 1700000000000) }} {% set ns = namespace(t=1700000000000) %}{{ ns.t }}",
     "1700000000000 1700000000000"),
    ("{{ lipsum(2, false, 5, 6)|wordcount > 5 }} {{ range(3)|list }} {{ [1, 2, 3]|batch(2, 0)|list }}",
     "True [0, 1, 2] [[1, 2], [3, 0]]"),
    ("{{ {'a': [1]}|tojson(indent=2) }}", '{\n  "a": [\n    1\n  ]\n}'),
    ("{% autoescape true %}{{ '<a>' ~ 'b' }}{% endautoescape %} {{ '<b>'|e ~ '<i>' }}", "&lt;a&gt;b &lt;b&gt;<i>"),
    ("{{ nodes.big|length }} {{ nodes.big|truncate(12) }} {{ (nodes.big|replace('word', 'w'))|length }}",
     "5000000 word... 2000000"),
])
def test_ordinary_templates_still_render(source, expected):
    assert render_template(source, {"nodes": {"big": BIG_TEXT}}, "config.text") == expected


def test_the_engine_renders_templates_as_before():
    assert flows.render_template("{{ inputs.a }}", {"inputs": {"a": 1}}, "config.text") == "1"
