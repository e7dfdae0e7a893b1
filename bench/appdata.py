"""The benchmark's in-process side: seed flows and an API key, build run backlogs, read run stats.

Why in-process and not through the API: set-up takes milliseconds this way, and a backlog of
thousands of runs must appear much faster than workers drain it. The rows and jobs are the ones
every start makes (see `app.services.runs.run_start.start`): the run is committed with its
job id first, then enqueued, so the sweeper never sees a run without its job.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, select

import flows
from app import create_app
from app.extensions import db
from app.models import Flow, Run, RunStatus, Trigger
from app.models.types import new_id, utcnow
from app.queueing.jobs import enqueue_run, new_job_id
from app.queueing.connection import get_redis
from app.services.versions import publishing
from app.services.workspaces.accounts import get_or_create_workspace
from app.services.workspaces.api_keys import create_api_key
from app.services.triggers.trigger_body import inputs_from_body

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "flows" / "examples" / "ops_status_check.json"
BODY = {"user_message": "what is the status of db?", "service": "db"}
EXPECTED_TEXT = "Service db is degraded."
PENDING = (RunStatus.QUEUED, RunStatus.RUNNING)
INSERT_CHUNK = 1000


def async_copy(document: dict) -> dict:
    """The example with its REST trigger renamed to "ops-async" and answering 202 at once."""
    document = copy.deepcopy(document)
    document["name"] = f"{document.get('name', 'Flow')} (async)"
    for node in document["nodes"]:
        if node["type"] == "api_trigger":
            node["config"].update(key="ops-async", wait_for_response=False)
    return document


class BenchApp:
    """A Flask app bound to the stack's database and Redis, for work done outside the processes."""

    def __init__(self, env: dict):
        keys = ("SWITCHBOARD_INSTANCE_PATH", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "QUEUE_NAME")
        saved = {key: os.environ.get(key) for key in keys}
        try:  # create_app reads its settings from the environment once, here
            for key in keys:
                if env.get(key) is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = env[key]
            self.app = create_app()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.workspace_id = self.token = self.wait_flow_id = None

    def seed(self) -> None:
        """Workspace "Bench", the example flow (ops-status, waits), its async copy, and an API key."""
        document = json.loads(EXAMPLE.read_text())
        with self.app.app_context():
            workspace = get_or_create_workspace("Bench")
            wait_flow = publishing.create_flow(workspace, document, None).flow
            publishing.create_flow(workspace, async_copy(document), None)
            _key, self.token = create_api_key(workspace, "bench")
            db.session.commit()
            self.workspace_id, self.wait_flow_id = workspace.id, wait_flow.id

    def hook_url(self, base_url: str, key: str) -> str:
        return f"{base_url}/hooks/{self.workspace_id}/{key}"

    def create_backlog(self, count: int) -> datetime:
        """Commit `count` queued runs of the wait flow in bulk, then enqueue each; returns when it began."""
        began = utcnow()
        with self.app.app_context():
            flow = db.session.get(Flow, self.wait_flow_id)
            version = publishing.latest_version(flow)
            trigger = db.session.execute(select(Trigger).where(Trigger.flow_id == flow.id,
                                                               Trigger.type == "api_trigger")).scalar_one()
            start = flows.Graph(version.document).start_node()
            inputs = inputs_from_body(BODY, start.get("config") or {})
            rows = []
            for _ in range(count):
                run_id = new_id()
                rows.append({
                    "id": run_id, "workspace_id": flow.workspace_id, "flow_id": flow.id,
                    "flow_version_id": version.id, "version_number": version.number, "trigger_id": trigger.id,
                    "trigger_node_id": trigger.node_id, "trigger_type": "api_trigger", "status": RunStatus.QUEUED,
                    "inputs": inputs, "request_id": None, "job_id": new_job_id(run_id), "created_at": utcnow(),
                    "trigger_payload": {"type": "api", "node_id": trigger.node_id, "key": trigger.key,
                                        "received_at": utcnow().isoformat(), "request_id": None},
                })
            for offset in range(0, count, INSERT_CHUNK):
                db.session.execute(insert(Run), rows[offset:offset + INSERT_CHUNK])
                db.session.commit()
            for row in rows:
                enqueue_run(row["id"], row["job_id"], flow.run_timeout_seconds)
        return began

    def pending(self) -> int:
        """Runs still queued or running, in the whole database."""
        with self.app.app_context():
            return db.session.execute(select(func.count()).select_from(Run).where(Run.status.in_(PENDING))).scalar()

    def window(self, since: datetime) -> dict:
        """Runs created since `since`: count per status, first created/started and last finished."""
        with self.app.app_context():
            statuses = dict(db.session.execute(select(Run.status, func.count()).where(Run.created_at >= since)
                                               .group_by(Run.status)).all())
            first_created, first_started, last_finished = db.session.execute(
                select(func.min(Run.created_at), func.min(Run.started_at), func.max(Run.finished_at))
                .where(Run.created_at >= since)).one()
        return {"statuses": {status.value: n for status, n in statuses.items()}, "total": sum(statuses.values()),
                "first_created": first_created, "first_started": first_started, "last_finished": last_finished}

    def close(self) -> None:
        """Close our pooled database connections and Redis client (so the database can be dropped)."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
            get_redis().close()
