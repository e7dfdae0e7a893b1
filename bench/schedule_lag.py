"""Measure how late scheduled runs start: planned fire time → run committed → run started by a worker.

Starts the production-shaped processes of `bench.stack` on SQLite (a redis-server over TCP, two
`worker.py`, one `worker.py --scheduler`; no web server is needed), publishes N schedule
triggers in-process (F flows × N/F trigger nodes, every-`--interval`-seconds schedules whose
start dates spread the fires evenly over the interval), lets them fire for `--duration`
seconds and reads the runs' own timestamps. Fires planned in the first `--warmup` seconds are
left out (the processes are still starting).

Usage: .venv/bin/python bench/schedule_lag.py [--schedules 1000] [--flows 10] [--interval 60]
                                              [--duration 150] [--warmup 20]

Why importable functions: `stack_bench` adds a shorter window of the same measure to its table,
on the stack its other rows ran on, with `seed` and `measure_window`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appdata import BenchApp  # noqa: E402  (bench/ is on sys.path as the script's folder, as for stack_bench)
from stack import Stack  # noqa: E402

UTC = timezone.utc
SETTLE_SECONDS = 15  # after the window: the longest wait for its last fires' runs to be committed and started
MIN_SETTLE_SECONDS = 2  # and the shortest, so a late second run of one fire would still be counted


def schedule_document(name: str, first: int, count: int, total: int, interval: int) -> dict:
    """`count` schedule nodes; schedule i's start date is offset by i/total of the interval (spread fires)."""
    nodes = [{"id": f"s{first + n}", "type": "schedule_trigger", "position": {"x": 0, "y": 80 * n}, "config": {
        "mode": "interval", "interval_seconds": interval, "overlap_policy": "allow",
        "start_date": (datetime(2026, 1, 1) + timedelta(seconds=int((first + n) * interval / total)))
        .strftime("%Y-%m-%dT%H:%M:%S")}} for n in range(count)]
    nodes += [{"id": "start", "type": "start", "position": {"x": 300, "y": 0}, "config": {"inputs": []}},
              {"id": "reply", "type": "reply", "position": {"x": 600, "y": 0}, "config": {"text": "tick"}}]
    edges = [{"id": f"e{n['id']}", "source": n["id"], "source_port": "out", "target": "start", "target_port": "in"}
             for n in nodes if n["type"] == "schedule_trigger"]
    edges.append({"id": "e-reply", "source": "start", "source_port": "out", "target": "reply", "target_port": "in"})
    return {"schema_version": 1, "name": name, "nodes": nodes, "edges": edges}


def seed(bench: BenchApp, schedules: int, flows: int, interval: int) -> None:
    from app.extensions import db
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace

    with bench.app.app_context():
        workspace = get_or_create_workspace("Bench schedules")
        per_flow = schedules // flows
        for f in range(flows):
            publishing.create_flow(workspace, schedule_document(f"Schedules {f}", f * per_flow, per_flow, schedules,
                                                                   interval),
                                   None)
            db.session.commit()  # arms this flow's timers


def lags(bench: BenchApp, since: datetime, until: datetime) -> tuple[list[float], list[float], int]:
    from app.extensions import db
    from app.models import Run

    with bench.app.app_context():
        rows = db.session.execute(db.select(Run.planned_at, Run.created_at, Run.started_at).where(
            Run.planned_at >= since, Run.planned_at < until)).all()
    fired = [(created - planned).total_seconds() * 1000 for planned, created, _ in rows]
    started = [(start - planned).total_seconds() * 1000 for planned, _, start in rows if start]
    return fired, started, len(rows)


def expected_fires(bench: BenchApp, since: datetime, until: datetime) -> int:
    from app.extensions import db
    from app.models import Trigger
    from app.services.scheduling.schedules import schedule_of

    total = 0
    with bench.app.app_context():
        for trigger in db.session.execute(db.select(Trigger).where(Trigger.type == "schedule_trigger")).scalars():
            fires, _ = schedule_of(trigger, "UTC").fires_between(since, until - timedelta(microseconds=1), 10000)
            total += len(fires)
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure_window(bench: BenchApp, warmup: float, duration: float) -> dict:
    """Fires planned from `warmup` s from now for `duration` s: their lags in ms, run count and planned fires.

    Waits out the window and MIN_SETTLE_SECONDS, then until every planned fire has a started run
    (at most SETTLE_SECONDS).
    The workers and the scheduler must already be running on `bench`'s database and Redis.
    """
    since = datetime.now(UTC) + timedelta(seconds=warmup)
    until = since + timedelta(seconds=duration)
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + MIN_SETTLE_SECONDS)
    expected = expected_fires(bench, since, until)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        fired, started, count = lags(bench, since, until)
        if (count >= expected and len(started) == count) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return {"fired": fired, "started": started, "count": count, "expected": expected}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000, help="active schedule triggers")
    parser.add_argument("--flows", type=int, default=10, help="flows the schedules are spread over")
    parser.add_argument("--interval", type=int, default=60, help="seconds between fires of one schedule")
    parser.add_argument("--duration", type=int, default=150, help="seconds to let them fire")
    parser.add_argument("--warmup", type=int, default=20, help="seconds of fires left out at the start")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sb-schedule-bench-") as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir, f"sqlite:///{workdir / 'bench.db'}")
        stack.env["QUEUE_NAME"] = "bench"
        try:
            stack.start_redis()
            stack.migrate()
            bench = BenchApp(stack.env)
            began = time.monotonic()
            seed(bench, args.schedules, args.flows, args.interval)
            print(f"published {args.schedules} schedules in {time.monotonic() - began:.1f} s", flush=True)
            stack.start_family(2)  # two workers and the scheduler, forked from one parent as in production
            stack.wait_workers_listening()
            window = measure_window(bench, args.warmup, args.duration)
        finally:
            stack.stop()
    fired, started, count, expected = window["fired"], window["started"], window["count"], window["expected"]
    print(f"{args.schedules} active schedules, every {args.interval} s, {args.duration} s measured: "
          f"{count} runs for {expected} planned fires")
    for label, values in (("planned → run committed (fire lag)", fired), ("planned → run started by a worker", started)):
        if values:
            print(f"{label}: median {statistics.median(values):.0f} ms, p99 {percentile(values, 0.99):.0f} ms, "
                  f"max {max(values):.0f} ms")
    return 0 if count == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
