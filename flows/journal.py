"""Describe what the runner asks of the place its steps are stored (the `Journal` protocol).

Its own module so both the runner (which decides the next node) and `flows.steps` (which runs
one node) can depend on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flows.status import StepStatus


@dataclass
class StepRecord:
    """Describe one persisted step, as the journal reports it back."""

    seq: int
    node_id: str
    status: StepStatus | str  # a StepStatus value; journals may report the plain string
    output: dict | None
    port: str | None
    attempt: int = 1


class Journal(Protocol):
    """Persist the runner's steps; the app implements this on top of its database.

    A protocol rather than a base class so the app's journal needs no import-time coupling
    beyond the method names; tests use an in-memory implementation.
    """

    def completed_steps(self) -> list[StepRecord]:
        """Return the persisted steps in seq order (for resuming)."""

    def step_started(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict) -> None:
        """Persist that step `seq` is about to execute."""

    def step_finished(self, seq: int, status: StepStatus, output: dict | None, port: str | None,
                      error: str | None) -> None:
        """Persist how step `seq` ended."""

    def step_recorded(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict,
                      started_at: float, status: StepStatus, output: dict | None, port: str | None,
                      error: str | None) -> None:
        """Persist a whole step at once (nodes without a checkpoint); `started_at` is epoch seconds."""
