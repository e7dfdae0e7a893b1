"""Name how a step and a run of the engine end, as enums the app stores without translating them.

Why str enums: the values are what the app writes to its database and shows in its API, so a
step's or an outcome's status compares equal to its plain string and the app's own status
enums map from it by value (`RunStatus(outcome.status.value)`), with no table between them.
"""

from __future__ import annotations

import enum


class StepStatus(str, enum.Enum):
    """How one recorded step attempt stands: in flight, or how it ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OutcomeStatus(str, enum.Enum):
    """How one call to `run_graph()` ended.

    `CANCELED` and `TIMED_OUT` come only from the environment's `interrupt`; `WAITING` means a
    delay node parked the run and `run_graph()` must be called again at `RunOutcome.resume_at`.
    """

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WAITING = "waiting"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"
