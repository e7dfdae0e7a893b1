"""Archive and restore a flow: its triggers go off, its schedules stop, its history stays readable.

Why a flag and not a delete: runs, steps and conversations point at the flow and its versions,
and people still need to read them (what did that flow answer last week?). Archiving only turns
every door off (`app.services.versions.archived`) and disarms its schedules; restoring re-plans
them from now, so fires missed while archived are not caught up.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Flow, Trigger, TriggerStatus
from app.models.types import utcnow
from app.services import audit
from app.services.scheduling import schedules


def _live_triggers(flow: Flow) -> list[Trigger]:
    return list(db.session.execute(db.select(Trigger).where(
        Trigger.flow_id == flow.id, Trigger.status != TriggerStatus.DELETED)).scalars())


def archive(flow: Flow) -> bool:
    """Archive the flow (False when it already was); the caller commits."""
    if flow.archived_at is not None:
        return False
    flow.archived_at = flow.updated_at = utcnow()
    schedules.sync_states(_live_triggers(flow))  # archived: every schedule's next fire is cleared
    audit.record(flow.workspace_id, audit.Action.FLOW_ARCHIVED, target_type="flow", target_id=flow.id,
                 target_label=flow.name)
    return True


def restore(flow: Flow) -> bool:
    """Bring an archived flow back (False when it was not archived); its schedules fire again from now."""
    if flow.archived_at is None:
        return False
    flow.archived_at = None
    flow.updated_at = utcnow()
    triggers = _live_triggers(flow)
    for state in schedules.states_of(triggers):
        state.next_fire_at = None  # start over from now: fires missed while archived are not run
    schedules.sync_states(triggers)
    audit.record(flow.workspace_id, audit.Action.FLOW_RESTORED, target_type="flow", target_id=flow.id,
                 target_label=flow.name)
    return True
