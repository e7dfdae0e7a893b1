"""Commit the rows of runs accepted at the same time in one transaction (group commit).

Why: under load a web process's request threads queue at the write gate (`write_gate`), each
waiting to open a transaction, insert its session and run, and commit. Measured at 16
concurrent callers, a thread arriving at the busier web process's gate found almost two others
(1.8) already waiting on average.
Here the first of them (the leader) takes the gate and writes the rows of every thread that
queued meanwhile with one statement per table and one commit; the others wait for its word.
The gate is entered, a connection begun and a commit made once per group instead of once per
run, and the other processes (the workers finishing runs) wait for one writer instead of a
procession. A thread that finds nobody writing leads at once, so a lone request waits for
nobody.

What a caller is promised is what it had alone: when `commit_together` returns, its rows are
committed; when it raises, they are not. A group's transaction is all or nothing, so one bad
row would sink its neighbours: when a group of several fails for a reason of its rows, every
member is told to write alone (`WriteAlone`), which names the culprit to its own caller only.
When the database itself fails (locked elsewhere for the whole busy timeout, or gone), everyone
queued gets a 503 (`DatabaseBusy`) at once, as the gate does, instead of each waiting out its
own timeout in turn.

Only rows that need nothing else from the transaction come here: a session with a new random
key and its run, or a run alone (`run_start` decides). Requests with an idempotency key, a body
fingerprint, a session to extend or a schedule's claim keep the one-request transaction.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Insert
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.services.runs import write_gate


class WriteAlone(Exception):
    """The group this request was in failed: write its rows in a transaction of its own."""


@dataclass(eq=False)
class _Member:
    """One request's rows, and what became of them."""

    rows: list[tuple[Insert, dict]]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # handed the lead of the next group instead of an outcome
    # Until its group commits, a member's outcome is "write alone": a leader stopped by anything
    # before its commit leaves its followers free to retry, never believing rows were written.
    error: BaseException | None = field(default_factory=lambda: WriteAlone("the group's writer stopped"))


class _Queue:
    """The requests of one process waiting to write to one database."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.mutex = threading.Lock()
        self.pending: list[_Member] = []
        self.leading = False  # a thread is writing (or about to write) a group


_queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> _Queue
_queues_mutex = threading.Lock()


def commit_together(rows: list[tuple[Insert, dict]]) -> None:
    """Insert `rows` (in their order: a row before the rows that refer to it) and commit them.

    Runs on the calling thread's `db.session` when it leads, so call it with no write pending
    in that session. Raises WriteAlone (nothing written: retry alone), DatabaseBusy, or, in a
    group of one, whatever the database raised.
    """
    queue = _queue(db.session.get_bind())
    member = _Member(rows)
    with queue.mutex:
        queue.pending.append(member)
        leads = not queue.leading
        queue.leading = True
    if not leads:
        member.done.wait()  # a leader always sets it (see `_lead`'s finally)
        if not member.lead:
            if member.error is not None:
                raise member.error
            return
    _lead(queue, member)
    if member.error is not None:
        raise member.error


def _lead(queue: _Queue, me: _Member) -> None:
    """Write every request queued when the gate opens, then hand the lead on or give it up."""
    group: list[_Member] = []
    try:
        try:
            with write_gate.one_writer():
                with queue.mutex:
                    group, queue.pending = queue.pending, []
                _write(group)
            for member in group:
                member.error = None
        except (write_gate.DatabaseBusy, OperationalError) as exc:
            # The database, not a row, failed (locked elsewhere, gone): alone, each would only
            # wait out the same timeout in turn. Everyone queued so far shares the answer (a
            # 503 whichever it is), each with an exception of its own to raise in its thread.
            _rollback()
            if not group:
                with queue.mutex:
                    group, queue.pending = queue.pending, []
            for member in group:
                member.error = exc if member is me else write_gate.DatabaseBusy(str(getattr(exc, "orig", exc)))
        except Exception as exc:  # noqa: BLE001  (a row's fault, maybe one member's: see WriteAlone)
            _rollback()
            for member in group:
                member.error = exc if len(group) == 1 else WriteAlone(str(exc))
    finally:
        with queue.mutex:
            successor = queue.pending[0] if queue.pending else None
            queue.leading = successor is not None
        for member in group:
            if member is not me:
                member.done.set()
        if successor is not None:
            successor.lead = True
            successor.done.set()


def _write(group: list[_Member]) -> None:
    """One executemany per statement, then one commit.

    A statement runs after every statement a member listed before it (a session before the run
    that refers to it), whichever member came first.
    """
    order: list[Insert] = []
    rows: dict[Insert, list[dict]] = {}
    for member in group:
        previous = -1
        for statement, row in member.rows:
            if statement not in rows:
                order.insert(previous + 1, statement)
                rows[statement] = []
            rows[statement].append(row)
            previous = order.index(statement)
    connection = db.session.connection()
    for statement in order:
        connection.execute(statement, rows[statement])
    db.session.commit()


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (a connection already gone: the pool discards it)
        pass


def _queue(engine) -> _Queue:
    queue = _queues.get(engine)
    if queue is None or queue.pid != os.getpid():  # a forked child starts with nobody queued
        with _queues_mutex:
            queue = _queues.get(engine)
            if queue is None or queue.pid != os.getpid():
                queue = _queues[engine] = _Queue()
    return queue
