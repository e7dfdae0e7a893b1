"""Schedules with real processes: two schedulers, one of them kill -9'd, then both stopped and restarted.

Per-2-second and per-3-second schedules run for about a minute and a half on loopback, with the
server processes in an odd time zone (TZ=Pacific/Chatham, +13:45) to show that timers never
depend on it. Afterwards every planned fire time is accounted for exactly once: it started one
run, or it is counted in the one claim that records the missed-run policy's decision.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from tests.app.flowdocs import schedule_flow
from tests.faults.conftest import FaultStack

UTC = timezone.utc
GRACE_SECONDS = 5


@pytest.fixture
def schedule_stack(app, stack, tmp_path):
    faults = FaultStack(stack, tmp_path)
    faults.env.update(TZ="Pacific/Chatham", SCHEDULE_MISFIRE_GRACE_SECONDS=str(GRACE_SECONDS),
                      SCHEDULE_RECONCILE_SECONDS="2")
    faults.start()
    yield faults
    faults.stop()


def _api_key(app) -> str:
    from app.extensions import db
    from app.services.workspaces.accounts import get_or_create_workspace
    from app.services.workspaces.api_keys import create_api_key

    with app.app_context():
        workspace = get_or_create_workspace("Schedules")
        _, token = create_api_key(workspace, "faults")
        db.session.commit()
        return token


def _create_flow(base_url: str, token: str, document: dict) -> dict:
    request = urllib.request.Request(f"{base_url}/api/v1/flows", data=json.dumps({"document": document}).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.load(response)


def _start_clock(faults: FaultStack, name: str) -> subprocess.Popen:
    clock = faults._spawn([sys.executable, "worker.py", "--scheduler"], name)
    faults.others.append(clock)
    return clock


def _history(app, flow_id: str):
    """(planned times with their run counts, claims) of the flow's only schedule trigger."""
    from app.extensions import db
    from app.models import Run, ScheduleClaim, Trigger

    with app.app_context():
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id)).scalar_one()
        runs: dict[datetime, int] = {}
        for planned in db.session.execute(db.select(Run.planned_at).where(Run.flow_id == flow_id)).scalars():
            runs[planned] = runs.get(planned, 0) + 1
        claims = db.session.execute(db.select(ScheduleClaim).where(ScheduleClaim.trigger_id == trigger.id)
                                    .order_by(ScheduleClaim.planned_at)).scalars().all()
        db.session.expunge_all()
        return runs, claims


def _account_for_every_fire(runs: dict, claims: list, interval: int) -> dict[datetime, str]:
    """Map every planned time from the first to the last claim to what happened to it; fail on gaps or doubles."""
    assert all(count == 1 for count in runs.values()), f"a fire started more than one run: {runs}"
    fate: dict[datetime, str] = {}
    for claim in claims:
        if claim.outcome in ("started", "catch_up"):
            assert runs.get(claim.planned_at) == 1
            fate[claim.planned_at] = claim.outcome
        if claim.outcome in ("missed", "catch_up"):
            covered = claim.missed_count - (1 if claim.outcome == "catch_up" else 0)
            start = claim.planned_at - timedelta(seconds=interval) * (claim.missed_count - 1)
            for n in range(covered):
                fate.setdefault(start + timedelta(seconds=interval) * n, "missed")
        if claim.outcome == "missed":
            fate[claim.planned_at] = "missed"
    first, last = claims[0].planned_at, claims[-1].planned_at
    point, gaps = first, []
    while point <= last:
        if point not in fate:
            gaps.append(point)
        point += timedelta(seconds=interval)
    assert not gaps, f"planned fires neither run nor accounted as missed: {gaps}"
    assert set(runs) <= set(fate)
    return fate


def _assert_fires_accounted(app, flow, interval, policy, killed_at, stopped_at, restarted_at) -> None:
    """Every planned fire of `flow` ran once, on time, or was decided once by its missed-run policy."""
    runs, claims = _history(app, flow["id"])
    fate = _account_for_every_fire(runs, claims, interval)
    before_kill = [c for c in claims if c.planned_at < killed_at]
    assert len(before_kill) >= 30 // interval - 3
    assert all(c.outcome == "started" for c in before_kill), "two schedulers alone made a fire late"
    # Once the killed scheduler's locks have expired (at most 11 s), the survivor fires every
    # planned time on time (the last 2 s before the stop may not have been due yet).
    after_kill = [p for p in fate if killed_at + timedelta(seconds=12) < p < stopped_at - timedelta(seconds=2)]
    assert after_kill and all(fate[p] == "started" for p in after_kill), "the surviving scheduler stopped firing"

    # The restarted scheduler's first claim decides the whole outage, in one claim. When it
    # decides depends on how long the new process takes to boot (seconds on a loaded machine),
    # so the outage is bounded by the claims themselves, not by the moment it was spawned.
    resumed_at = min((c.planned_at for c in claims if c.planned_at > restarted_at and c.outcome == "started"),
                     default=None)
    assert resumed_at is not None, "the restarted scheduler did not resume the schedule"
    outage = [c for c in claims if stopped_at < c.planned_at < resumed_at and c.outcome in ("missed", "catch_up")]
    assert len(outage) == 1, [(c.planned_at, c.outcome) for c in claims if c.planned_at > stopped_at]
    decision = outage[0]
    assert decision.missed_count >= 2
    missed_runs = [p for p in runs if stopped_at + timedelta(seconds=interval) < p < decision.planned_at]
    assert missed_runs == [], "a fire missed during the outage started a run"
    if policy == "skip":
        assert decision.outcome == "missed" and decision.run_id is None
        assert decision.planned_at not in runs
    else:
        assert decision.outcome == "catch_up" and decision.run_id is not None
        assert runs.get(decision.planned_at) == 1  # one run for everything missed
    resumed = [p for p, what in fate.items() if p > restarted_at + timedelta(seconds=2) and what == "started"]
    assert len(resumed) >= 2, "the restarted scheduler did not resume the schedule"


def _wait_resumed(app, flows: tuple[dict, ...], restarted_at: datetime, timeout: float) -> None:
    """Wait until the restarted scheduler has fired each flow twice on time (what the accounting checks)."""
    deadline = time.monotonic() + timeout
    while True:
        resumed = []
        for flow in flows:
            _, claims = _history(app, flow["id"])
            resumed.append(sum(1 for c in claims if c.outcome == "started"
                               and c.planned_at > restarted_at + timedelta(seconds=2)))
        if min(resumed) >= 2:
            return
        assert time.monotonic() < deadline, f"the restarted scheduler fired only {resumed} times"
        time.sleep(0.5)


def test_two_schedulers_kill_one_then_stop_both_every_fire_exactly_once_and_policy_applied(app, schedule_stack):
    faults = schedule_stack
    token = _api_key(app)
    skip = _create_flow(faults.base_url, token, schedule_flow(name="Every 2 s, skip", interval_seconds=2,
                                                              missed_policy="skip", overlap_policy="allow"))
    catch_up = _create_flow(faults.base_url, token, schedule_flow(
        name="Every 3 s, run once", interval_seconds=3, missed_policy="run_once", missed_window_seconds=3600,
        overlap_policy="allow"))
    first_clock = faults.others[0]
    _start_clock(faults, "clock-2")

    time.sleep(30)  # two schedulers
    killed_at = datetime.now(UTC)
    first_clock.send_signal(signal.SIGKILL)
    first_clock.wait()
    time.sleep(20)  # one scheduler left
    stopped_at = datetime.now(UTC)
    for clock in faults.others[1:]:
        if clock.poll() is None and clock.args[-1] == "--scheduler":
            clock.terminate()
            clock.wait(timeout=15)
    time.sleep(15)  # no scheduler at all: fires are missed
    restarted_at = datetime.now(UTC)
    _start_clock(faults, "clock-3")
    _wait_resumed(app, (skip, catch_up), restarted_at, timeout=45)

    for flow, interval, policy in ((skip, 2, "skip"), (catch_up, 3, "run_once")):
        _assert_fires_accounted(app, flow, interval, policy, killed_at, stopped_at, restarted_at)

    from app.extensions import db
    from app.models import Run, RunStatus

    with app.app_context():  # every scheduled run was executed by the workers, in the planned order of fires
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and db.session.execute(
                db.select(Run.id).where(Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))).first():
            db.session.rollback()
            time.sleep(0.5)
        statuses = set(db.session.execute(db.select(Run.status)).scalars())
        assert statuses == {RunStatus.SUCCEEDED}
