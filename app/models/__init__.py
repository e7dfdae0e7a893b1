"""The database models; importing this package registers every table on `db.metadata`."""

from app.models.credentials import Credential
from app.models.flows import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.identity import ApiKey, Membership, Role, User, Workspace
from app.models.runs import Run, RunStatus, RunStep, StepStatus

__all__ = [
    "ApiKey", "Credential", "Flow", "FlowVersion", "Membership", "Role", "Run", "RunStatus", "RunStep",
    "StepStatus", "Trigger", "TriggerStatus", "User", "Workspace",
]
