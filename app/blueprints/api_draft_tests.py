"""`POST /api/v1/flows/<id>/test`: run an unsaved document once, on a worker, as a test run.

Answers like a REST trigger that waits for its answer: 200 with the run's status, output and a
summary of every step when it ends within the wait, else 202 with `status_url` (the run goes on).
The canvas asks for no wait (`wait_seconds: 0`) and follows the run live instead. A refused
document (the publish path's 400 `invalid_flow`, every problem listed) or refused inputs (400
naming each field) leave nothing behind: no draft, no pinned inputs, no run.
"""

from __future__ import annotations

from flask import jsonify

from app.auth import api_principal
from app.blueprints.api import _body, bp
from app.blueprints.common import invoke_errors, publish_errors
from app.blueprints.loaders import load_flow
from app.errors import ApiError, request_id
from app.extensions import db
from app.models import Run, RunStatus, RunStep, Scope
from app.permissions import Permission
from app.services.runs import records
from app.services.runs.draft_tests import start_test

DEFAULT_WAIT_SECONDS = 30  # as a REST trigger waits by default
MAX_WAIT_SECONDS = 60


@bp.post("/flows/<flow_id>/test")
def test_draft(flow_id: str):
    """Test the document as it is (unsaved) with `inputs`; the inputs are pinned for the next test."""
    flow = load_flow(flow_id, Scope.MANAGE_FLOWS)
    principal = api_principal(Scope.TRIGGER)
    principal.require(flow.workspace_id, Permission.EDIT_FLOWS)
    data = _body({"document", "inputs", "wait_seconds"}, {"document"})
    wait = _wait_seconds(data.get("wait_seconds", DEFAULT_WAIT_SECONDS))
    with publish_errors(), invoke_errors():
        run = start_test(flow, data["document"], data.get("inputs", {}), user=principal.user,
                         request_id=request_id())
    if wait and records.wait_until_final(run, wait):
        return jsonify(_finished(run)), 200
    body = {"run_id": run.id, "status": run.status.value, "status_url": records.status_url(run),
            "test": True, "request_id": request_id()}
    return jsonify(body), 202, {"Location": records.status_url(run)}


def _wait_seconds(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_WAIT_SECONDS:
        raise ApiError(400, "invalid_wait_seconds", f"wait_seconds must be a number from 0 to {MAX_WAIT_SECONDS} "
                       "(0: answer at once with status_url).", [{"field": "wait_seconds", "reason": "out of range"}])
    return float(value)


def _finished(run: Run) -> dict:
    """The answer of a test run that ended: what a waiting REST trigger says, plus each step."""
    steps = db.session.execute(db.select(RunStep).where(RunStep.run_id == run.id)
                               .order_by(RunStep.seq, RunStep.attempt)).scalars()
    body = {"run_id": run.id, "status": run.status.value, "output": run.output, "test": True,
            "status_url": records.status_url(run), "request_id": request_id(),
            "steps": [{"node_id": s.node_id, "node_type": s.node_type, "status": s.status.value, "port": s.port,
                       "output": s.output, "error": s.error, "duration_ms": s.duration_ms} for s in steps]}
    if run.status is not RunStatus.SUCCEEDED:
        body["error"] = {"node_id": run.error_node_id, "message": run.error}
    return body
