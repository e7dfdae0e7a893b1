"""Store settings that publishing now refuses, as flows saved before it checked them still have.

Publishing refuses a schedule whose inputs do not fit the start node, but versions published
before that check exist in real databases, and the run-time safety nets (a failed fire with the
reason, the trigger setup check) must still handle them. Tests publish a runnable flow, then
change the stored version and trigger row the way such an old version looks.
"""

from __future__ import annotations

import copy


def store_trigger_setting(app, flow_id: str, node_id: str, name: str, value) -> None:
    """Set config `name` of trigger node `node_id` in the flow's latest version and in its trigger row."""
    from app.extensions import db
    from app.models import Flow, FlowVersion, Trigger

    with app.app_context():
        flow = db.session.get(Flow, flow_id)
        version = db.session.execute(db.select(FlowVersion).where(
            FlowVersion.flow_id == flow_id, FlowVersion.number == flow.latest_version)).scalar_one()
        document = copy.deepcopy(version.document)
        for node in document["nodes"]:
            if node["id"] == node_id:
                node.setdefault("config", {})[name] = value
        version.document = document
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id,
                                                              Trigger.node_id == node_id)).scalar_one()
        trigger.config = {**trigger.config, name: value}
        db.session.commit()
