"""When the clock wakes: at a timer's exact time when one is due before the next tick, and never in a
tight loop when a timer stays due (one that cannot be moved must not make the clock spin)."""

from __future__ import annotations

import time

from app.clock.loop import TICK_SECONDS, _until_next_tick


def _to_boundary(now: float) -> float:
    return TICK_SECONDS - (now % TICK_SECONDS) + 0.005


def _early_in_a_tick() -> None:
    """Wait for the start of a tick, so a check a few milliseconds long does not straddle two."""
    while _to_boundary(time.time()) < 0.15:
        time.sleep(0.01)


def test_a_timer_due_before_the_next_tick_wakes_the_clock_at_its_time():
    for _ in range(50):  # a pause of the test process (a loaded machine) that reaches the tick's end: again
        _early_in_a_tick()
        before = time.time()
        due = before + 0.06
        slept = _until_next_tick(due)
        after = time.time()
        if _to_boundary(after) > 0.07 and after - before < 0.05:
            break
    assert due - after < slept <= due - before + 0.001


def test_without_a_timer_or_with_a_later_one_the_clock_sleeps_to_the_tick_boundary():
    for next_due in (None, time.time() + 3600):
        _early_in_a_tick()
        before = _to_boundary(time.time())
        slept = _until_next_tick(next_due)
        assert _to_boundary(time.time()) <= slept <= before


def test_a_timer_still_due_does_not_make_the_clock_spin():
    _early_in_a_tick()
    before = _to_boundary(time.time())
    slept = _until_next_tick(time.time() - 5)
    assert _to_boundary(time.time()) <= slept <= before
