"""Fixtures of the worker tests: the scheduler process, started as production starts it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def clock_process(stack):
    """The scheduler process (rq-scheduler's clock + sweeper), as in production."""
    log = open(stack.instance_path / "clock.log", "ab")
    process = subprocess.Popen([sys.executable, "worker.py", "--scheduler"], cwd=ROOT, env=stack.env,
                               stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
