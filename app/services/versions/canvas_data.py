"""Build the JSON the canvas page starts from: document, palette, triggers and the URLs it calls.

Why server-built: the palette and every URL come from the registry and the routes, so the
browser holds no second copy of either that could drift.
"""

from __future__ import annotations

from flask import url_for

import flows
from app.models import Flow, FlowVersion
from app.services.versions.archived import SCHEDULE_MESSAGE, URLS_MESSAGE
from app.services.workspaces.credentials import list_credentials
from app.services.versions.presenters import live_triggers, trigger_dict
from app.trigger_types import registry as trigger_types
from app.words import STATUS_WORDS

EMPTY_DOCUMENT = {"schema_version": 1, "nodes": [], "edges": []}


def canvas_data(flow: Flow, version: FlowVersion | None, *, readonly: bool, can_edit: bool, can_run: bool) -> dict:
    document = dict(version.document) if version else dict(EMPTY_DOCUMENT, name=flow.name)
    node_placeholder, run_placeholder = "__NODE__", "__RUN__"
    return {
        "flow": {"id": flow.id, "name": flow.name},
        "version": version.number if version else 0,
        "latest_version": flow.latest_version,
        "readonly": readonly or not can_edit,
        "archived": flow.archived_at is not None,  # frozen until restored: the banner says so, not "open the latest"
        "urls_off": URLS_MESSAGE if flow.archived_at is not None else None,  # said instead of "Copy URL"
        # Said on a schedule node and in its panel instead of next fires that will not happen.
        "schedule_off": SCHEDULE_MESSAGE if flow.archived_at is not None else None,
        "can_edit": can_edit,
        # Run now from the canvas and its manual trigger nodes; an archived flow refuses to run.
        "can_run": can_run and flow.archived_at is None,
        "document": document,
        "palette": trigger_types.palette(flows.registry.palette()),  # trigger entries carry their adapter's hints
        "triggers": [trigger_dict(t) for t in live_triggers(flow)],
        # Names only: node forms offer them in credential drop-downs; secrets never reach the page.
        "credentials": [c.name for c in list_credentials(flow.workspace_id)],
        "test_inputs": flow.test_inputs or {},  # the last test's inputs: the Test dialog starts from them
        "status_words": STATUS_WORDS,  # the run bar names statuses as every page does ("Timed out")
        "urls": {
            "save": url_for("api.save_flow", flow_id=flow.id),
            "validate": url_for("api.validate_flow"),
            "run": url_for("api.run_flow", flow_id=flow.id),
            "test": url_for("api.test_draft", flow_id=flow.id),
            "run_trigger": url_for("api.run_trigger", flow_id=flow.id, node_id=node_placeholder),
            "run_status": url_for("api.get_run", run_id=run_placeholder),
            "run_page": url_for("ui.run_detail", run_id=run_placeholder),
            "trigger_panel": url_for("ui.trigger_panel", flow_id=flow.id, node_id=node_placeholder),
            "versions_panel": url_for("ui.versions_panel", flow_id=flow.id),
            "compare": url_for("api.compare_versions", flow_id=flow.id, a="__A__", b="__B__"),
            "flow_page": url_for("ui.flow_detail", flow_id=flow.id),
        },
    }
