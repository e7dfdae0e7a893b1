"""Resuming a run from its journal: completed steps are replayed, never re-executed."""

from __future__ import annotations

import copy

import pytest

import flows

INPUTS = {"user_message": "What is the status of db?", "service": "db"}
TRIGGER = {"type": "api", "request_id": "req-1"}


@pytest.fixture
def baseline(ops_flow, run_flow):
    """The uninterrupted run every resumed run must reproduce."""
    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER)
    assert outcome.status == "succeeded"
    return outcome, journal.completed_steps()


def _crashed_journal(memory_journal, steps: list[flows.StepRecord], completed: int, in_flight: bool):
    """Journal of a worker that died after `completed` steps (and maybe during the next one)."""
    records = copy.deepcopy(steps[:completed])
    if in_flight:
        running = copy.deepcopy(steps[completed])
        running.status, running.output, running.port = "running", None, None
        records.append(running)
    return memory_journal(records)


@pytest.mark.parametrize("completed", range(0, 5))
@pytest.mark.parametrize("in_flight", [True, False], ids=["died-during-step", "died-between-steps"])
def test_resumed_run_equals_uninterrupted_run(completed, in_flight, baseline, ops_flow, run_flow, memory_journal):
    expected, steps = baseline
    journal = _crashed_journal(memory_journal, steps, completed, in_flight)

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=journal)

    assert outcome.output == expected.output
    assert outcome.status == "succeeded"
    assert outcome.steps == len(steps) - completed
    # Only the nodes after the completed ones ran; the in-flight one ran again as attempt 2.
    assert journal.executed == [step.node_id for step in steps[completed:]]
    assert journal.started[0]["seq"] == completed + 1
    assert journal.started[0]["attempt"] == (2 if in_flight else 1)
    assert [(r.seq, r.node_id, r.status, r.output, r.port) for r in journal.completed_steps()] == \
        [(r.seq, r.node_id, r.status, r.output, r.port) for r in steps]


def test_fully_recorded_run_executes_nothing_and_restores_the_reply(baseline, ops_flow, run_flow, memory_journal):
    expected, steps = baseline

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=memory_journal(steps))

    assert (outcome.status, outcome.output, outcome.steps) == ("succeeded", expected.output, 0)
    assert journal.executed == []


def test_replayed_outputs_feed_later_templates(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline
    records = copy.deepcopy(steps[:3])
    records[2].output = {"text": "Service db was restored from the journal."}

    outcome, _ = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=memory_journal(records))

    assert outcome.output["text"] == "Service db was restored from the journal."


def test_a_failed_step_means_the_run_already_failed(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline
    records = copy.deepcopy(steps[:3])
    records[2].status, records[2].output = "failed", None

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=memory_journal(records))

    assert outcome.status == "failed"
    assert outcome.error_node_id == "check"
    assert outcome.steps == 0
    assert journal.executed == []


def test_a_journal_that_does_not_match_the_graph_fails_clearly(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline
    records = copy.deepcopy(steps)
    records[4].node_id = "help_reply"  # the condition took "status", so this cannot have happened

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=memory_journal(records))

    assert outcome.status == "failed"
    assert outcome.error == ("Cannot resume the run: step 5 ran node 'help_reply', but the flow would run "
                             "'status_reply' at that point.")
    assert journal.executed == []


def test_an_in_flight_step_for_the_wrong_node_fails_clearly(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline
    records = copy.deepcopy(steps[:2]) + [flows.StepRecord(3, "route", "running", None, None)]

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER, journal=memory_journal(records))

    assert outcome.error.startswith("Cannot resume the run: step 3 ran node 'route', but the flow would run 'check'")
    assert journal.executed == []


def test_gaps_in_the_journal_are_refused(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline

    outcome, _ = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER,
                          journal=memory_journal([steps[0], steps[2]]))

    assert outcome.error == "Cannot resume the run: its recorded steps jump from step 1 to step 3."


def test_step_limit_counts_replayed_steps(baseline, ops_flow, run_flow, memory_journal):
    _, steps = baseline

    outcome, journal = run_flow(ops_flow, "api", INPUTS, trigger=TRIGGER,
                                journal=memory_journal(steps[:3]), max_steps=4)

    assert (outcome.error, outcome.error_node_id) == ("step limit of 4 reached", "status_reply")
    assert journal.executed == ["route"]
