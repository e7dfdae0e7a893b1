"""Execute a published flow node by node, recording each step, resuming after a crash.

The runner knows nothing about databases or queues: it reports every step to a `Journal` and
asks the journal which steps already happened. That split is what makes runs resumable
(DESIGN.md, decision 2): when a worker dies, another worker calls run_graph() again with the
same journal, the completed steps are replayed from their recorded outputs (never executed
twice), and the step that was in flight is retried.

Order is breadth-first over a FIFO frontier, and a node runs at most once per run. Both make
the execution order a pure function of the document and the ports taken, which is what lets a
replay verify that the recorded steps still match the graph.

A failing node may be tried again (its `retry` setting; each attempt is its own recorded step
attempt) and may hand its failure to the `error` port instead of failing the run (`on_error`).
Such a handled failure is recorded as a failed step that took a port, and replays like any
other completed step. A delay node parks the run: run_graph() returns `OutcomeStatus.WAITING`
with the time to resume, and a later call continues after the delay step.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from flows.environment import RunEnvironment
from flows.graph import Graph
from flows.journal import Journal, StepRecord
from flows.nodes.base import ERROR_PORT
from flows.render_limits import render_scope
from flows.status import OutcomeStatus, StepStatus
from flows.steps import RunFailed, RunState, attempts_allowed, execute_node


@dataclass
class RunOutcome:
    """Report how a call to run_graph() ended."""

    status: OutcomeStatus
    output: dict | None  # the last reply node's output, or None
    error: str | None
    error_node_id: str | None
    steps: int  # steps executed in this call, not counting replayed ones
    resume_at: float | None = None  # "waiting": when to call run_graph() again (epoch seconds)


def run_graph(document: dict | Graph, *, entry_node_id: str, payload: dict, journal: Journal, run_info: dict,
              env: RunEnvironment | None = None) -> RunOutcome:
    """Run (or resume) the flow in `document` from `entry_node_id`; never raises for node errors.

    The run's template renders share one memory cap and one interrupt timer
    (`render_limits.render_scope`): setting them per render cost more than most renders.

    `document` may also be a `Graph` built earlier: callers that run the same published
    version many times keep one Graph per version and skip re-parsing and re-checking it.

    `payload` is ``{"inputs": {...}, "trigger": {...}}``; `run_info` is exposed to templates as
    ``run``. Exceptions from the journal itself propagate: if steps cannot be recorded, the
    caller must retry later rather than run nodes whose results would be lost. `env` holds what
    the run may use (credentials, settings, events, clock) and its limits (`RunEnvironment`);
    once a step left in flight by stopped workers has had `env.max_attempts` attempts, the run
    fails rather than retrying a node that keeps killing its worker.
    """
    with render_scope():
        return _run_graph(document, entry_node_id, payload, journal, run_info, env or RunEnvironment())


def _run_graph(document: dict | Graph, entry_node_id: str, payload: dict, journal: Journal, run_info: dict,
               env: RunEnvironment) -> RunOutcome:
    """Do `run_graph`'s work under its render scope."""
    graph = document if isinstance(document, Graph) else Graph(document, env.registry)
    payload = payload if isinstance(payload, dict) else {}
    state = RunState(payload=payload, run_info=dict(run_info or {}), env=env)
    frontier: deque[str] = deque()
    steps = 0
    try:
        _check_entry(graph, entry_node_id)
        frontier.append(entry_node_id)
        seq, retry = _replay(graph, state, frontier, journal)
        if retry is None and state.resume_at is not None and state.resume_at > env.clock():
            return RunOutcome(OutcomeStatus.WAITING, state.reply, None, None, steps, resume_at=state.resume_at)
        state.resume_at = None  # the delay is over (or was not the last step)
        while True:
            node_id = _next_node(frontier, state)
            if retry is not None:  # the step in flight when the previous worker stopped, or a retry
                seq, attempt, retry = _retried(retry, node_id, env.max_attempts), retry.attempt + 1, None
            elif node_id is None:
                return RunOutcome(OutcomeStatus.SUCCEEDED, state.reply, None, None, steps)
            else:
                seq, attempt = seq + 1, 1
            if seq > env.max_steps:
                raise RunFailed(f"step limit of {env.max_steps} reached", node_id)
            stop = env.interrupt()
            if stop is not None:
                return RunOutcome(OutcomeStatus(stop[0]), state.reply, stop[1], node_id, steps)
            steps += 1
            execute_node(graph, state, frontier, journal, node_id, seq, attempt)
            if state.resume_at is not None:
                return RunOutcome(OutcomeStatus.WAITING, state.reply, None, None, steps, resume_at=state.resume_at)
    except RunFailed as failure:
        return RunOutcome(OutcomeStatus.FAILED, state.reply, failure.message, failure.node_id, steps)


def _retried(retry: StepRecord, node_id: str | None, max_attempts: int) -> int:
    """Check that step `retry` may be tried again as node `node_id`; return its seq."""
    if node_id != retry.node_id:
        raise _mismatch(retry, node_id)
    if retry.status == StepStatus.RUNNING and retry.attempt >= max_attempts:
        raise RunFailed(f"Step {retry.seq} (node '{node_id}') was interrupted {retry.attempt} times "
                        f"because its worker stopped; giving up after {max_attempts} attempts.", node_id)
    return retry.seq


def _check_entry(graph: Graph, entry_node_id: str) -> None:
    if graph.node(entry_node_id) is None:
        raise RunFailed(f"The flow has no node '{entry_node_id}' to start from.", None)
    node_type = graph.node_type(entry_node_id)
    if node_type is None or node_type.category not in ("trigger", "start"):
        raise RunFailed(f"Node '{entry_node_id}' cannot start a run; runs start at a trigger or "
                         f"at the start node.", entry_node_id)


def _next_node(frontier: deque[str], state: RunState) -> str | None:
    """Pop the next node to run, skipping nodes already executed (reached twice by fan-in)."""
    while frontier:
        node_id = frontier.popleft()
        if node_id not in state.executed:
            return node_id
    return None


def _replay(graph: Graph, state: RunState, frontier: deque[str],
            journal: Journal) -> tuple[int, StepRecord | None]:
    """Restore the run from its persisted steps; return the last seq and a step to retry.

    Each succeeded step must be the node the graph would run next; otherwise the document and
    the journal disagree and continuing would produce a run that never happened.
    """
    records = journal.completed_steps()
    seq = 0
    for position, record in enumerate(records):
        if record.seq != seq + 1:
            raise RunFailed(f"Cannot resume the run: its recorded steps jump from step {seq} to "
                             f"step {record.seq}.", record.node_id)
        state.resume_at = None
        if record.status == StepStatus.FAILED and record.port != ERROR_PORT:
            if position == len(records) - 1 and record.attempt < attempts_allowed(graph, record.node_id):
                return seq, record  # failed, with attempts left: the worker stopped before retrying
            raise RunFailed(f"The run already failed at step {record.seq} (node '{record.node_id}').",
                             record.node_id)
        if record.status == StepStatus.RUNNING:
            if position != len(records) - 1:
                raise RunFailed(f"Cannot resume the run: step {record.seq} is still marked running "
                                 f"but later steps exist.", record.node_id)
            return seq, record
        if record.status not in (StepStatus.SUCCEEDED, StepStatus.FAILED):
            raise RunFailed(f"Cannot resume the run: step {record.seq} has the unknown status "
                             f"'{record.status}'.", record.node_id)
        node_id = _next_node(frontier, state)
        if node_id != record.node_id:
            raise _mismatch(record, node_id)
        node_type = graph.node_type(node_id)
        if node_type is None:
            raise _mismatch(record, node_id)
        output = record.output if isinstance(record.output, dict) else {}
        state.record(node_id, node_type, output, node_type.replies and record.status == StepStatus.SUCCEEDED)
        if node_type.waits and record.status == StepStatus.SUCCEEDED and isinstance(output.get("resume_at_epoch"), (int, float)):
            state.resume_at = float(output["resume_at_epoch"])  # still waiting if nothing ran after it
        if record.port is not None:
            frontier.extend(graph.successors(node_id, record.port))
        seq = record.seq
    return seq, None


def _mismatch(record: StepRecord, expected: str | None) -> RunFailed:
    would_run = f"'{expected}'" if expected else "nothing"
    return RunFailed(f"Cannot resume the run: step {record.seq} ran node '{record.node_id}', but the "
                      f"flow would run {would_run} at that point.", record.node_id)
