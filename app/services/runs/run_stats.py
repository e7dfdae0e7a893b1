"""Per-flow overview numbers: runs per hour by status, and median / p95 duration, last 24 hours.

Why computed in Python from one narrow query: percentiles are not portable SQL (SQLite has
none), and a day of one flow's runs is a few columns per row. The charts are drawn server-side
as inline SVG (`app/services/runs/charts.py`), so the page needs no chart library.

Test runs of drafts (trigger type TEST) are not the flow's traffic: every number here leaves
them out, through `TRAFFIC`, which other summaries (last run, runs today, failures) use too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.extensions import db
from app.models import Run, RunStatus
from app.models.types import utcnow
from app.trigger_types import TEST

HOURS = 24
TRAFFIC = Run.trigger_type != TEST  # a where-clause: the runs that count as the published flow's traffic
CHART_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELED,
                  RunStatus.DISCARDED, RunStatus.RUNNING, RunStatus.QUEUED)


@dataclass
class HourBucket:
    start: datetime
    counts: dict[str, int] = field(default_factory=dict)
    durations_ms: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def median_ms(self) -> float | None:
        return percentile(self.durations_ms, 50)

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.durations_ms, 95)


@dataclass
class Overview:
    hours: list[HourBucket]
    totals: dict[str, int]
    median_ms: float | None
    p95_ms: float | None

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def percentile(values: list[int], pct: float) -> float | None:
    """Nearest-rank percentile (the value below which `pct` % of the runs fall); None without data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return float(ordered[int(rank) - 1])


def flow_overview(flow_id: str, now: datetime | None = None) -> Overview:
    """Bucket the flow's runs created in the last 24 h by hour (oldest first)."""
    now = now or utcnow()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    hours = [HourBucket(first + timedelta(hours=i)) for i in range(HOURS)]
    rows = db.session.execute(
        db.select(Run.status, Run.created_at, Run.started_at, Run.finished_at)
        .where(Run.flow_id == flow_id, Run.created_at >= first, TRAFFIC)
    ).all()
    totals: dict[str, int] = {}
    all_durations: list[int] = []
    for status, created_at, started_at, finished_at in rows:
        index = int((created_at - first).total_seconds() // 3600)
        if not 0 <= index < HOURS:
            continue
        bucket = hours[index]
        bucket.counts[status.value] = bucket.counts.get(status.value, 0) + 1
        totals[status.value] = totals.get(status.value, 0) + 1
        if started_at and finished_at:
            duration = int((finished_at - started_at).total_seconds() * 1000)
            bucket.durations_ms.append(duration)
            all_durations.append(duration)
    return Overview(hours, totals, percentile(all_durations, 50), percentile(all_durations, 95))
