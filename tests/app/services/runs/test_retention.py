"""Retention: runs and steps past RUN_RETENTION_DAYS go, in batches; nothing unfinished or recent does."""

from __future__ import annotations

import threading

import pytest

from app.config import replace_settings
from tests.app.runsetup import Flows, ago, attach, bearer, make_session
from tests.conftest import wait_for


@pytest.fixture
def flows_api(client, api_key):
    return Flows(client, api_key)


def _counts(app) -> tuple[int, int]:
    from app.extensions import db
    from app.models import Run, RunStep

    with app.app_context():
        runs = db.session.execute(db.select(db.func.count()).select_from(Run)).scalar_one()
        steps = db.session.execute(db.select(db.func.count()).select_from(RunStep)).scalar_one()
        return runs, steps


def _old_and_new_runs(app, flows_api, old: int, new: int) -> tuple[list[str], list[str]]:
    flow = flows_api.publish()
    made = [flows_api.call(flow, f"m{i}")["run_id"] for i in range(old + new)]
    for run_id in made[:old]:
        attach(app, run_id, created_at=ago(days=31))
    return made[:old], made[old:]


def test_purge_deletes_old_runs_with_their_steps_in_batches_and_keeps_the_rest(app, client, api_key, flows_api, caplog):
    from app.extensions import db
    from app.models import RunStatus
    from app.services.runs import retention

    old, new = _old_and_new_runs(app, flows_api, old=5, new=2)
    # An old run that never finished (its worker is still on it) must survive any purge.
    attach(app, old[0], status=RunStatus.RUNNING)
    runs_before, steps_before = _counts(app)
    assert steps_before == 5 * runs_before

    with app.app_context(), caplog.at_level("INFO", logger="switchboard.retention"):
        assert retention.purge(batch_size=2) == 4
        db.session.remove()
    assert [line.split("batch=")[1].split()[0] for line in caplog.messages if "batch=" in line] == ["2", "2"]

    remaining = [r["id"] for r in client.get("/api/v1/runs", headers=bearer(api_key)).json["runs"]]
    assert sorted(remaining) == sorted(new + [old[0]])
    assert _counts(app) == (3, 15)
    assert client.get(f"/api/v1/runs/{old[1]}", headers=bearer(api_key)).status_code == 404
    assert client.get(f"/api/v1/runs/{new[0]}", headers=bearer(api_key)).json["steps"]


def test_expired_conversations_without_runs_go_with_their_last_run(app, flows_api):
    from datetime import timedelta

    from app.extensions import db
    from app.models import ConversationSession, Run
    from app.services.runs import retention

    old, new = _old_and_new_runs(app, flows_api, old=1, new=1)
    with app.app_context():
        flow_id = db.session.get(Run, new[0]).flow_id
    gone = make_session(app, flow_id, "old-chat", runs=old, expires_in=-timedelta(days=30))
    attach_session_age(app, gone, days=31)
    kept = make_session(app, flow_id, "live-chat", runs=new)
    with app.app_context():
        retention.purge()
        assert db.session.get(ConversationSession, gone) is None
        assert db.session.get(ConversationSession, kept) is not None


def attach_session_age(app, session_id: str, days: int) -> None:
    from app.extensions import db
    from app.models import ConversationSession

    with app.app_context():
        row = db.session.get(ConversationSession, session_id)
        row.last_active_at = ago(days=days)
        db.session.commit()


def test_zero_days_keeps_everything(app, flows_api):
    from app.services.runs import retention

    _old_and_new_runs(app, flows_api, old=2, new=0)
    replace_settings(app, run_retention_days=0)
    with app.app_context():
        assert retention.purge() == 0
    assert _counts(app)[0] == 2


def test_the_clock_process_purges_on_its_own(app, flows_api, stack):
    """The scheduler loop (the same code `worker.py` runs) calls retention; no one has to."""
    from app.clock.loop import run_clock

    old, new = _old_and_new_runs(app, flows_api, old=3, new=1)
    stop = threading.Event()
    clock = threading.Thread(target=run_clock, args=(app, stop), daemon=True)
    clock.start()
    try:
        wait_for(lambda: _counts(app)[0] == 1, timeout=20)
    finally:
        stop.set()
        clock.join(timeout=10)
    assert not clock.is_alive()
