"""Give a trigger a new secret or signing secret on request, and log that it happened.

Why apart from `trigger_sync.set_new_secret`: publishing also hands a new trigger its first
secret, and that is part of the publish (already logged), not a rotation. Every door that rotates
on request (the flow page, `/api/v1/flows/…/rotate-secret`, `/api/v1/triggers/…`) calls these,
so each rotation is logged once, naming the trigger and its flow, never the secret. An archived
flow's secrets can still be rotated: a secret that leaked must be replaceable before anyone
restores the flow, and a rotation changes nothing the archive froze (the canvas, the versions).
"""

from __future__ import annotations

from app.models import Trigger
from app.services import audit
from app.services.triggers.trigger_sync import set_new_secret
from app.services.triggers.webhook_signing import new_signing_secret
from app.services.versions.presenters import trigger_name


def rotate_secret(trigger: Trigger) -> str:
    """A new bearer secret, returned to show once; the old one stops working when the caller commits."""
    secret = set_new_secret(trigger)
    _audit(trigger, "secret")
    return secret


def rotate_signing_secret(trigger: Trigger) -> str:
    """A new Standard Webhooks signing secret, returned to show once; the previous one works 24 h more."""
    secret = new_signing_secret(trigger)
    _audit(trigger, "signing_secret")
    return secret


def _audit(trigger: Trigger, which: str) -> None:
    audit.record(trigger.workspace_id, audit.Action.SECRET_ROTATED, target_type="trigger", target_id=trigger.id,
                 target_label=f"{trigger_name(trigger)} in {trigger.flow.name}",
                 details={"secret": which, "flow_id": trigger.flow_id, "flow": trigger.flow.name})
