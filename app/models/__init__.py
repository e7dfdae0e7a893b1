"""The database models; importing this package registers every table on `db.metadata`."""

from app.models.audit import AuditEvent
from app.models.conversations import BodyFingerprint, ConversationSession, IdempotencyKey
from app.models.credentials import Credential
from app.models.flows import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.identity import ALL_SCOPES, ApiKey, Membership, Role, Scope, User, Workspace
from app.models.invitations import Invitation, PasswordReset
from app.models.runs import Run, RunStatus, RunStep, StepStatus
from app.models.schedules import ScheduleClaim, ScheduleState

__all__ = [
    "ALL_SCOPES", "ApiKey", "AuditEvent", "BodyFingerprint", "ConversationSession", "Credential", "Flow",
    "FlowVersion", "IdempotencyKey", "Invitation", "Membership", "PasswordReset", "Role", "Run", "RunStatus",
    "RunStep", "ScheduleClaim", "ScheduleState", "Scope", "StepStatus", "Trigger", "TriggerStatus", "User",
    "Workspace",
]
