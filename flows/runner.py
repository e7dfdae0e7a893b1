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
other completed step. A delay node parks the run: run_graph() returns "waiting" with the time
to resume, and a later call continues after the delay step.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Protocol

from flows.graph import Graph
from flows.nodes import NodeRegistry
from flows.nodes.base import ERROR_PORT, NodeContext, NodeError, NodeResult, NodeType
from flows.redaction import redact
from flows.templating import TemplateError

MAX_BACKOFF_SECONDS = 300.0


@dataclass
class StepRecord:
    """Describe one persisted step, as the journal reports it back."""

    seq: int
    node_id: str
    status: str  # "succeeded" | "failed" | "running"
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

    def step_finished(self, seq: int, status: str, output: dict | None, port: str | None,
                      error: str | None) -> None:
        """Persist how step `seq` ended."""

    def step_recorded(self, seq: int, node_id: str, node_type: str, attempt: int, input: dict,
                      started_at: float, status: str, output: dict | None, port: str | None,
                      error: str | None) -> None:
        """Persist a whole step at once (nodes without a checkpoint); `started_at` is epoch seconds."""


@dataclass
class RunOutcome:
    """Report how a call to run_graph() ended."""

    # "succeeded" | "failed" | "waiting" | "canceled" | "timed_out" (the last two only via `interrupt`)
    status: str
    output: dict | None  # the last reply node's output, or None
    error: str | None
    error_node_id: str | None
    steps: int  # steps executed in this call, not counting replayed ones
    resume_at: float | None = None  # "waiting": when to call run_graph() again (epoch seconds)


class _RunFailed(Exception):
    """Stop the run with a message for the user (internal control flow)."""

    def __init__(self, message: str, node_id: str | None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id


class _NodeFailure(Exception):
    """Fail the current step with a message for the user (internal control flow)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class _State:
    """Hold the data a run accumulates: what templates see and what the outcome reports."""

    payload: dict
    run_info: dict
    inputs: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    reply: dict | None = None
    executed: set = field(default_factory=set)
    resume_at: float | None = None  # set when the last step parked the run
    services: dict = field(default_factory=dict)  # emit, credentials, settings, clock, sleep

    def record(self, node_id: str, node_type: NodeType, output: dict, is_reply: bool) -> None:
        self.executed.add(node_id)
        self.nodes[node_id] = output
        if node_type.category == "start":
            self.inputs = output
        if is_reply:
            self.reply = output


def run_graph(document: dict, *, entry_node_id: str, payload: dict, journal: Journal, run_info: dict,
              max_steps: int = 1000, registry: NodeRegistry | None = None, max_attempts: int = 3,
              interrupt: Callable[[], tuple[str, str] | None] | None = None,
              emit: Callable[[dict], None] | None = None,
              credentials: Callable[[str], dict | None] | None = None,
              settings: dict | None = None, clock: Callable[[], float] = time.time,
              sleep: Callable[[float], None] = time.sleep) -> RunOutcome:
    """Run (or resume) the flow in `document` from `entry_node_id`; never raises for node errors.

    `document` may also be a `Graph` built earlier: callers that run the same published
    version many times keep one Graph per version and skip re-parsing and re-checking it.

    `payload` is ``{"inputs": {...}, "trigger": {...}}``; `run_info` is exposed to templates as
    ``run``. Exceptions from the journal itself propagate: if steps cannot be recorded, the
    caller must retry later rather than run nodes whose results would be lost. `registry`
    defaults to the engine's node types.

    A step left in flight by a stopped worker is retried until it has had `max_attempts`
    attempts; then the run fails, rather than retrying a node that keeps killing its worker.
    `interrupt`, called before each step, may return ``(status, message)`` to stop the run
    there, e.g. ``("canceled", …)`` or ``("timed_out", …)``.

    `emit` receives partial results nodes publish (LLM tokens, replies); `credentials` resolves
    a credential name for nodes that need one; `settings` are operator settings for nodes (e.g.
    ``http_allowed_networks``). `clock` and `sleep` serve delays and retry back-off.
    """
    graph = document if isinstance(document, Graph) else Graph(document, registry)
    payload = payload if isinstance(payload, dict) else {}
    state = _State(payload=payload, run_info=dict(run_info or {}), services={
        "emit": emit or (lambda event: None), "credentials": credentials, "settings": dict(settings or {}),
        "clock": clock, "sleep": sleep, "interrupt": interrupt})
    frontier: deque[str] = deque()
    steps = 0
    try:
        _check_entry(graph, entry_node_id)
        frontier.append(entry_node_id)
        seq, retry = _replay(graph, state, frontier, journal)
        if retry is None and state.resume_at is not None and state.resume_at > clock():
            return RunOutcome("waiting", state.reply, None, None, steps, resume_at=state.resume_at)
        state.resume_at = None  # the delay is over (or was not the last step)
        while True:
            node_id = _next_node(frontier, state)
            if retry is not None:  # the step in flight when the previous worker stopped, or a retry
                if node_id != retry.node_id:
                    raise _mismatch(retry, node_id)
                if retry.status == "running" and retry.attempt >= max_attempts:
                    raise _RunFailed(f"Step {retry.seq} (node '{node_id}') was interrupted {retry.attempt} times "
                                     f"because its worker stopped; giving up after {max_attempts} attempts.",
                                     node_id)
                seq, attempt, retry = retry.seq, retry.attempt + 1, None
            elif node_id is None:
                return RunOutcome("succeeded", state.reply, None, None, steps)
            else:
                seq, attempt = seq + 1, 1
            if seq > max_steps:
                raise _RunFailed(f"step limit of {max_steps} reached", node_id)
            stop = interrupt() if interrupt else None
            if stop is not None:
                return RunOutcome(stop[0], state.reply, stop[1], node_id, steps)
            steps += 1
            _execute(graph, state, frontier, journal, node_id, seq, attempt)
            if state.resume_at is not None:
                return RunOutcome("waiting", state.reply, None, None, steps, resume_at=state.resume_at)
    except _RunFailed as failure:
        return RunOutcome("failed", state.reply, failure.message, failure.node_id, steps)


def _check_entry(graph: Graph, entry_node_id: str) -> None:
    if graph.node(entry_node_id) is None:
        raise _RunFailed(f"The flow has no node '{entry_node_id}' to start from.", None)
    node_type = graph.node_type(entry_node_id)
    if node_type is None or node_type.category not in ("trigger", "start"):
        raise _RunFailed(f"Node '{entry_node_id}' cannot start a run; runs start at a trigger or "
                         f"at the start node.", entry_node_id)


def _next_node(frontier: deque[str], state: _State) -> str | None:
    """Pop the next node to run, skipping nodes already executed (reached twice by fan-in)."""
    while frontier:
        node_id = frontier.popleft()
        if node_id not in state.executed:
            return node_id
    return None


def _replay(graph: Graph, state: _State, frontier: deque[str],
            journal: Journal) -> tuple[int, StepRecord | None]:
    """Restore the run from its persisted steps; return the last seq and a step to retry.

    Each succeeded step must be the node the graph would run next; otherwise the document and
    the journal disagree and continuing would produce a run that never happened.
    """
    records = journal.completed_steps()
    seq = 0
    for position, record in enumerate(records):
        if record.seq != seq + 1:
            raise _RunFailed(f"Cannot resume the run: its recorded steps jump from step {seq} to "
                             f"step {record.seq}.", record.node_id)
        state.resume_at = None
        if record.status == "failed" and record.port != ERROR_PORT:
            if position == len(records) - 1 and record.attempt < _attempts_allowed(graph, record.node_id):
                return seq, record  # failed, with attempts left: the worker stopped before retrying
            raise _RunFailed(f"The run already failed at step {record.seq} (node '{record.node_id}').",
                             record.node_id)
        if record.status == "running":
            if position != len(records) - 1:
                raise _RunFailed(f"Cannot resume the run: step {record.seq} is still marked running "
                                 f"but later steps exist.", record.node_id)
            return seq, record
        if record.status not in ("succeeded", "failed"):
            raise _RunFailed(f"Cannot resume the run: step {record.seq} has the unknown status "
                             f"'{record.status}'.", record.node_id)
        node_id = _next_node(frontier, state)
        if node_id != record.node_id:
            raise _mismatch(record, node_id)
        node_type = graph.node_type(node_id)
        if node_type is None:
            raise _mismatch(record, node_id)
        output = record.output if isinstance(record.output, dict) else {}
        state.record(node_id, node_type, output, node_type.replies and record.status == "succeeded")
        if node_type.waits and record.status == "succeeded" and isinstance(output.get("resume_at_epoch"), (int, float)):
            state.resume_at = float(output["resume_at_epoch"])  # still waiting if nothing ran after it
        if record.port is not None:
            frontier.extend(graph.successors(node_id, record.port))
        seq = record.seq
    return seq, None


def _attempts_allowed(graph: Graph, node_id: str) -> int:
    """Return how many attempts the node's retry setting allows (1 without one)."""
    node_type = graph.node_type(node_id)
    config = (graph.node(node_id) or {}).get("config")
    if node_type is None or not node_type.handles_errors or not isinstance(config, dict):
        return 1
    retry = config.get("retry")
    attempts = retry.get("attempts", 1) if isinstance(retry, dict) else 1
    return attempts if isinstance(attempts, int) and not isinstance(attempts, bool) and attempts >= 1 else 1


def _mismatch(record: StepRecord, expected: str | None) -> _RunFailed:
    would_run = f"'{expected}'" if expected else "nothing"
    return _RunFailed(f"Cannot resume the run: step {record.seq} ran node '{record.node_id}', but the "
                      f"flow would run {would_run} at that point.", record.node_id)


def _execute(graph: Graph, state: _State, frontier: deque[str], journal: Journal, node_id: str,
             seq: int, attempt: int) -> None:
    """Run one node as step `seq`, trying again as its retry setting allows, and record each attempt.

    Raise _RunFailed if the last attempt fails and the node has no error port; with one, the
    failure is recorded on the step and the run continues from `error`.
    """
    node = graph.nodes[node_id]
    node_type = graph.node_type(node_id)
    allowed = _attempts_allowed(graph, node_id)
    services = state.services
    while True:
        result, error = _attempt(graph, state, journal, node, node_type, seq, attempt)
        if error is None:
            break
        if attempt < allowed and not _stopping(services):
            services["sleep"](_backoff(node, attempt))
            attempt += 1
            continue
        if _error_port(node_type, node):
            output = {"error": {"message": error, "attempts": attempt}}
            state.record(node_id, node_type, output, False)
            frontier.extend(graph.successors(node_id, ERROR_PORT))
            return
        raise _RunFailed(error, node_id)
    state.record(node_id, node_type, result.output, result.reply)
    if result.port is not None:
        frontier.extend(graph.successors(node_id, result.port))
    if result.resume_at is not None and result.resume_at > services["clock"]():
        state.resume_at = result.resume_at


def _attempt(graph: Graph, state: _State, journal: Journal, node: dict, node_type: NodeType | None,
             seq: int, attempt: int) -> tuple[NodeResult | None, str | None]:
    """Run one attempt and record it; return (result, None) or (None, error message)."""
    node_id = node["id"]
    type_name = str(node.get("type"))
    config = node.get("config", {})
    services = state.services
    ctx = NodeContext(
        node=node,
        config=node_type.effective_config(config) if node_type and isinstance(config, dict) else {},
        payload=state.payload,
        inputs=state.inputs,
        nodes=state.nodes,
        run=state.run_info,
        emit=services["emit"],
        credential_resolver=services["credentials"],
        settings=services["settings"],
        attempt=attempt,
        clock=services["clock"],
    )
    step_input = _step_input(node_type, ctx)
    checkpoint = node_type is None or node_type.checkpoint_before_run
    started_at = time.time()
    if checkpoint:
        journal.step_started(seq, node_id, type_name, attempt, step_input)

    def record(status: str, output: dict | None, port: str | None, error: str | None) -> None:
        if checkpoint:
            journal.step_finished(seq, status, output, port, error)
        else:
            journal.step_recorded(seq, node_id, type_name, attempt, step_input, started_at, status, output,
                                  port, error)

    try:
        result = _run_node(graph, node_type, type_name, ctx)
    except _NodeFailure as failure:
        message = redact(failure.message, ctx.secrets)
        last = attempt >= _attempts_allowed(graph, node_id) or _stopping(services)
        if last and _error_port(node_type, node):
            record("failed", {"error": {"message": message, "attempts": attempt}}, ERROR_PORT, message)
        else:
            record("failed", None, None, message)
        return None, message
    result.output = redact(result.output, ctx.secrets)
    record("succeeded", result.output, result.port, None)
    return result, None


def _error_port(node_type: NodeType | None, node: dict) -> bool:
    config = node.get("config")
    return bool(node_type and node_type.handles_errors and isinstance(config, dict)
                and config.get("on_error") == "port")


def _backoff(node: dict, attempt: int) -> float:
    """Wait `backoff_seconds`, doubled for each attempt after the first retry, capped."""
    retry = (node.get("config") or {}).get("retry") or {}
    base = retry.get("backoff_seconds", 1) if isinstance(retry, dict) else 1
    base = base if isinstance(base, (int, float)) and not isinstance(base, bool) and base >= 0 else 1
    return min(MAX_BACKOFF_SECONDS, float(base) * (2 ** (attempt - 1)))


def _stopping(services: dict) -> bool:
    """Ask `interrupt` whether the run is being stopped; then no further attempt is made."""
    interrupt = services.get("interrupt")
    return bool(interrupt and interrupt() is not None)


def _step_input(node_type: NodeType | None, ctx: NodeContext) -> dict:
    """Return the recorded input of a step; a broken step_input() must not stop the run."""
    try:
        step_input = _plain(node_type.step_input(ctx)) if node_type else {}
    except Exception:  # noqa: BLE001 - the input is informational only
        return {}
    return step_input if isinstance(step_input, dict) else {}


def _run_node(graph: Graph, node_type: NodeType | None, type_name: str, ctx: NodeContext) -> NodeResult:
    """Call the node and check what it returned; turn every failure into a readable message."""
    if node_type is None:
        raise _NodeFailure(f"Unknown node type '{type_name}'; this server cannot run it.")
    error = graph.config_error(ctx.node["id"])
    if error:
        raise _NodeFailure(f"The node's settings are invalid ({error}); open the flow and save it "
                           f"again to see every problem.")
    try:
        result = node_type.run(ctx)
    except (NodeError, TemplateError) as exc:
        raise _NodeFailure(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a node bug must fail the step, not the worker
        raise _NodeFailure(f"Unexpected error in the {type_name} node: {type(exc).__name__}: {exc}") from None
    if not isinstance(result, NodeResult) or not isinstance(result.output, dict):
        raise _NodeFailure(f"The {type_name} node returned no result; this is a bug in the node type.")
    if result.port is not None and result.port not in node_type.all_output_ports(ctx.config):
        raise _NodeFailure(f"The {type_name} node chose the unknown port '{result.port}'; this is a bug "
                           f"in the node type.")
    try:
        output = _plain(result.output)
    except (TypeError, ValueError, RecursionError):
        raise _NodeFailure(f"The {type_name} node produced output that cannot be stored as JSON; this is "
                           f"a bug in the node type.") from None
    return NodeResult(output=output, port=result.port, reply=result.reply, resume_at=result.resume_at)


def _plain(value: dict) -> dict:
    """Return a JSON round-trip copy of `value`.

    A resumed run reads outputs back from storage as plain JSON; giving the uninterrupted run
    exactly the same plain copies guarantees both see identical data (tuples become lists,
    dict subclasses become dicts) and that no later change to a node's own objects leaks in.
    """
    return json.loads(json.dumps(value, allow_nan=False))
