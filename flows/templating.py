"""Render the Jinja templates that flow authors write in node settings.

Templates are user-authored and therefore untrusted (DESIGN.md, decision 8): they render in an
immutable sandbox, so a template can neither reach Python internals nor modify the run's data.
Undefined variables raise instead of rendering as empty text, because a typo such as
``inputs.servce`` should fail the step with a message naming the variable rather than silently
send an empty answer. Compiled templates are cached: the same published flow renders the same
sources over and over.

A template may also not run forever, print without end or build a gigantic value: a worker
renders it between steps, and one bad template would hold the worker (and every run queued
behind it) or make the system kill it. Every render is bounded in time and memory
(`flows.render_limits`), and every method call, filter, global, operator, ``str.format``
field and ``~`` is checked before it runs (`flows.render_checks`, `flows.render_filters`), so
``'x'|center(10**9)`` fails the step at once with a message instead of allocating a gigabyte.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import missing

from flows import render_checks as checks
from flows.render_filters import wrap_filters
from flows.template_words import syntax_words
from flows.render_limits import MAX_OUTPUT_CHARS, MAX_VALUE_CHARS, RENDER_MEMORY_BYTES, \
    RENDER_TIME_LIMIT_SECONDS, RenderLimit, bounded, check_clock, loop_guard, measure, require

_MAX_LISTED_KEYS = 12
_LOOP_GUARD = "__sb_loop_guard"


class TemplateError(Exception):
    """Explain why a template could not be rendered, naming the template and the culprit.

    `name` is where the template lives in the node (``config.template``) so the author knows
    which field to fix; `message` is the reason (``'inputs' has no attribute 'servce'``).
    """

    def __init__(self, name: str, message: str):
        super().__init__(f"Template {name}: {message}")
        self.name = name
        self.message = message


class _PathDict(dict):
    """Carry the template path of a dict (``nodes.check``) so errors can name it.

    Children are wrapped lazily on access, which keeps rendering cheap for large outputs.
    The copy is shallow; the immutable sandbox prevents writes through it anyway.
    """

    def __init__(self, data: dict, path: str):
        super().__init__(data)
        self._path = path

    def __getitem__(self, key: Any) -> Any:
        return _with_path(super().__getitem__(key), f"{self._path}.{key}")


class _PathList(list):
    """Carry the template path of a list, like `_PathDict`."""

    def __init__(self, data: list, path: str):
        super().__init__(data)
        self._path = path

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        if isinstance(index, int):
            return _with_path(value, f"{self._path}[{index}]")
        return value


def _with_path(value: Any, path: str) -> Any:
    if isinstance(value, dict) and not isinstance(value, _PathDict):
        return _PathDict(value, path)
    if isinstance(value, list) and not isinstance(value, _PathList):
        return _PathList(value, path)
    return value


class _FlowUndefined(StrictUndefined):
    """Fail on undefined values with a message in the author's terms.

    Jinja would say "'dict object' has no attribute 'servce'"; we say which variable
    (``'inputs'``) lacks it and list what is available, which usually reveals the typo.
    """

    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[Exception] = UndefinedError):
        path = getattr(obj, "_path", None) if obj is not missing else None
        if hint is None and path is not None:
            hint = _missing_member_message(obj, path, name)
        super().__init__(hint=hint, obj=obj, name=name, exc=exc)


def _missing_member_message(obj: Any, path: str, name: Any) -> str:
    if isinstance(obj, dict):
        keys = sorted(str(key) for key in obj)
        if not keys:
            available = "it is empty"
        else:
            shown = ", ".join(keys[:_MAX_LISTED_KEYS]) + (", ..." if len(keys) > _MAX_LISTED_KEYS else "")
            available = f"available: {shown}"
        return f"{path!r} has no attribute {name!r} ({available})"
    count = len(obj)
    items = f"{count} item{'' if count == 1 else 's'}"
    if isinstance(name, str):
        return f"{path!r} is a list ({items}) and has no attribute {name!r}"
    return f"{path!r} has no element {name!r} (it has {items})"


class _BoundedFormatter(checks.BoundedFormatterMixin, SandboxedFormatter):
    """Format ``str.format`` fields in the sandbox, adding up their sizes as they go."""


class _BoundedEscapeFormatter(checks.BoundedFormatterMixin, SandboxedEscapeFormatter):
    """The same for ``Markup.format``."""


class _CodeGenerator(CodeGenerator):
    """Compile ``a ~ b`` so that its parts are checked (`sized_parts`) before they are joined."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            func_name = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"{func_name}(environment.sized_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class _FlowEnvironment(ImmutableSandboxedEnvironment):
    """Look up dict keys before dict methods for dotted access, and keep renders bounded.

    Plain Jinja resolves ``inputs.items`` to the dict method ``items``; a flow author who
    declared an input called "items" means the input, so keys win over methods here.
    The hooks below put every call, operator, format and concatenation through the checks
    in `flows.render_checks`.
    """

    intercepted_binops = frozenset(["*", "**", "+", "%"])
    code_generator_class = _CodeGenerator
    concat = staticmethod(checks.checked_concat)
    sized_parts = staticmethod(checks.sized_parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and isinstance(attribute, str) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        check_clock()
        args = checks.check_method(__obj, args, kwargs)
        return checks.check_result(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse `'x' * 10**9`, `9 ** 9 ** 9` and `"%0*d" % (10**9, 1)` before Python builds them."""
        check_clock()
        checks.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        """Use the size-counting formatters for ``str.format`` and ``format_map``."""
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        receiver, is_map = value.__self__, value.__name__ == "format_map"
        formatter = _BoundedEscapeFormatter(self, escape=receiver.escape) if hasattr(receiver, "__html__") \
            else _BoundedFormatter(self)

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return type(receiver)(formatter.vformat(receiver, args, kwargs))

        return bounded_format

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Route every loop's iterable through the loop guard (a clock check every few items)."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_LOOP_GUARD, "load"), [loop.iter], [], None, None,
                                   lineno=loop.lineno)
        return tree


def _finalize(value: Any) -> Any:
    """Render None as empty text (an optional input that was not sent must not print "None").

    A list or dict is measured before it is printed: built from shared parts, it could print
    as far more text than it holds.
    """
    if isinstance(value, (list, tuple, dict)):
        require(measure(value), "printing a list or dict")
    return "" if value is None else value


def _json_default(value: Any) -> Any:
    """Make ``{{ x | tojson }}`` report an undefined x like any other use of it."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError with the helpful message
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENV = _FlowEnvironment(
    undefined=_FlowUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    finalize=_finalize,
)
_ENV.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}
_ENV.globals.update({_LOOP_GUARD: loop_guard, "range": checks.checked_range, "lipsum": checks.checked_lipsum})
wrap_filters(_ENV.filters)


def _public_names(message: str) -> str:
    """Hide the wrapper classes from messages: the author only ever sees dicts and lists."""
    return message.replace(f"'{_PathDict.__name__}'", "'dict'").replace(f"'{_PathList.__name__}'", "'list'")


def parse_template(source: str) -> nodes.Template:
    """Return the syntax tree of `source` as the renderer reads it (validation reads references from it).

    Raises jinja2.TemplateSyntaxError, like rendering would, also for an unknown filter or test
    (found when compiling, which is cached for the renders that follow).
    """
    _compile(source)
    return _ENV.parse(source)


@lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    if "{#" in source:
        _refuse_unclosed_comment(source)
    return _ENV.from_string(source)


def _refuse_unclosed_comment(source: str) -> None:
    """Raise the parser's "Missing end of comment tag" for a "{#" at the very end of the text.

    Why: Jinja refuses "Hi {# note" but reads a trailing "Hi {#" as an empty comment, so the check
    passed and the run silently dropped the text ("Hi "). Both are the same mistake and get the
    same refusal. Only a "{#" that opens a comment counts (not one in quotes or a raw block).
    """
    opened = None
    for lineno, token, _ in _ENV.lexer.tokeniter(source, None):
        if token == "comment_begin":
            opened = lineno
        elif token == "comment_end":
            opened = None
    if opened is not None:
        raise TemplateSyntaxError("Missing end of comment tag", opened, None, None)


def render_template(source: str, context: dict, name: str,
                    time_limit: float = RENDER_TIME_LIMIT_SECONDS) -> str:
    """Render `source` with the variables in `context`; raise `TemplateError` on any failure.

    Every top-level variable is wrapped so that a missing member deep inside it is reported
    with its full path (``'nodes.check' has no attribute 'txt'``). The render stops with an
    error after `time_limit` seconds or `MAX_OUTPUT_CHARS` characters of output.
    """
    if not isinstance(source, str):
        raise TemplateError(name, f"must be text, not {type(source).__name__}")
    try:
        template = _compile(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(name, f"syntax error on line {exc.lineno}: {syntax_words(exc)}") from None
    variables = {key: _with_path(value, key) for key, value in context.items()}
    try:
        with bounded(time_limit):
            return _generate(template, variables)
    except RenderLimit as exc:
        raise TemplateError(name, str(exc)) from None
    except MemoryError:
        raise TemplateError(name, f"exceeded its memory limit ({RENDER_MEMORY_BYTES // 2 ** 20} MB): it "
                                  f"builds values far larger than {MAX_VALUE_CHARS} characters") from None
    except RecursionError:
        raise TemplateError(name, "exceeded its nesting limit: a macro calls itself too deeply, or a value "
                                  "is nested too deeply to print") from None
    except UndefinedError as exc:
        raise TemplateError(name, str(exc.message)) from None
    except SecurityError as exc:
        raise TemplateError(name, f"not allowed in templates: {_public_names(str(exc))}") from None
    except TemplateSyntaxError as exc:  # raised lazily, e.g. by an unknown filter in a branch
        raise TemplateError(name, f"syntax error on line {exc.lineno}: {syntax_words(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - any failure inside user code is the author's to fix
        raise TemplateError(name, f"{type(exc).__name__}: {exc}") from None


def _generate(template: Template, variables: dict) -> str:
    """Collect the output piece by piece, checking its size and the clock as it grows."""
    pieces, size = [], 0
    for piece in template.generate(variables):
        size += len(piece)
        if size > MAX_OUTPUT_CHARS:
            raise RenderLimit(f"exceeded its size limit: produced more than {MAX_OUTPUT_CHARS} characters; "
                              f"shorten its output")
        check_clock()
        pieces.append(piece)
    return "".join(pieces)
