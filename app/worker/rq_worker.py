"""The RQ worker class that executes runs: RQ's SimpleWorker with less bookkeeping per job.

Why a subclass: measured with `redis-cli monitor`, RQ 3 sends about 22 round trips to Redis per
job, and nine of them are the worker's own heartbeat (HSET + two EXPIREs, three times per job:
before dequeueing, after dequeueing and after the job), plus the worker's state written as
"idle" twice in a row. The heartbeat only keeps the worker's key alive (its TTL is minutes) so
monitors can tell it is alive; sending it once every couple of seconds says the same thing. In
a py-spy profile of a worker draining a backlog those writes were about 12 % of its time. Heartbeats that
carry a timeout (a job starting) or go through a pipeline (part of RQ's own transactions) are
sent as RQ sends them, as is every write about jobs.
"""

from __future__ import annotations

import time

from rq import SimpleWorker, Worker

HEARTBEAT_EVERY_SECONDS = 2.0


class _LessChatty:
    """Skip repeated plain heartbeats and state writes; a mixin for RQ's worker classes."""

    _last_plain_heartbeat = 0.0
    _state_written: str | None = None

    def heartbeat(self, timeout=None, pipeline=None):
        if timeout is None and pipeline is None:
            if time.monotonic() - self._last_plain_heartbeat < HEARTBEAT_EVERY_SECONDS:
                return
            self._last_plain_heartbeat = time.monotonic()
        super().heartbeat(timeout=timeout, pipeline=pipeline)

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == self._state_written:
            self._state = state
            return
        self._state_written = state if pipeline is None else None
        super().set_state(state, pipeline=pipeline)


class RunWorker(_LessChatty, SimpleWorker):
    """Execute jobs in the worker process itself (no fork per job; see worker.py)."""


class ForkingRunWorker(_LessChatty, Worker):
    """RQ's forking worker (a work horse per job), for deployments that want that isolation."""
