"""Shared fixtures for the engine tests: JSON fixture loading and an in-memory Journal.

Helpers are handed out as pytest fixtures rather than imported, so these tests work under any
import mode and next to other test directories that have their own conftest.py.

The journal is a real implementation of `flows.Journal` (not a mock): it keeps the latest
attempt of each step, like the app's database journal, and it refuses to start a step that
already succeeded, so any test that resumes a run also proves completed steps are never re-run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import flows

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def load_json(relative: str) -> dict:
    """Load a JSON file from the fixtures directory."""
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def load_example(name: str) -> dict:
    """Load one of the example flows shipped in flows/examples."""
    return json.loads((REPO / "flows" / "examples" / f"{name}.json").read_text(encoding="utf-8"))


class MemoryJournal:
    """Record steps in memory, keeping the latest attempt of each step."""

    def __init__(self, records: list[flows.StepRecord] | None = None):
        self.records: dict[int, flows.StepRecord] = {r.seq: copy.deepcopy(r) for r in records or []}
        self.started: list[dict] = []  # every step_started call, in order
        self.errors: dict[int, str | None] = {}

    def completed_steps(self) -> list[flows.StepRecord]:
        return [copy.deepcopy(self.records[seq]) for seq in sorted(self.records)]

    def step_started(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict) -> None:
        previous = self.records.get(seq)
        retried_failure = previous is not None and previous.status == "failed" and previous.port is None \
            and attempt > previous.attempt  # a retry (the node's retry setting) of a failed attempt
        if previous is not None and previous.status != "running" and not retried_failure:
            raise AssertionError(f"step {seq} ({previous.node_id}) already {previous.status}; "
                                 f"completed steps must never be executed again")
        json.dumps(input)  # what a database column would require
        self.started.append({"seq": seq, "node_id": node_id, "node_type": node_type, "attempt": attempt,
                             "input": input})
        self.records[seq] = flows.StepRecord(seq=seq, node_id=node_id, status="running", output=None,
                                             port=None, attempt=attempt)

    def step_finished(self, seq: int, status: str, output: dict | None, port: str | None,
                      error: str | None) -> None:
        record = self.records[seq]
        if record.status != "running":
            raise AssertionError(f"step {seq} finished twice")
        json.dumps(output)
        record.status, record.output, record.port = status, copy.deepcopy(output), port
        self.errors[seq] = error

    def step_recorded(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict,
                      started_at: float, status: str, output: dict | None, port: str | None,
                      error: str | None) -> None:
        assert isinstance(started_at, float)
        self.step_started(seq, node_id, node_type, attempt, input)
        self.step_finished(seq, status, output, port, error)

    @property
    def executed(self) -> list[str]:
        """Node ids whose execution started during this journal's lifetime, in order."""
        return [call["node_id"] for call in self.started]


def run(document: dict, entry: str, inputs: dict | None = None, *, trigger: dict | None = None,
        journal: MemoryJournal | None = None, max_steps: int = 1000, **kwargs) -> tuple[flows.RunOutcome, MemoryJournal]:
    """Run `document` from `entry` with a fresh (or given) in-memory journal.

    Other keyword arguments (clock, sleep, credentials, settings, emit, registry...) are the
    fields of the run's `flows.RunEnvironment`.
    """
    journal = journal if journal is not None else MemoryJournal()
    outcome = flows.run_graph(
        document,
        entry_node_id=entry,
        payload={"inputs": inputs or {}, "trigger": trigger or {}},
        journal=journal,
        run_info={"id": "run-1", "flow_id": "flow-1", "version": 3},
        env=flows.RunEnvironment(max_steps=max_steps, **kwargs),
    )
    return outcome, journal


@pytest.fixture
def ops_flow() -> dict:
    """The shipped "Ops status check" example."""
    return load_example("ops_status_check")


@pytest.fixture
def run_flow():
    """Return run(document, entry, inputs, *, trigger, journal, max_steps) -> (outcome, journal)."""
    return run


@pytest.fixture
def memory_journal():
    """Return the MemoryJournal class (call it with pre-filled StepRecords to simulate a crash)."""
    return MemoryJournal


@pytest.fixture
def fixture_json():
    """Return load_json(relative_path) for files under tests/flows/fixtures."""
    return load_json
