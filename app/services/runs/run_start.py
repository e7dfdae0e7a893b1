"""Start a run: the one path every door takes (REST hook, invoke API, OpenAI, Run now, replay, schedule).

The order is the contract. Whatever refuses a request before a run exists (a dropped event,
invalid fields or inputs, the rate limit) happened while building the `StartRequest`, so it never
touched the database. Here, a request whose idempotency key was seen returns the earlier run
before anything else; a repeated body of a trigger that ignores duplicates is refused; then the
session, the run, its idempotency key and body fingerprint (and a schedule's claim) are written
in one transaction, one writer at a time (`write_gate`), so a failure leaves none of them behind;
only after the commit is the run's id queued (the outbox rule of `runs.record_run`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import BodyFingerprint, ConversationSession, Flow, Run, Trigger
from app.models.types import new_id, utcnow
from app.services.runs import idempotency
from app.services.chat import sessions
from app.services.runs import group_commit, write_gate
from app.services.runs.records import INSERT_RUN, attached_run, queue_run, record_run, run_row
from app.services.runs.start_request import StartRequest, body_hash, for_inputs
from app.services.versions.archived import refuse_if_archived


class DuplicateBody(Exception):
    """The trigger ignores duplicate bodies and this body was accepted before (raised with its run id)."""

    @property
    def run_id(self) -> str:
        return self.args[0]


@dataclass
class Started:
    """The run a request started, or the earlier one its idempotency key points at (`replayed`)."""

    run: Run
    replayed: bool = False
    session_key: str | None = None


def start(request: StartRequest) -> Started | None:
    """Commit the request's run (with its session and companions) and queue it; or return the earlier run.

    None only when `request.prepare` declined (a schedule fire another process took). Raises
    idempotency.KeyReused (422) / KeyInFlight (409), DuplicateBody (409) and QueueUnavailable
    (503: the run is recorded canceled and its key and fingerprint are freed for the retry).
    """
    refuse_if_archived(request.flow)  # a backstop for doors that build their request without `published_version`
    earlier = _earlier(request)
    if earlier is not None:
        return earlier
    try:
        recorded = _record(request)
    except IntegrityError:  # a concurrent request with the same key or body committed first
        db.session.rollback()
        return _lost_race(request)
    if recorded is None:
        return None
    run, session = recorded
    if request.refusal is None:
        queue_run(run, request.flow, on_refused=_free_companions)
    return Started(run, session_key=session.key if session else None)


def run_now(flow: Flow, trigger: Trigger | None, inputs: dict, request_id: str,
            idempotency_key: str | None = None) -> Started:
    """Start a run by hand (Run now, from the UI or the API) with the given inputs.

    A script's retry carries the same `idempotency_key` and gets the first run back (`replayed`).
    """
    return start(for_inputs(flow, trigger, inputs, source="manual", request_id=request_id,
                            idempotency_key=idempotency_key))


def _dedupes(request: StartRequest) -> bool:
    # Only requests with a body are checked (Chathive): empty pings are never "duplicates".
    return (request.trigger is not None and request.fingerprint is not None
            and bool(request.trigger.config.get("ignore_duplicate_bodies")))


def _key_hash(request: StartRequest) -> str:
    return request.fingerprint or body_hash({})


def _earlier(request: StartRequest) -> Started | None:
    """The run an earlier request with this idempotency key started; DuplicateBody for a repeated body."""
    if request.idempotency_key:
        found = idempotency.find(request.key_scope, request.idempotency_key, _key_hash(request))
        if found is not None:
            return Started(found, replayed=True, session_key=found.session.key if found.session_id else None)
    if _dedupes(request):
        earlier = _fingerprint_run(request.trigger.id, request.fingerprint)
        if earlier:
            raise DuplicateBody(earlier)
    return None


def _lost_race(request: StartRequest) -> Started:
    """Answer a request whose commit met another request's key or fingerprint."""
    earlier = _earlier(request)
    if earlier is not None:
        return earlier
    raise idempotency.KeyInFlight(request.idempotency_key or "")  # the winner is gone already: retry


def _record(request: StartRequest) -> tuple[Run, ConversationSession | None] | None:
    """Write the session, the run and its companions in one transaction; None if `prepare` declined."""
    run_id = request.run_id or new_id()
    key = _session_key(request) if _session_wanted(request) else None
    if _needs_nothing_else(request, key):
        try:
            return _record_together(request, run_id, key)
        except group_commit.WriteAlone:
            pass  # the group's transaction failed, maybe for another member's row: try alone
    with write_gate.one_writer():
        if request.prepare is not None and not request.prepare(run_id):
            db.session.rollback()
            return None
        session = _session(request, key)
        run = record_run(flow=request.flow, version=request.version, trigger=request.trigger, node=request.node,
                         inputs=request.inputs, trigger_payload=_payload(request, session),
                         request_id=request.request_id, fields=_fields(request, session), run_id=run_id,
                         before_commit=lambda run: _companions(request, run), trigger_type=request.trigger_type)
    return run, session


def _needs_nothing_else(request: StartRequest, key: tuple[str, bool] | None) -> bool:
    """True when the request's rows are a new session and a run and nothing else (`group_commit`).

    Not for: a schedule's claim (`prepare`), an idempotency key or body fingerprint (companion
    rows and the races on them), a session that may exist already (read and extended), or
    changes the caller left in the ORM session (they would commit with another request's group).
    """
    if request.prepare is not None or request.idempotency_key or _dedupes(request):
        return False
    if key is not None and not key[1]:  # a key the caller chose: its session may exist
        return False
    session = db.session()
    return not (session.new or session.deleted or session.dirty)


def _record_together(request: StartRequest, run_id: str,
                     key: tuple[str, bool] | None) -> tuple[Run, ConversationSession | None]:
    """Commit the request's new session and run in a transaction shared with concurrent requests."""
    rows = []
    session = None
    if key is not None:
        contract = request.contract
        session_row, session = sessions.first_turn(request.trigger, key[0],
                                                   contract.contact if contract else None, _session_seconds(request))
        rows.append((sessions.INSERT_SESSION, session_row))
    row = run_row(flow=request.flow, version=request.version, trigger=request.trigger, node=request.node,
                  inputs=request.inputs, trigger_payload=_payload(request, session), request_id=request.request_id,
                  fields=_fields(request, session), run_id=run_id, trigger_type=request.trigger_type)
    rows.append((INSERT_RUN, row))
    group_commit.commit_together(rows)
    return attached_run(row), session


def _session(request: StartRequest, key: tuple[str, bool] | None) -> ConversationSession | None:
    if key is None:
        return None
    contract = request.contract
    return sessions.resolve(request.trigger, key[0], key[1], contract.contact if contract else None,
                            _session_seconds(request))


def _session_wanted(request: StartRequest) -> bool:
    return request.with_session and request.trigger is not None


def _session_key(request: StartRequest) -> tuple[str, bool]:
    """The request's session key and whether it was generated (then no session can have it yet)."""
    contract = request.contract
    return sessions.session_key(contract.session_key if contract else None, contract.contact if contract else None)


def _session_seconds(request: StartRequest) -> int:
    return int(request.trigger.config.get("session_duration_seconds", 3600))


def _payload(request: StartRequest, session: ConversationSession | None) -> dict:
    """What nodes see as `trigger.*`, the same shape whichever door started the run."""
    trigger = request.trigger
    payload = {"type": request.source, "node_id": request.node.get("id"), "key": trigger.key if trigger else None,
               "received_at": utcnow().isoformat(), "request_id": request.request_id,
               **(request.contract.metadata() if request.contract else {}), **request.payload}
    if request.headers is not None:
        payload["headers"] = request.headers
    if request.body is not None:
        payload["body"] = request.body
    if session is not None:
        payload["session"] = sessions.session_payload(session)
        if request.history is not None:
            payload["session"]["history"] = request.history
            payload["session"]["history_from_request"] = True
    return payload


def _fields(request: StartRequest, session: ConversationSession | None) -> dict:
    contract = request.contract
    fields = {"session_id": session.id if session else None}
    if contract is not None:
        fields.update(out_id=contract.out_id, idempotency_key=contract.idempotency_key,
                      event_at=contract.event_at, discard_at=contract.discard_at)
    elif request.run_now_key is not None:
        fields["idempotency_key"] = request.run_now_key
    if request.planned_at is not None:
        fields["planned_at"] = request.planned_at
    if request.refusal is not None:  # a run recorded as failed: it never reaches the queue
        fields["refusal"] = request.refusal
    return fields


def _companions(request: StartRequest, run: Run) -> None:
    """Add the rows that must commit with the run or not at all."""
    if request.idempotency_key:
        idempotency.remember(request.key_scope, request.idempotency_key, _key_hash(request), run)
    if _dedupes(request):
        db.session.add(BodyFingerprint(trigger_id=request.trigger.id, body_hash=request.fingerprint, run_id=run.id))


def _free_companions(run: Run) -> None:
    """Let the retry of a request the queue refused be accepted: drop its key and fingerprint."""
    idempotency.forget_run(run.id)
    db.session.execute(delete(BodyFingerprint).where(BodyFingerprint.run_id == run.id)
                       .execution_options(synchronize_session=False))


def _fingerprint_run(trigger_id: str, fingerprint: str) -> str | None:
    return db.session.execute(
        db.select(BodyFingerprint.run_id).where(BodyFingerprint.trigger_id == trigger_id,
                                                BodyFingerprint.body_hash == fingerprint)
    ).scalar_one_or_none()
