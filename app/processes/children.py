"""Start, wait for and stop child processes: what `make run`, the benchmark and the tests share.

Why here: the supervisor of `make run` (app.processes.devstack), the benchmark's stack (bench/stack.py) and
the test stacks (tests/conftest.py, tests/faults/conftest.py) all start redis-server, gunicorn
and workers, wait for them to listen and stop them; one copy keeps their behaviour the same.
Standard library only: the supervisor must stay small.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from typing import Callable


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> bool:
    """Wait until something accepts connections on loopback `port`; False if nothing did in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_healthy(url: str, timeout: float = 30, children: list[subprocess.Popen] = (),
                 stop: Callable[[], bool] = lambda: False) -> bool:
    """Wait until `url` answers 200; False after `timeout`, as soon as one of `children` exits, or once `stop()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop() or any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child if its parent dies (no orphans even on kill -9); a preexec_fn."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: stopping the parent normally still stops every child
        pass


def stop_processes(processes: list[subprocess.Popen], grace_seconds: float) -> None:
    """SIGTERM every live process, wait for all within the grace period, then SIGKILL what is left.

    A process started with its own session is killed with its whole group (what it forked).
    """
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # only a session leader's group has its pid as id
            except OSError:
                process.kill()
            process.wait()
