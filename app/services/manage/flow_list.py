"""The flows list: which flows (search, archived or not), and each one's recent traffic.

Why one grouped query for the numbers: the list shows every flow of a workspace, and a query per
flow made the page slower with every flow added. Test runs of drafts (trigger type "test") are
not traffic of the published flow, so they are left out of every number here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func

from app.extensions import db
from app.models import Flow, Run, RunStatus
from app.models.types import utcnow
from app.services.runs.run_stats import TRAFFIC  # test runs of drafts are not the flow's traffic

FAILED = (RunStatus.FAILED, RunStatus.TIMED_OUT)
MAX_QUERY = 200


@dataclass
class FlowTraffic:
    last_run_at: datetime | None = None
    last_status: str | None = None
    runs_today: int = 0
    failed_today: int = 0


def search_flows(workspace_ids: list[str], q: str = "", archived: bool = False, flow_ids: list[str] | None = None):
    """The flows of these workspaces whose name or description contains `q` (any case), newest change first."""
    query = db.select(Flow).where(Flow.workspace_id.in_(workspace_ids),
                                  Flow.archived_at.is_not(None) if archived else Flow.archived_at.is_(None))
    if flow_ids is not None:
        query = query.where(Flow.id.in_(flow_ids))
    words = q.strip()[:MAX_QUERY]
    if words:
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(db.or_(func.lower(Flow.name).like(pattern, escape="\\"),
                                   func.lower(Flow.description).like(pattern, escape="\\")))
    return list(db.session.execute(query.order_by(Flow.updated_at.desc(), Flow.id)).scalars())


def start_of_today() -> datetime:
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def traffic(flow_ids: list[str]) -> dict[str, FlowTraffic]:
    """Last run (status and time), runs today and failures today (UTC) per flow, test runs excluded."""
    if not flow_ids:
        return {}
    today = start_of_today()
    is_today = Run.created_at >= today
    grouped = db.select(
        Run.flow_id.label("flow_id"), func.max(Run.created_at).label("last_at"),
        func.sum(case((is_today, 1), else_=0)).label("today"),
        func.sum(case((and_(is_today, Run.status.in_(FAILED)), 1), else_=0)).label("failed"),
    ).where(Run.flow_id.in_(flow_ids), TRAFFIC).group_by(Run.flow_id).subquery()
    rows = db.session.execute(
        db.select(grouped.c.flow_id, grouped.c.last_at, grouped.c.today, grouped.c.failed, Run.status)
        .select_from(grouped).outerjoin(Run, and_(
            Run.flow_id == grouped.c.flow_id, Run.created_at == grouped.c.last_at, TRAFFIC)))
    found: dict[str, FlowTraffic] = {}
    for row in rows:
        found.setdefault(row.flow_id, FlowTraffic(row.last_at, row.status.value if row.status else None,
                                                  int(row.today or 0), int(row.failed or 0)))
    return found
