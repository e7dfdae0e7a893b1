"""A waiting request answers from the worker's announcement, and the answer is the committed row.

The announcement carries the run's final columns only when they are exactly the ones just
committed and small; anything else (a bare status, an oversized or unreadable outcome) sends the
waiter to the database, which stays the truth.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Run, RunStatus
from app.queueing import redis_keys
from app.queueing.connection import get_redis
from app.queueing.jobs import OUTCOME_LIMIT_BYTES, _done_message, _parse_done
from app.services.runs.records import wait_until_final
from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import publish

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
OUTCOME = {"status": RunStatus.FAILED, "output": {"text": "hé", "n": [1, 2.5, None]}, "error": "boom",
           "error_node_id": "n1", "finished_at": NOW}


def test_an_outcome_goes_out_whole_and_comes_back_equal():
    message = _done_message("failed", OUTCOME)
    assert _parse_done(message.encode()) == {**OUTCOME, "status": "failed"}


def test_what_cannot_travel_whole_travels_as_the_bare_status():
    assert _done_message("succeeded", None) == "succeeded"
    assert _done_message("succeeded", {**OUTCOME, "output": "x" * OUTCOME_LIMIT_BYTES}) == "succeeded"
    assert _done_message("succeeded", {**OUTCOME, "output": "é" * (OUTCOME_LIMIT_BYTES // 2)}) == "succeeded"
    assert _done_message("succeeded", {**OUTCOME, "output": float("nan")}) == "succeeded"
    assert _done_message("succeeded", {**OUTCOME, "output": {"when": NOW}}) == "succeeded"
    assert _done_message("succeeded", {"status": RunStatus.SUCCEEDED}) == "succeeded"


def test_an_unreadable_announcement_gives_no_outcome():
    assert _parse_done(b"succeeded") == {"status": "succeeded"}
    for message in (b"{", b'{"status": "failed"}', b'{"status": 1, "output": null, "error": null, '
                    b'"error_node_id": null, "finished_at": null}',
                    b'{"status": "failed", "output": null, "error": null, "error_node_id": null, '
                    b'"finished_at": "2026-01-02T03:04:05"}',
                    b'{"status": "failed", "output": null, "error": 3, "error_node_id": null, "finished_at": null}'):
        assert _parse_done(message) == {}, message


def _as_waiting(run: Run) -> Run:
    """The run as a request holds it before the run ends (its status still queued)."""
    db.session.expunge(run)
    set_committed_value(run, "status", RunStatus.QUEUED)
    set_committed_value(run, "output", None)
    return run


def _selects(app):
    seen = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    return seen, count


def test_a_waiting_request_answers_from_the_announcement_and_reads_the_row_when_it_is_bare(app, client, api_key):
    hook = publish(client, api_key, echo_flow(reply="hi {{ inputs.message }}"))
    answer = hook.call({"user_message": "there"})
    assert answer.status_code == 200 and answer.json["output"]["text"] == "hi there", answer.json
    with app.app_context():
        stored = db.session.get(Run, answer.json["run_id"])
        truth = {name: getattr(stored, name) for name in ("status", "output", "error", "error_node_id", "finished_at")}
        run = _as_waiting(stored)
        seen, count = _selects(app)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert wait_until_final(run, 5)
            assert seen == []  # the announcement carried the outcome
            assert {name: getattr(run, name) for name in truth} == truth

            key = redis_keys.run_done(run.id)  # an announcement without the outcome (e.g. a sweeper's)
            get_redis().delete(key)
            get_redis().rpush(key, "succeeded")
            run = _as_waiting(db.session.get(Run, run.id))
            seen.clear()
            assert wait_until_final(run, 5)
            assert len(seen) == 1 and {name: getattr(run, name) for name in truth} == truth
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
