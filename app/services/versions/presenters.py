"""Shape flows, versions and triggers into the JSON the API answers (and templates reuse)."""

from __future__ import annotations

import flows
from app.extensions import db
from app.models import Flow, FlowVersion, Trigger, TriggerStatus
from app.models.types import iso
from app.trigger_types import registry as trigger_types


def trigger_url(trigger: Trigger) -> str | None:
    return trigger_types.of(trigger).url(trigger)


def live_triggers(flow: Flow) -> list[Trigger]:
    rows = db.session.execute(
        db.select(Trigger).where(Trigger.flow_id == flow.id, Trigger.status != TriggerStatus.DELETED)
    ).scalars()
    return sorted(rows, key=lambda t: (t.type, t.node_id))


def trigger_name(trigger: Trigger) -> str:
    """The node's name, or its type's title for an unnamed node (what the canvas shows)."""
    node_type = flows.registry.get(trigger.type)
    return trigger.name or (node_type.title if node_type else trigger_types.of(trigger).label)


def trigger_dict(trigger: Trigger) -> dict:
    adapter = trigger_types.of(trigger)
    data = {
        "id": trigger.id,
        "flow_id": trigger.flow_id,
        "node_id": trigger.node_id,
        "type": trigger.type,
        "name": trigger_name(trigger),
        "key": trigger.key,
        "url": adapter.url(trigger),
        "status": trigger.status.value,
        "authentication": adapter.authentication,
    }
    data.update(adapter.describe(trigger))
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
        "archived_at": iso(flow.archived_at),  # set: the flow's triggers are off until it is restored
        "document": version.document if version else None,
        "triggers": [trigger_dict(t) for t in live_triggers(flow)],
    }
