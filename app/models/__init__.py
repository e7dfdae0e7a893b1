"""The database models; importing this package registers every table on `db.metadata`."""

from app.models.flows import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.identity import ApiKey, Membership, Role, User, Workspace
from app.models.runs import Run, RunStatus, RunStep, StepStatus
from app.models.schedules import ScheduleClaim, ScheduleState

__all__ = [
    "ApiKey", "Flow", "FlowVersion", "Membership", "Role", "Run", "RunStatus", "RunStep",
    "ScheduleClaim", "ScheduleState", "StepStatus", "Trigger", "TriggerStatus", "User", "Workspace",
]
