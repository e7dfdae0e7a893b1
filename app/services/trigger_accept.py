"""Accept one trigger request: filter, contract fields, inputs, duplicates, session, run.

The order is the contract: a request the trigger's filter drops, or whose fields are invalid,
never touches the idempotency table or creates a session; a request whose idempotency key was
seen returns the earlier run before anything else happens; only then is a run committed (with
its session, idempotency link and body fingerprint in the same transaction) and queued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

import flows
from app.extensions import db
from app.models import BodyFingerprint, Flow, Run, Trigger
from app.models.types import utcnow
from app.services import idempotency, parsed_versions, sessions, trigger_request, write_gate
from app.services.invoke import NotPublished
from app.services.runs import queue_run, record_run
from app.services.trigger_body import MESSAGE_ALIASES, BodyError, inputs_from_body


class DuplicateBody(Exception):
    """The trigger ignores duplicate bodies and this body was accepted before (by `run_id`)."""

    def __init__(self, run_id: str):
        super().__init__(run_id)
        self.run_id = run_id


@dataclass
class Accepted:
    run: Run
    replayed: bool = False  # an earlier request with the same idempotency key started `run`
    session_key: str | None = None


def body_hash(body: dict) -> str:
    """Fingerprint a body independently of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_filter(trigger: Trigger, body: dict) -> None:
    """Drop the event (400) when the body does not match the trigger's filter schema."""
    schema = trigger.config.get("filter")
    if not schema:
        return
    error = best_match(Draft202012Validator(schema).iter_errors(body))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the body"
        raise BodyError("event_dropped", f"The event was dropped: the body does not match the trigger's filter "
                        f"({error.message} at {where}).",
                        [{"field": where, "reason": error.message}])


def accept(flow: Flow, trigger: Trigger, body: dict, *, request_id: str, source: str,
           idempotency_header: str | None = None, with_session: bool = True, meta: dict | None = None) -> Accepted:
    """Turn an authenticated request into a committed, queued run (or the earlier one).

    `meta` (the request's headers, minus secrets, and body) is kept in the trigger payload for the
    run's record. Raises BodyError (400), NotPublished (409), idempotency.KeyInFlight (409),
    idempotency.KeyReused (422), DuplicateBody (409) and QueueUnavailable (503).
    """
    check_filter(trigger, body)
    version, graph, start_config = published_graph(flow)
    request = trigger_request.parse(body, idempotency_header=idempotency_header, reserved_inputs=version.declared)
    inputs_body = _apply_default_text(request.inputs_body, trigger.config.get("default_text"), start_config)
    inputs = inputs_from_body(inputs_body, start_config)
    return accept_parsed(flow, trigger, version, graph, request, inputs, body_hash(body) if body else None,
                         request_id=request_id, source=source, with_session=with_session, payload_extra=meta)


def published_graph(flow: Flow) -> tuple[parsed_versions.PublishedVersion, flows.Graph, dict]:
    """Return (version, graph, start node config) of the latest version; NotPublished if none.

    The parsed version comes from a per-process cache keyed by the immutable (flow, number), so
    a request does not re-read and re-parse the document; see `app.services.parsed_versions`.
    """
    version = parsed_versions.latest(flow)
    if version is None:
        raise NotPublished(flow.id)
    return version, version.graph, version.start_config


def accept_parsed(flow: Flow, trigger: Trigger, version, graph, request: trigger_request.TriggerRequest,
                  inputs: dict, fingerprint: str | None, *, request_id: str, source: str, with_session: bool = True,
                  payload_extra: dict | None = None, history: list | None = None) -> Accepted:
    """Accept a request already split into contract fields and validated inputs.

    `fingerprint` identifies the body for idempotency and duplicate checks (None: empty body).
    `history` gives the conversation so far when the caller sends it (OpenAI-style messages)
    instead of the session remembering it.
    """
    claim = None
    if request.idempotency_key:
        found = idempotency.claim(trigger.id, request.idempotency_key, fingerprint or body_hash({}))
        if isinstance(found, Run):
            return Accepted(found, replayed=True, session_key=found.session.key if found.session_id else None)
        claim = found
    try:
        return _start(flow, version, trigger, graph, request, inputs, fingerprint, claim, request_id, source,
                      with_session, payload_extra or {}, history)
    except Exception:
        # No run was accepted (duplicate body, queue down, a database error): free the key so
        # the caller's retry is accepted instead of meeting "still being accepted" for a minute.
        if claim is not None:
            _release_quietly(claim)
        raise


def _release_quietly(claim: idempotency.Claim) -> None:
    try:
        claim.release()
    except SQLAlchemyError:  # the database is what failed; the claim goes stale and is taken over
        db.session.rollback()


def _start(flow, version, trigger, graph, request, inputs, fingerprint, claim, request_id, source,
           with_session, payload_extra, history) -> Accepted:
    config = trigger.config
    # Only requests with a body are checked (Chathive): empty pings are never "duplicates".
    dedupe = bool(config.get("ignore_duplicate_bodies")) and fingerprint is not None
    if dedupe:
        earlier = _fingerprint_run(trigger.id, fingerprint)
        if earlier:
            raise DuplicateBody(earlier)
    key, generated = sessions.session_key(request.session_key, request.contact) if with_session else (None, False)
    payload = {"type": source, "node_id": trigger.node_id, "key": trigger.key,
               "received_at": utcnow().isoformat(), "request_id": request_id, **request.metadata(), **payload_extra}
    node = graph.node(trigger.node_id)

    def companions(run: Run) -> None:
        if claim is not None:
            claim.link(run)
        if dedupe:
            db.session.add(BodyFingerprint(trigger_id=trigger.id, body_hash=fingerprint, run_id=run.id))

    session = None
    try:
        # The session and the run are written and committed together, one writer at a time.
        with write_gate.one_writer():
            if with_session:
                session = sessions.resolve(trigger, key, generated, request.contact,
                                           int(config.get("session_duration_seconds", 3600)))
                payload["session"] = sessions.session_payload(session)
                if history is not None:
                    payload["session"]["history"] = history
                    payload["session"]["history_from_request"] = True
            fields = {"session_id": session.id if session else None, "out_id": request.out_id,
                      "idempotency_key": request.idempotency_key, "event_at": request.event_at,
                      "discard_at": request.discard_at}
            run = record_run(flow=flow, version=version, trigger=trigger, node=node, inputs=inputs,
                             trigger_payload=payload, request_id=request_id, fields=fields,
                             before_commit=companions if claim is not None or dedupe else None)
    except IntegrityError:
        db.session.rollback()
        earlier = _fingerprint_run(trigger.id, fingerprint) if dedupe else None
        if earlier:
            raise DuplicateBody(earlier) from None
        raise
    queue_run(run, flow)
    return Accepted(run, session_key=session.key if session else None)


def _fingerprint_run(trigger_id: str, fingerprint: str) -> str | None:
    return db.session.execute(
        db.select(BodyFingerprint.run_id).where(BodyFingerprint.trigger_id == trigger_id,
                                                BodyFingerprint.body_hash == fingerprint)
    ).scalar_one_or_none()


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
