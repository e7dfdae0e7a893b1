"""`worker.py --workers N --with-scheduler`: forked workers stop, die and come back like lone ones.

The parent passes SIGTERM on (the current run finishes), replaces a child killed outright, and
takes its children with it when it is killed itself.
"""

from __future__ import annotations

import signal
import sys
import time

import psutil
import pytest

from tests.faults.conftest import FaultStack, start_slow_run


@pytest.fixture
def family_stack(app, stack, tmp_path):
    """Redis, web and one worker family (2 workers + the scheduler); no lone workers."""
    faults = FaultStack(stack, tmp_path, workers=0)
    faults.start()
    family = faults._spawn([sys.executable, "worker.py", "--workers", "2", "--with-scheduler"], "family")
    faults.others.append(family)
    log = tmp_path / "family.log"
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("Listening on") < 2:
        assert time.monotonic() < deadline and family.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.1)
    yield faults, family
    faults.stop()


def _children(pid: int) -> set[int]:
    return {child.pid for child in psutil.Process(pid).children()}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_sigterm_to_the_parent_lets_the_current_run_finish(app, family_stack, slow_service):
    from app.extensions import db
    from app.models import Run

    faults, family = family_stack
    run_id = start_slow_run(app, faults.base_url, "Family", slow_service.url)
    children = _children(family.pid)
    family.send_signal(signal.SIGTERM)
    assert family.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in children)
    with app.app_context():
        run = db.session.get(Run, run_id)
        assert run.status.value == "succeeded" and run.attempts == 1
        db.session.remove()


def test_a_killed_child_is_replaced_and_children_die_with_the_parent(family_stack):
    _, family = family_stack
    children = _children(family.pid)
    assert len(children) == 3  # two workers and the scheduler
    victim = min(children)
    psutil.Process(victim).kill()
    assert _wait(lambda: len(_children(family.pid) - {victim}) == 3, 10), "the killed child was not replaced"
    survivors = _children(family.pid)
    family.kill()
    family.wait(timeout=5)
    assert _wait(lambda: not any(_alive(pid) for pid in survivors), 15), "children outlived their parent"
