"""Run one node of a run as a step: its attempts, retries, error port, redaction and checks.

Split from the runner, which decides *which* node runs next (breadth-first, replay, parking);
this module decides *how* one node runs: each attempt recorded in the journal, a failure tried
again after a back-off as the node's `retry` setting allows, then either handed to the `error`
port or turned into the run's failure, and every secret the node was given blanked out of what
is stored. Node outputs are stored as plain JSON copies, as a resumed run would read them, with
text every store keeps (`storable_text`).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from flows.environment import RunEnvironment
from flows.graph import Graph
from flows.journal import Journal
from flows.nodes.base import ERROR_PORT, NodeContext, NodeError, NodeResult, NodeType
from flows.redaction import redact
from flows.status import StepStatus
from flows.templating import TemplateError

MAX_BACKOFF_SECONDS = 300.0


class RunFailed(Exception):
    """Stop the run with a message for the user (internal control flow)."""

    def __init__(self, message: str, node_id: str | None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id


class NodeFailure(Exception):
    """Fail the current step with a message for the user (internal control flow)."""

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass
class RunState:
    """Hold the data a run accumulates: what templates see and what the outcome reports."""

    payload: dict
    run_info: dict
    inputs: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    reply: dict | None = None
    executed: set = field(default_factory=set)
    resume_at: float | None = None  # set when the last step parked the run
    env: RunEnvironment = field(default_factory=RunEnvironment)

    def record(self, node_id: str, node_type: NodeType, output: dict, is_reply: bool) -> None:
        self.executed.add(node_id)
        self.nodes[node_id] = output
        if node_type.category == "start":
            self.inputs = output
        if is_reply:
            self.reply = output


def attempts_allowed(graph: Graph, node_id: str) -> int:
    """Return how many attempts the node's retry setting allows (1 without one)."""
    node_type = graph.node_type(node_id)
    config = (graph.node(node_id) or {}).get("config")
    if node_type is None or not node_type.handles_errors or not isinstance(config, dict):
        return 1
    retry = config.get("retry")
    attempts = retry.get("attempts", 1) if isinstance(retry, dict) else 1
    return attempts if isinstance(attempts, int) and not isinstance(attempts, bool) and attempts >= 1 else 1


def execute_node(graph: Graph, state: RunState, frontier: deque[str], journal: Journal, node_id: str,
                 seq: int, attempt: int) -> None:
    """Run one node as step `seq`, trying again as its retry setting allows, and record each attempt.

    Raise RunFailed if the last attempt fails and the node has no error port; with one, the
    failure is recorded on the step and the run continues from `error`. No further attempt is
    made once the run is being stopped (cancel, time limit).
    """
    node = graph.nodes[node_id]
    node_type = graph.node_type(node_id)
    allowed = attempts_allowed(graph, node_id)
    env = state.env
    while True:
        result, error, record = _attempt(graph, state, journal, node, node_type, seq, attempt)
        if error is None:
            break
        if attempt < allowed and env.interrupt() is None:  # no further attempt once the run is stopping
            record(StepStatus.FAILED, None, None, error)
            env.sleep(_backoff(node, attempt))
            attempt += 1
            continue
        if _error_port(node_type, node):
            output = {"error": {"message": error, "attempts": attempt}}
            record(StepStatus.FAILED, output, ERROR_PORT, error)
            state.record(node_id, node_type, output, False)
            frontier.extend(graph.successors(node_id, ERROR_PORT))
            return
        record(StepStatus.FAILED, None, None, error)
        raise RunFailed(error, node_id)
    state.record(node_id, node_type, result.output, result.reply)
    if result.port is not None:
        frontier.extend(graph.successors(node_id, result.port))
    if result.resume_at is not None and result.resume_at > env.clock():
        state.resume_at = result.resume_at


def _attempt(graph: Graph, state: RunState, journal: Journal, node: dict, node_type: NodeType | None,
             seq: int, attempt: int) -> tuple[NodeResult | None, str | None, Callable]:
    """Run one attempt; record it when it succeeded.

    Return (result, None, record) or (None, error message, record): the caller records a
    failure with `record`, once it knows whether the step is retried or leaves by `error`.
    """
    node_id = node["id"]
    type_name = str(node.get("type"))
    config = node.get("config", {})
    env = state.env
    ctx = NodeContext(
        node=node,
        config=node_type.effective_config(config) if node_type and isinstance(config, dict) else {},
        payload=state.payload,
        inputs=state.inputs,
        nodes=state.nodes,
        run=state.run_info,
        emit=env.emit,
        credential_resolver=env.credentials,
        settings=dict(env.settings),
        attempt=attempt,
        clock=env.clock,
    )
    step_input = _step_input(node_type, ctx)
    checkpoint = node_type is None or node_type.checkpoint_before_run
    started_at = time.time()
    if checkpoint:
        journal.step_started(seq, node_id, type_name, attempt, step_input)

    def record(status: StepStatus, output: dict | None, port: str | None, error: str | None) -> None:
        if checkpoint:
            journal.step_finished(seq, status, output, port, error)
        else:
            journal.step_recorded(seq, node_id, type_name, attempt, step_input, started_at, status, output,
                                  port, error)

    try:
        result = _run_node(graph, node_type, type_name, ctx)
    except NodeFailure as failure:  # the message may quote what a service answered: NUL and all
        return None, storable_text(redact(failure.message, ctx.secrets)), record
    result.output = redact(result.output, ctx.secrets)
    record(StepStatus.SUCCEEDED, result.output, result.port, None)
    return result, None, record


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
        raise NodeFailure(f"Unknown node type '{type_name}'; this server cannot run it.")
    error = graph.config_error(ctx.node["id"])
    if error:
        raise NodeFailure(f"The node's settings are invalid ({error}); open the flow and save it "
                           f"again to see every problem.")
    try:
        result = node_type.run(ctx)
    except (NodeError, TemplateError) as exc:
        raise NodeFailure(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a node bug must fail the step, not the worker
        raise NodeFailure(f"Unexpected error in the {type_name} node: {type(exc).__name__}: {exc}") from None
    if not isinstance(result, NodeResult) or not isinstance(result.output, dict):
        raise NodeFailure(f"The {type_name} node returned no result; this is a bug in the node type.")
    if result.port is not None and result.port not in node_type.all_output_ports(ctx.config):
        raise NodeFailure(f"The {type_name} node chose the unknown port '{result.port}'; this is a bug "
                           f"in the node type.")
    try:
        output = _plain(result.output)
    except (TypeError, ValueError, RecursionError):
        raise NodeFailure(f"The {type_name} node produced output that cannot be stored as JSON; this is "
                           f"a bug in the node type.") from None
    return NodeResult(output=output, port=result.port, reply=result.reply, resume_at=result.resume_at)


# Text JSON can carry but a database cannot keep: NUL (PostgreSQL refuses it in text and JSON) and
# UTF-16 surrogates without their pair (no UTF-8 encoder writes them; `"\ud800"` is valid JSON).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The same characters as `json.dumps` escapes them (ASCII output); a valid pair's escape matches
# too, which only sends that value through the exact check.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|d[89a-f])")


def storable_text(text: str) -> str:
    """Return `text` with NUL and lone surrogates replaced by U+FFFD (the replacement character).

    Why: a web service or a model may answer `{"name": "a\\u0000b"}`, which is valid JSON. Kept
    as it is, PostgreSQL refuses the step's row and the run could never be recorded or ended;
    SQLite keeps it, so the same flow would read differently on each. Replacing the character
    keeps the rest of the text and reads the same on every store, in this run and a resumed one.
    """
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def _storable(value: Any) -> Any:
    """Return a plain JSON value with every text and key made storable (`storable_text`)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {storable_text(key): _storable(item) for key, item in value.items()}
    return value


def _plain(value: dict) -> dict:
    """Return a JSON round-trip copy of `value`, its text storable (`storable_text`).

    A resumed run reads outputs back from storage as plain JSON; giving the uninterrupted run
    exactly the same plain copies guarantees both see identical data (tuples become lists,
    dict subclasses become dicts) and that no later change to a node's own objects leaks in.
    Small values made only of what JSON gives back unchanged (exact dicts with text keys, lists,
    text, numbers, booleans, None) are copied directly, about eight times as fast as the round
    trip; anything else, or anything larger, takes the round trip itself.
    """
    copied = _direct_copy(value, [_DIRECT_ITEMS])
    if copied is not _NOT_DIRECT:
        return copied
    text = json.dumps(value, allow_nan=False)
    plain = json.loads(text)
    return _storable(plain) if _UNSTORABLE_ESCAPE.search(text) else plain


_NOT_DIRECT = object()
_DIRECT_ITEMS = 64  # containers' items copied directly at most; past that the C round trip is faster
_DIRECT_INT_BITS = 10_000  # longer ints are left to json, which refuses those past Python's digit limit


def _direct_copy(value: Any, budget: list[int]) -> Any:
    """Copy `value` as its JSON round trip would return it, or return `_NOT_DIRECT` if unsure."""
    kind = type(value)
    if kind is str:
        return storable_text(value)
    if kind is bool or value is None:
        return value
    if kind is int:
        return value if value.bit_length() <= _DIRECT_INT_BITS else _NOT_DIRECT
    if kind is float:
        return value if math.isfinite(value) else _NOT_DIRECT
    if kind is not dict and kind is not list:
        return _NOT_DIRECT
    budget[0] -= len(value)
    if budget[0] < 0:
        return _NOT_DIRECT
    if kind is list:
        items = []
        for item in value:
            item = _direct_copy(item, budget)
            if item is _NOT_DIRECT:
                return _NOT_DIRECT
            items.append(item)
        return items
    copy = {}
    for key, item in value.items():
        if type(key) is not str or _UNSTORABLE.search(key):
            return _NOT_DIRECT
        item = _direct_copy(item, budget)
        if item is _NOT_DIRECT:
            return _NOT_DIRECT
        copy[key] = item
    return copy
