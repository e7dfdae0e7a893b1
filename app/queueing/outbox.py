"""Let a worker send what a job tells Redis with the worker's own next round trip.

Why: a run's job ends by announcing it (`app.queueing.jobs.announce_finished`), and right after
it the worker writes RQ's bookkeeping and takes the next job; three round trips that can be one.
While a worker executes a job inside `deferred(pipe)`, the job's announcement is added to the
worker's pipeline and goes out with the worker's next round trip, microseconds later, still
after the run's final status was committed. Outside a worker (tests, the sweeper, a forked work
horse) the announcement is sent at once, as before.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_local = threading.local()


@contextmanager
def deferred(pipe) -> Iterator[None]:
    """Collect this thread's announcements on `pipe` (the caller executes it) for the block."""
    _local.pipe = pipe
    try:
        yield
    finally:
        _local.pipe = None


def pipeline(redis):
    """Return (pipeline, send_now): the worker's collecting pipeline, or a fresh one to execute."""
    pipe = getattr(_local, "pipe", None)
    if pipe is not None:
        return pipe, False
    return redis.pipeline(transaction=False), True
