"""The database models; importing this package registers every table on `db.metadata`."""

from app.models.conversations import BodyFingerprint, ConversationSession, IdempotencyKey
from app.models.credentials import Credential
from app.models.flows import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.identity import ALL_SCOPES, ApiKey, Membership, Role, Scope, User, Workspace
from app.models.runs import Run, RunStatus, RunStep, StepStatus
from app.models.schedules import ScheduleClaim, ScheduleState

__all__ = [
    "ALL_SCOPES", "ApiKey", "BodyFingerprint", "ConversationSession", "Credential", "Flow", "FlowVersion",
    "IdempotencyKey", "Membership", "Role", "Run", "RunStatus", "RunStep", "ScheduleClaim", "ScheduleState", "Scope",
    "StepStatus", "Trigger", "TriggerStatus", "User", "Workspace",
]
