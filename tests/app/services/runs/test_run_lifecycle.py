"""Only `app.services.runs.lifecycle` writes a run's status: a scan of the app's source proves it.

The scan reads every module under app/ (migrations live outside it) and flags each way Python
code here writes `runs.status`: an UPDATE or INSERT of the runs table whose values name the
status (or hide it in `**values` or a dict), `<x>.status = …` and `setattr(<x>, "status", …)`
(unless the value is another enum: triggers and steps have statuses of their own), a
`status=RunStatus.…` keyword or `"status": RunStatus.…` entry, and SQL text that sets it.
The scanner's own tests below show it catches each form, so the check cannot pass vacuously.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
OWNER = ROOT / "app" / "services" / "runs" / "lifecycle.py"
_RUNS_STATEMENT = re.compile(r"\b(update|insert)\(\s*(Run|RUNS|Run\.__table__)\s*\)"
                             r"|\b(RUNS|Run\.__table__)\.(update|insert)\(")
_OTHER_ENUM = re.compile(r"\b(?!Run)\w+Status\b")
_SQL_TEXT = re.compile(r"\bupdate\s+runs\b.*\bset\b.*\bstatus\b|\binsert\s+into\s+runs\b", re.I | re.S)


def _writes_run_status(value: ast.AST) -> bool:
    """Whether an assigned value is (or may be) a run's status, not another enum's."""
    text = ast.unparse(value)
    return not _OTHER_ENUM.search(text) or "RunStatus" in text


def _values_call_on_runs(node: ast.Call) -> bool:
    """Whether `node` is `<an UPDATE or INSERT of runs>….values(…)`."""
    func = node.func
    return isinstance(func, ast.Attribute) and func.attr == "values" \
        and bool(_RUNS_STATEMENT.search(ast.unparse(func.value)))


def _names_status(node: ast.Call) -> bool:
    """Whether a `.values(...)` call sets `status`, or passes values the scan cannot see."""
    if node.args:  # a dict of values: it may hold the status
        return True
    return any(keyword.arg in (None, "status") for keyword in node.keywords)


def _violation(node: ast.AST) -> str | None:
    """Describe how `node` writes a run's status, or None."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "status" \
                    and ast.unparse(target.value) != "self" and node.value is not None \
                    and _writes_run_status(node.value):
                return f"assigns {ast.unparse(target)}"
    if isinstance(node, ast.Call):
        if _values_call_on_runs(node) and _names_status(node):
            return "UPDATE/INSERT of runs that sets status"
        if isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
            return "setattr(…, 'status', …)"
        if not (isinstance(node.func, ast.Attribute) and node.func.attr in ("filter_by", "where", "filter")):
            for keyword in node.keywords:
                if keyword.arg == "status" and "RunStatus." in ast.unparse(keyword.value):
                    return f"status={ast.unparse(keyword.value)}"
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value == "status" and "RunStatus." in ast.unparse(value):
                return f'"status": {ast.unparse(value)}'
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_TEXT.search(node.value):
        return "SQL text that writes runs"
    return None


def status_writes(source: str) -> list[tuple[int, str]]:
    """Return (line, what) for every write of a run's status in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        what = _violation(node)
        if what:
            found.append((getattr(node, "lineno", 0), what))
    return sorted(found)


def test_no_module_but_the_lifecycle_writes_a_runs_status():
    offenders = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path != OWNER:
            found = status_writes(path.read_text(encoding="utf-8"))
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, f"only app/services/runs/lifecycle.py may change a run's status: {offenders}"


def test_the_lifecycle_module_holds_the_transitions():
    found = status_writes(OWNER.read_text(encoding="utf-8"))
    assert len(found) >= 8, found  # queued, running, waiting, discarded, canceled (×2), final, requeued...


def test_the_scan_catches_every_form_of_writing_a_status():
    samples = {
        "run.status = RunStatus.CANCELED": 1,
        "run.status = new_status": 1,
        "setattr(run, 'status', value)": 1,
        "db.session.execute(update(Run).where(Run.id == x).values(status=RunStatus.QUEUED))": 1,
        "update(Run).where(Run.id == x).values(**values)": 1,
        "Run.__table__.update().values({'status': s})": 1,
        "RUNS.update().where(a).values(status=bindparam('s'))": 1,
        "insert(Run.__table__).values(status=s)": 1,
        "values.update(status=RunStatus.DISCARDED)": 1,
        "row = {'id': 1, 'status': RunStatus.QUEUED}": 1,
        "db.session.execute(text('UPDATE runs SET status = :s'))": 1,
    }
    for source, count in samples.items():
        assert len(status_writes(source)) == count, source


def test_the_scan_ignores_reads_and_other_statuses():
    for source in [
        "select(Run).where(Run.status == RunStatus.QUEUED)",
        "db.select(Run).filter_by(status=RunStatus.QUEUED)",
        "trigger.status = TriggerStatus.ACTIVE",
        "step.status = StepStatus(status)",
        "self.status = status",
        "update(Run).where(Run.id == x).values(cancel_requested=True)",
        "NotClaimed(RunStatus.DISCARDED)",
        "jsonify(body), 409",
    ]:
        assert status_writes(source) == [], source


def test_the_app_stores_the_engines_statuses_without_translating_them():
    from datetime import datetime, timezone

    import flows
    from app.models import RunStatus, StepStatus
    from app.services.runs.lifecycle import outcome_values

    assert StepStatus is flows.StepStatus
    now = datetime.now(timezone.utc)
    for status in flows.OutcomeStatus:
        if status is not flows.OutcomeStatus.WAITING:  # a parked run is not finished
            values = outcome_values(flows.RunOutcome(status, None, None, None, 0), now)
            assert values["status"] is RunStatus(status.value) and values["status"].is_final
