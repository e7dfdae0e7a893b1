"""Describe one start of a run, whichever door it came through, as a single `StartRequest`.

Why one object: the REST hook, the trigger invoke API, the OpenAI endpoint, Run now, replay and
schedule fires used to build their run payloads and call the start code each their own way, with
10 to 13 positional parameters, so each got a different subset of the guarantees (write gate,
parsed-version cache, idempotency, session). Now each door only turns what it received into a
`StartRequest` (with the builders below, or `openai_chat` for chat requests), and
`app.services.runs.run_start.start` does the rest the same way for all of them.

The parsing here is pure (`parse_trigger_body`, `check_filter`, `body_hash`): it needs a parsed
version, never the database, so it is unit-tested without a stack.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Callable

import flows
from flows.bounded_schema import SECONDS as FILTER_SECONDS
from flows.inputs import MESSAGE_ALIASES
from flows.schema_errors import short_refusal
from app.models import Flow, Trigger
from app.services.versions import parsed_versions
from app.services.versions.parsed_versions import PublishedVersion
from app.services.versions.archived import refuse_if_archived
from app.services.triggers.trigger_body import inputs_from_body
from app.json_body import BodyError
from app.services.triggers.trigger_request import TriggerRequest, parse

log = logging.getLogger(__name__)


class NotPublished(Exception):
    """The flow has no published version yet, so there is nothing to run."""


@dataclass
class StartRequest:
    """Who starts what, with which inputs, in which conversation, once: everything `start` needs."""

    flow: Flow
    version: PublishedVersion  # from the per-process cache (`published_version`), never re-parsed
    trigger: Trigger | None  # None: the run enters at the start node (Run now on the canvas)
    source: str  # the payload's `type`: api, invoke, openai, manual, replay, schedule
    inputs: dict  # validated against the version's start node (raw, when `refusal` is set)
    request_id: str | None = None
    # The trigger contract: session key, contact, idempotency key, out_id, claim and discard times.
    contract: TriggerRequest | None = None
    with_session: bool = False
    hashed_body: dict | None = None  # what `fingerprint` identifies (None or {}: no body)
    headers: dict | None = None  # the request's headers minus secrets, kept for the run's record
    body: dict | None = None  # the body as received, kept for the run's record
    payload: dict = field(default_factory=dict)  # more for `trigger.*`: openai, replay_of, planned_at...
    history: list[dict] | None = None  # the conversation so far, when the caller sends it (OpenAI)
    planned_at: datetime | None = None  # a schedule's planned fire time
    run_id: str | None = None
    # Record a failed run with this reason instead of queueing one (a schedule fire that cannot run).
    refusal: str | None = None
    # Writes that belong in the run's transaction (a schedule's claim); False: start nothing.
    prepare: Callable[[str], bool] | None = None
    # The run's trigger type when no trigger node starts it (None: Run now); a draft test sets TEST.
    trigger_type: str | None = None
    # An Idempotency-Key sent without a trigger contract (Run now by API); see `idempotency_key`.
    run_now_key: str | None = None

    @cached_property
    def fingerprint(self) -> str | None:
        """The body's hash, for idempotency keys and duplicate bodies; None for an empty body.

        Computed on first use: most requests carry neither a key nor a duplicate-body setting,
        and canonical JSON plus SHA-256 of every body was work on the trigger's hot path.
        """
        return body_hash(self.hashed_body) if self.hashed_body else None

    @property
    def idempotency_key(self) -> str | None:
        return self.contract.idempotency_key if self.contract else self.run_now_key

    @property
    def key_scope(self) -> dict[str, str]:
        """Whose idempotency keys this request's key is among: its trigger's, else (Run now) its flow's."""
        return {"trigger_id": self.trigger.id} if self.trigger is not None else {"flow_id": self.flow.id}

    @property
    def node(self) -> dict:
        """The node the run enters at: the trigger's node, or the start node."""
        graph = self.version.graph
        node = graph.node(self.trigger.node_id) if self.trigger else graph.start_node()
        if node is None and self.trigger is not None:  # only for a refusal (see `for_schedule`)
            return {"id": self.trigger.node_id, "type": self.trigger.type}
        return node or {}


def published_version(flow: Flow) -> PublishedVersion:
    """Return the latest version, parsed once per process (`app.services.versions.parsed_versions`); NotPublished if none.

    Every door builds its request through here, so an archived flow is refused (FlowArchived) before
    its body is even looked at.
    """
    refuse_if_archived(flow)
    version = parsed_versions.latest(flow)
    if version is None:
        raise NotPublished(flow.id)
    return version


def body_hash(body: dict) -> str:
    """Fingerprint a body independently of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def for_trigger_body(flow: Flow, trigger: Trigger, body: dict, *, source: str, request_id: str,
                     idempotency_header: str | None = None, with_session: bool = True,
                     headers: dict | None = None, keep_body: bool = False) -> StartRequest:
    """Build the request a trigger's body asks for (REST hook, invoke API); BodyError names what to fix.

    The filter runs first: a dropped event is refused before any contract field is looked at.
    """
    check_filter(trigger.config, body)
    version = published_version(flow)
    contract, inputs = parse_trigger_body(body, trigger.config, version, idempotency_header)
    return StartRequest(flow=flow, version=version, trigger=trigger, source=source, inputs=inputs,
                        request_id=request_id, contract=contract, with_session=with_session,
                        hashed_body=body, headers=headers,
                        body=body if keep_body else None)


def for_inputs(flow: Flow, trigger: Trigger | None, inputs: dict, *, source: str, request_id: str | None,
               payload: dict | None = None, idempotency_key: str | None = None) -> StartRequest:
    """Build the request for inputs given as they are (Run now, replay); BodyError when they do not fit.

    With an `idempotency_key` (Run now by API) the inputs as sent are what the key stands for, so a
    retry with other inputs is told the key was used for something else.
    """
    version = published_version(flow)
    return StartRequest(flow=flow, version=version, trigger=trigger, source=source,
                        inputs=inputs_from_body(inputs, version.start_config), request_id=request_id,
                        payload=dict(payload or {}), run_now_key=idempotency_key,
                        hashed_body=dict(inputs) if idempotency_key else None)


def for_schedule(flow: Flow, trigger: Trigger, inputs: dict, *, payload: dict, planned_at: datetime,
                 problem: str | None = None) -> StartRequest:
    """Build a schedule fire's request; inputs that do not fit make it a refusal, recorded as a failed run.

    Nobody waits on a schedule's answer, so a fire that cannot run must leave a run saying why
    (listed in Runs, counted in the flow overview) rather than an exception nobody sees.
    """
    version = published_version(flow)
    request = StartRequest(flow=flow, version=version, trigger=trigger, source="schedule", inputs=dict(inputs),
                           payload=payload, planned_at=planned_at, refusal=problem)
    if request.refusal is None and version.graph.node(trigger.node_id) is None:
        request.refusal = "The schedule's trigger node is not in the flow's latest version."
    if request.refusal is None:
        try:
            request.inputs = inputs_from_body(dict(inputs), version.start_config)
        except BodyError as exc:
            request.refusal = _schedule_inputs_problem(exc)
    return request


def _schedule_inputs_problem(exc: BodyError) -> str:
    problems = [f"{item['field']}: {item['reason']}" if item.get("field") else str(item.get("reason"))
                for item in exc.details or []][:10] or [exc.message]
    return (f"The schedule's inputs do not fit the flow's start node ({'; '.join(problems)}). "
            "Change the schedule's inputs or the start node's declared inputs.")


def check_filter(config: dict, body: dict) -> None:
    """Drop the event (400) when the body does not match the trigger's filter schema.

    The check is bounded (`flows.first_schema_error`): a filter too slow on this body, or one that
    cannot be applied at all (stored before saving refused such filters), is a 400 saying so, never
    a 500 or a worker held until it is killed. The refusal is bounded too: it names the field and
    the reason without repeating the body's values (`flows.schema_errors.short_refusal`).
    """
    schema = config.get("filter")
    if not schema:
        return
    try:
        error = flows.first_schema_error(schema, body)
    except flows.SchemaTooSlow as exc:
        what = f"filter's pattern {exc.pattern[:100]!r}" if exc.pattern else "filter"
        raise BodyError("filter_too_slow", f"The event was dropped: the trigger's {what} took too long on this "
                        f"body (a filter gets {FILTER_SECONDS:g} s). Send shorter values, or ask the flow's owner "
                        "to simplify the filter.") from None
    except flows.SchemaUnusable as exc:
        raise _unusable(str(exc)) from None
    except Exception:  # a filter is arbitrary input: whatever else it trips on must still be an answer
        log.exception("trigger filter failed")
        raise _unusable("could not be applied to this body") from None
    if error is not None:  # one detail (the best match), its field and reason short whatever the body
        where, reason = short_refusal(error)
        raise BodyError("event_dropped", f"The event was dropped: the body does not match the trigger's filter "
                        f"({reason} at {where}).",
                        [{"field": where, "reason": reason}])


def _unusable(problem: str) -> BodyError:
    return BodyError("filter_unusable", f"The event was dropped: the trigger's filter {problem}. The flow's owner "
                     "must fix the filter; saving the flow says what is wrong with it.")


def parse_trigger_body(body: dict, config: dict, version: PublishedVersion,
                       idempotency_header: str | None = None) -> tuple[TriggerRequest, dict]:
    """Split a trigger body into its contract fields and the flow's validated inputs."""
    contract = parse(body, idempotency_header=idempotency_header, reserved_inputs=version.declared)
    inputs_body = _apply_default_text(contract.inputs_body, config.get("default_text"), version.start_config)
    return contract, inputs_from_body(inputs_body, version.start_config)


def _apply_default_text(body: dict, default_text: str | None, start_config: dict) -> dict:
    """Replace the caller's message with the trigger's default text, when it has one."""
    message_name = flows.message_input(start_config)
    if not default_text or message_name is None:
        return _object_message_as_text(body, start_config)
    data = {name: value for name, value in body.items() if name not in MESSAGE_ALIASES and name != message_name}
    data[message_name] = default_text
    return data


def _object_message_as_text(body: dict, start_config: dict) -> dict:
    """Let `instruction` be an object (Chathive) for a text message input: send it as JSON text."""
    message_name = flows.message_input(start_config)
    declared = {item["name"]: item["type"] for item in flows.declared_inputs(start_config)}
    if message_name is None or declared.get(message_name) != "string":
        return body
    data = dict(body)
    for name in (*MESSAGE_ALIASES, message_name):
        if isinstance(data.get(name), (dict, list)):
            data[name] = json.dumps(data[name], ensure_ascii=False, sort_keys=True)
    return data
