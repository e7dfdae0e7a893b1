"""Shape flows, versions and triggers into the JSON the API answers (and templates reuse)."""

from __future__ import annotations

from app.extensions import db
from app.models import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.types import iso
from app.urls import public_url


def trigger_url(trigger: Trigger) -> str | None:
    if trigger.type == "api_trigger" and trigger.key:
        return public_url("hooks.invoke", workspace_id=trigger.workspace_id, key=trigger.key)
    if trigger.type == "openai_trigger":
        return openai_base_url()
    if trigger.type == "manual_trigger":
        return public_url("api.run_trigger", flow_id=trigger.flow_id, node_id=trigger.node_id)
    return None


def openai_base_url() -> str:
    """The base URL OpenAI clients are configured with (they add /chat/completions, /models)."""
    return public_url("openai.list_models").rsplit("/models", 1)[0]


def live_triggers(flow: Flow) -> list[Trigger]:
    rows = db.session.execute(
        db.select(Trigger).where(Trigger.flow_id == flow.id, Trigger.status != TriggerStatus.DELETED)
    ).scalars()
    return sorted(rows, key=lambda t: (t.type, t.node_id))


def trigger_dict(trigger: Trigger) -> dict:
    data = {
        "id": trigger.id,
        "flow_id": trigger.flow_id,
        "node_id": trigger.node_id,
        "type": trigger.type,
        "key": trigger.key,
        "url": trigger_url(trigger),
        "status": trigger.status.value,
    }
    if trigger.type == "api_trigger":
        data.update({
            "method": "POST",
            "authenticate": trigger.config.get("authenticate", True),
            "wait_for_response": trigger.config.get("wait_for_response", True),
            "timeout_seconds": trigger.config.get("timeout_seconds", 30),
            "secret_hint": f"…{trigger.secret_hint}" if trigger.secret_hint else None,
            "signing_secret_set": bool(trigger.signing_secret),
        })
    if trigger.type == "openai_trigger":
        data.update({"base_url": trigger_url(trigger), "model": trigger.key,
                     "timeout_seconds": trigger.config.get("timeout_seconds", 120)})
    if trigger.type == "schedule_trigger":
        from app.services.schedule_info import describe

        data["schedule"] = describe(trigger)
    data.update({"config": trigger.config, "created_at": iso(trigger.created_at), "updated_at": iso(trigger.updated_at)})
    return data


def version_dict(version: FlowVersion, with_document: bool = False) -> dict:
    data = {
        "number": version.number,
        "created_at": iso(version.created_at),
        "created_by": version.created_by.email if version.created_by else None,
        "note": version.note,
    }
    if with_document:
        data["document"] = version.document
    return data


def flow_dict(flow: Flow, version: FlowVersion | None) -> dict:
    return {
        "id": flow.id,
        "workspace_id": flow.workspace_id,
        "name": flow.name,
        "description": flow.description,
        "version": flow.latest_version,
        "run_timeout_seconds": flow.run_timeout_seconds,
        "created_at": iso(flow.created_at),
        "updated_at": iso(flow.updated_at),
        "document": version.document if version else None,
        "triggers": [trigger_dict(t) for t in live_triggers(flow)],
    }
