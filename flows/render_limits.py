"""Bound every template render in time and memory, whatever the template calls.

Templates are untrusted and run inside the worker, so one render must never hold the worker for
long or grow it until the operating system kills it. Three independent bounds apply to every
render (`bounded`):

- a deadline, checked by the sandbox hooks (calls, loops, output pieces) and by an interrupt,
  so that even a long loop inside one filter (textwrap, sorting, a generator) stops at the
  deadline: in the main thread (where workers render) a CPU-time timer signal, armed once per
  run (`render_scope`) or else per render, which costs nothing until it fires; in other
  threads a profile hook, which sees every call but slows rendering a few times;
- a memory cap: while the render runs, the process may map at most `RENDER_MEMORY_BYTES` more
  data memory (RLIMIT_DATA on Linux), so a single builtin asked for a gigabyte fails at once
  with MemoryError instead of allocating it; the size checks in `flows.render_checks` refuse
  the known cases earlier with a clearer message, this cap covers every case they miss;
- size checks (`require`, `measure`) used by those checks and by the renderer's output limit.

The memory cap is per process: while a render runs, another thread of the same process shares
the budget. Workers render in one thread at a time, so in practice the budget is the render's.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from itertools import chain
from typing import Any, Iterator

try:
    import resource
except ImportError:  # not on every platform; the other bounds still apply
    resource = None  # type: ignore[assignment]
try:  # the handler as it is: signal.getsignal converts it through an Enum, slowly, every call
    from _signal import getsignal as _raw_getsignal
except ImportError:
    _raw_getsignal = signal.getsignal

RENDER_TIME_LIMIT_SECONDS = 2.0
MAX_OUTPUT_CHARS = 1_000_000
MAX_VALUE_CHARS = 16 * 1024 * 1024  # any value a template builds (a large HTTP body still fits)
MAX_INT_BITS = 64_000  # about 19,000 decimal digits; Python refuses to print more than 4,300 anyway
RENDER_MEMORY_BYTES = 256 * 1024 * 1024
_CHECK_EVERY = 1024  # loop iterations between clock checks
TICK_SECONDS = 0.05  # process CPU time between the timer's looks at the render's deadline
_state = threading.local()
_END = object()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class RenderLimit(Exception):
    """Stop a render that exceeded its time, size or memory limit (becomes a TemplateError)."""


def size_error(what: str, size: int | float, limit: int = MAX_VALUE_CHARS, unit: str = "characters") -> RenderLimit:
    """Return the error for `what` that would build a value of `size` `unit`."""
    shown = f"{size:.3g}" if isinstance(size, float) or size > 10 ** 12 else str(size)
    return RenderLimit(f"exceeded its size limit: {what} would build about {shown} {unit} (at most {limit})")


def require(size: int | float, what: str, limit: int = MAX_VALUE_CHARS) -> None:
    """Raise RenderLimit when `what` would build more than `limit` characters."""
    if size > limit:
        raise size_error(what, size, limit)


def check_clock() -> None:
    """Raise RenderLimit when the current render has passed its deadline."""
    deadline = getattr(_state, "deadline", math.inf)
    if time.monotonic() > deadline:
        raise RenderLimit(f"exceeded its time limit: took longer than {_state.seconds:g} s to render; "
                          f"simplify its loops")


def loop_guard(iterable: Any) -> Any:
    """Wrap a `{% for %}` iterable so long loops check the render deadline.

    Short sized loops are returned as they are: the call itself checked the clock, and every
    loop start calls it again, so only long loops pay for the per-item wrapper.
    """
    check_clock()
    try:
        if len(iterable) <= _CHECK_EVERY:
            return iterable
    except TypeError:  # no length (a generator): wrap it
        pass
    return _checked(iterable)


def _checked(iterable: Any) -> Iterator[Any]:
    for index, item in enumerate(iterable):
        if index % _CHECK_EVERY == _CHECK_EVERY - 1:
            check_clock()
        yield item


def measure(value: Any, limit: int = MAX_VALUE_CHARS, indent: int = 0) -> int:
    """Return about how many characters `value` prints as, stopping once past `limit`.

    Shared references count every time they appear, because printing or joining them copies
    them every time: a list holding one long text a thousand times is a thousand texts long.
    With `indent`, every item also counts a line indented by `indent` per level (JSON output).
    """
    total, visited, stack = 0, 0, [iter((value,))]
    while stack and total <= limit:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        visited += 1
        total += indent * len(stack)
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.append(chain(item.keys(), item.values()))
        elif isinstance(item, (list, tuple)):
            total += 2 + 2 * len(item)
            stack.append(iter(item))
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if visited % 4096 == 0:
            check_clock()
    return total


class bounded:
    """Run the block under the render limits: a deadline, an interrupt and a memory cap.

    A class rather than a generator: workers enter it for every template, and inside a
    `render_scope` (a run) it only sets and restores the deadline, the scope holding the
    memory cap and the interrupt for all of the run's renders.
    """

    __slots__ = ("time_limit", "previous", "standalone")

    def __init__(self, time_limit: float):
        self.time_limit = time_limit

    def __enter__(self) -> None:
        state, limit = _state, self.time_limit
        self.previous = getattr(state, "deadline", math.inf), getattr(state, "seconds", None)
        self.standalone = None
        state.deadline, state.seconds = time.monotonic() + limit, limit
        if self.previous[0] == math.inf and not getattr(state, "ticking", False):  # outermost, no scope timer
            standalone = _standalone(limit, memory=not getattr(state, "scoped", False))
            try:
                standalone.__enter__()
            except BaseException:
                state.deadline, state.seconds = self.previous
                raise
            self.standalone = standalone

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if self.standalone is not None:
                self.standalone.__exit__(*exc_info)
        finally:
            # A plain attribute store: no signal handler runs in between, so once this line ran
            # no tick can find the render's deadline passed (the interrupt stops at once).
            _state.deadline, _state.seconds = self.previous


@contextmanager
def _standalone(time_limit: float, memory: bool) -> Iterator[None]:
    """The interrupt (and, outside a scope, the memory cap) of one render that no scope covers."""
    with _memory_cap(RENDER_MEMORY_BYTES if memory else None), _interrupt(time_limit):
        yield


@contextmanager
def render_scope() -> Iterator[None]:
    """Hold the render bounds for a whole block of renders (a run) instead of setting them per render.

    Why: per render, setting the memory cap read the process's size and changed its limit twice,
    and arming the interrupt took two timer system calls and a signal-handler lookup; a run of a
    few template nodes spent more on that than on rendering. In the scope:

    - the memory cap is set once, and each render inside only sets its deadline;
    - in the main thread (where workers render), the CPU-time timer is armed once and ticks
      every `TICK_SECONDS` of the process's CPU time until the scope ends; each tick compares the
      current render's deadline (none between renders: a tick then does nothing), so a render
      stops at most one tick after its time limit, as with a timer armed per render. Other
      threads still get a profile hook per render.

    Nested scopes reuse the outer one.
    """
    if getattr(_state, "scoped", False):
        yield
        return
    with _memory_cap(RENDER_MEMORY_BYTES):
        ticking = _timer_available()
        if ticking:
            signal.setitimer(signal.ITIMER_PROF, TICK_SECONDS, TICK_SECONDS)
        _state.scoped, _state.ticking = True, ticking
        try:
            yield
        finally:
            _state.scoped, _state.ticking = False, False
            if ticking:
                signal.setitimer(signal.ITIMER_PROF, 0)


@contextmanager
def _interrupt(time_limit: float) -> Iterator[None]:
    """Interrupt the block once it has run `time_limit` seconds (the handler checks the deadline)."""
    if _timer_available():
        signal.setitimer(signal.ITIMER_PROF, time_limit, TICK_SECONDS)  # then every tick until disarmed
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
    elif sys.getprofile() is None:
        sys.setprofile(_profile_hook(_state.deadline))
        try:
            yield
        finally:
            sys.setprofile(None)
    else:  # someone else profiles this thread: the sandbox hooks still check the clock
        yield


def _timer_available() -> bool:
    """Install the timer handler if this is the main thread and SIGPROF is free; say whether it is."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    try:
        current = _raw_getsignal(signal.SIGPROF)
        if current is not _on_timer:
            if current not in (signal.SIG_DFL, None) or signal.getitimer(signal.ITIMER_PROF) != (0.0, 0.0):
                return False
            signal.signal(signal.SIGPROF, _on_timer)  # stays installed: harmless between renders
    except (OSError, ValueError):
        return False
    return True


def _on_timer(signum: int, frame: Any) -> None:
    """Stop the render in the main thread once it is past its deadline (no-op otherwise).

    Once per render: the timer keeps ticking while the stopped render unwinds, and raising again
    there would land in whatever cleanup runs (a generator's finaliser, the interpreter's hook for
    errors it cannot raise). The sandbox's own checks (calls, loops, output) still raise each time.
    """
    deadline = getattr(_state, "deadline", math.inf)
    if deadline != getattr(_state, "interrupted", None) and time.monotonic() > deadline:
        _state.interrupted = deadline  # each render's deadline is its own moment: this one is stopped
        check_clock()


def _profile_hook(deadline: float) -> Any:
    """Return a profile function that stops the render at `deadline` from inside any call.

    It sees every Python and builtin function call in the rendering thread, so a long loop
    inside a filter stops too. Only the clock is compared on each event; `check_clock` then
    reads the render's state, which `bounded` clears before it removes the hook.
    """
    clock = time.monotonic

    def hook(frame: Any, event: str, arg: Any) -> None:
        if clock() > deadline:
            check_clock()

    return hook


_memory_lock = threading.Lock()
_memory_users = 0
_memory_saved: tuple[int, int] | None = None


@contextmanager
def _memory_cap(budget: int | None) -> Iterator[None]:
    """Cap the process's data memory at its current size plus `budget` while the block runs."""
    global _memory_users, _memory_saved
    if budget is None:
        yield
        return
    with _memory_lock:
        if _memory_users == 0:
            _memory_saved = _set_cap(budget)
        _memory_users += 1
    try:
        yield
    finally:
        with _memory_lock:
            _memory_users -= 1
            if _memory_users == 0 and _memory_saved is not None:
                resource.setrlimit(resource.RLIMIT_DATA, _memory_saved)
                _memory_saved = None


def _set_cap(budget: int) -> tuple[int, int] | None:
    """Lower RLIMIT_DATA to the current data size plus `budget`; return the limits to restore."""
    used = _data_bytes()
    if resource is None or used is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = used + budget
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        return None  # already at least as strict
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (ValueError, OSError):
        return None
    return soft, hard


def _data_bytes() -> int | None:
    """Return the process's data memory (data and stack, from /proc/self/statm), or None where unknown."""
    try:
        descriptor = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            return int(os.read(descriptor, 256).split()[5]) * _PAGE_SIZE
        finally:
            os.close(descriptor)
    except (OSError, ValueError, IndexError):
        return None
