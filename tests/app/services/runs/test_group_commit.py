"""Runs accepted at the same time commit together, and each caller still gets exactly its own outcome.

These tests queue real request threads behind a writer that is held up (the write gate on
SQLite, a table lock on PostgreSQL), so they are known to be waiting together, then let them
go and look at what the database holds: every row of a group that succeeded, none of a group
that failed, and each thread told the truth about its own rows.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event, text

from app.config import replace_settings
from app.extensions import db
from app.models import Flow, FlowVersion, Run, Trigger
from app.services.chat import sessions
from app.models.types import new_id
from app.services.runs import group_commit, run_start, write_gate
from app.services.runs.records import INSERT_RUN, run_row
from app.services.runs.start_request import for_inputs
from tests.app.trigger_helpers import publish

DEADLINE = 60


@pytest.fixture
def hook(client, api_key):
    return publish(client, api_key)


def _rows(app, hook, flow_id: str | None = None) -> list:
    """A new session and its run for the hook's trigger (of another flow id: a row the database refuses)."""
    trigger = db.session.get(Trigger, hook.trigger["id"])
    flow = db.session.get(Flow, hook.flow["id"])
    version = db.session.execute(db.select(FlowVersion).where(FlowVersion.flow_id == flow.id)).scalars().first()
    session_row, session = sessions.first_turn(trigger, sessions.session_key(None, None)[0], None, 3600)
    row = run_row(flow=flow, version=version, trigger=trigger, node={"id": trigger.node_id, "type": "api_trigger"},
                  inputs={"message": "hi"}, trigger_payload={}, request_id=None,
                  fields={"session_id": session.id})
    if flow_id is not None:
        row["flow_id"] = flow_id
    db.session.rollback()  # the loads above: a writer enters with no transaction open
    return [(sessions.INSERT_SESSION, session_row), (INSERT_RUN, row)]


class RequestThread(threading.Thread, ABC):
    """A request thread of the app: writes (`write`) in an app context of its own, keeps its outcome."""

    def __init__(self, app, hook):
        super().__init__(daemon=True)
        self.app, self.hook = app, hook
        self.run_id: str | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            with self.app.app_context():
                self.write()
        except BaseException as exc:  # noqa: BLE001  (the test reads it)
            self.error = exc
        finally:
            self.finished.set()

    @abstractmethod
    def write(self) -> None:
        """Write this request's rows (and set `run_id`), as the kind of caller does."""


class Caller(RequestThread):
    """Builds its rows and commits them together with others."""

    def __init__(self, app, hook, flow_id: str | None = None):
        super().__init__(app, hook)
        self.flow_id = flow_id

    def write(self) -> None:
        rows = _rows(self.app, self.hook, self.flow_id)
        self.run_id = rows[-1][1]["id"]
        group_commit.commit_together(rows)


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():

        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _queued(app) -> int:
    """How many request threads wait for a group writer in this process."""
    with app.app_context():
        queue = group_commit._queues.get(db.engine)
        return len(queue.pending) if queue else 0


@contextmanager
def _writer_held_up(app):
    """Hold up whoever writes runs next: the write gate on SQLite, a lock on the runs table on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            fd = os.open(db.engine.url.database + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        else:
            with db.engine.connect() as connection:
                transaction = connection.begin()
                connection.execute(text("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE"))
                try:
                    yield
                finally:
                    transaction.rollback()


@contextmanager
def _counting_commits(app):
    commits = []
    with app.app_context():
        engine = db.engine
    listener = lambda connection: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", listener)


def _stored(app, run_ids) -> set[str]:
    with app.app_context():
        return set(db.session.execute(db.select(Run.id).where(Run.id.in_(list(run_ids)))).scalars())


def _start_queued(app, hook, count: int, bad: int | None = None) -> list[Caller]:
    """Start `count` callers, the one at `bad` with a row the database refuses; see `_queue_up`."""
    return _queue_up(app, [Caller(app, hook, flow_id="no-such-flow" if index == bad else None)
                           for index in range(count)])


def _queue_up(app, threads: list[RequestThread]) -> list:
    """Start the threads one by one, each only once the previous one waits (the first leads)."""
    sqlite = _dialect(app) == "sqlite"
    for index, thread in enumerate(threads):
        thread.start()
        # On SQLite the first thread leads and waits at the gate with its group still open; on
        # PostgreSQL it took its group (itself) and waits inside its insert.
        if sqlite:
            _wait(lambda: _queued(app) >= index + 1, f"request {index + 1} to queue")
        elif index == 0:
            _wait(lambda: _lock_waits(app) >= 1, "the first request to wait for the table lock")
        else:
            _wait(lambda: _queued(app) >= index, f"request {index + 1} to queue")
    return threads


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _lock_waits(app) -> int:
    with app.app_context():
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()


def test_requests_that_arrive_together_commit_together_and_each_gets_its_run(app, hook):
    replace_settings(app, sqlite_busy_timeout_ms=DEADLINE * 1000)  # the held-up gate must outlast the set-up
    with _counting_commits(app) as commits:
        with _writer_held_up(app):
            callers = _start_queued(app, hook, 6)
        for caller in callers:
            assert caller.finished.wait(DEADLINE)
    assert [caller.error for caller in callers] == [None] * 6
    assert _stored(app, [caller.run_id for caller in callers]) == {caller.run_id for caller in callers}
    assert len(commits) <= 2, f"{len(commits)} commits for 6 runs queued together"


def test_a_row_the_database_refuses_sinks_its_group_but_every_caller_can_still_write_alone(app, hook):
    replace_settings(app, sqlite_busy_timeout_ms=DEADLINE * 1000)  # the held-up gate must outlast the set-up
    with _writer_held_up(app):
        callers = _start_queued(app, hook, 4, bad=2)
    for caller in callers:
        assert caller.finished.wait(DEADLINE)
    failed = [caller for caller in callers if caller.error is not None]
    assert callers[2] in failed
    assert all(isinstance(caller.error, group_commit.WriteAlone) for caller in failed)
    assert _stored(app, [caller.run_id for caller in failed]) == set(), "a failed group left rows behind"

    # Alone, as run_start retries: the good rows commit; the bad one is refused on its own.
    retries = [Caller(app, hook, flow_id=caller.flow_id) for caller in failed]
    for retry in retries:
        retry.start()
        assert retry.finished.wait(DEADLINE)
    assert [type(retry.error).__name__ for retry in retries if retry.flow_id] == ["IntegrityError"]
    good = [retry.run_id for retry in retries if not retry.flow_id]
    assert _stored(app, good) == set(good)


def test_a_database_locked_elsewhere_fails_everyone_queued_once_and_the_queue_moves_on(app, hook):
    if _dialect(app) != "sqlite":
        pytest.skip("the write gate's busy timeout is SQLite's; PostgreSQL waits on row locks itself")
    replace_settings(app, sqlite_busy_timeout_ms=1500)
    started = time.monotonic()
    with _writer_held_up(app):
        callers = _start_queued(app, hook, 3)
        for caller in callers:
            assert caller.finished.wait(DEADLINE)
    waited = time.monotonic() - started
    assert [type(caller.error) for caller in callers] == [write_gate.DatabaseBusy] * 3
    assert _stored(app, [caller.run_id for caller in callers]) == set()
    assert waited < 3 * 1.5, f"the queued callers waited out the timeout one after another ({waited:.1f} s)"

    after = Caller(app, hook)
    after.start()
    assert after.finished.wait(DEADLINE) and after.error is None
    assert _stored(app, [after.run_id]) == {after.run_id}


def test_a_lone_request_commits_at_once_without_waiting_for_company(app, hook):
    caller = Caller(app, hook)
    caller.start()
    assert caller.finished.wait(DEADLINE) and caller.error is None
    assert _stored(app, [caller.run_id]) == {caller.run_id}
    assert _queued(app) == 0


class Starter(RequestThread):
    """Goes through `run_start.start`, as every trigger door does."""

    def __init__(self, app, hook, bad: bool = False):
        super().__init__(app, hook)
        self.bad = bad

    def write(self) -> None:
        flow = db.session.get(Flow, self.hook.flow["id"])
        request = for_inputs(flow, None, {"message": "hi"}, source="manual", request_id=None)
        if self.bad:  # a flow deleted under the request: the database refuses its run
            columns = {column.key: getattr(flow, column.key) for column in Flow.__table__.columns}
            request = dataclasses.replace(request, flow=SimpleNamespace(**{**columns, "id": "no-such-flow"}))
        request.run_id = self.run_id = new_id()
        db.session.rollback()
        run_start.start(request)


def test_a_started_run_whose_group_failed_is_written_alone_and_only_the_culprit_is_refused(app, hook):
    replace_settings(app, sqlite_busy_timeout_ms=DEADLINE * 1000)  # the held-up gate must outlast the set-up
    with _writer_held_up(app):
        starters = _queue_up(app, [Starter(app, hook, bad=index == 1) for index in range(4)])
    for starter in starters:
        assert starter.finished.wait(DEADLINE)
    assert [starter.error is not None for starter in starters] == [False, True, False, False]
    good = [starter.run_id for starter in starters if not starter.bad]
    assert _stored(app, good) == set(good)
    assert _stored(app, [starters[1].run_id]) == set()
