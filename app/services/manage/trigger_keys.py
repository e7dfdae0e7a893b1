"""Give a copied document's keyed triggers keys nobody in the workspace uses yet.

Why: a trigger key is the last part of a URL (or a model name) other systems call, unique in the
workspace. A duplicate or an imported copy that kept the original's keys would either be refused
(the key is taken) or, worse, be mistaken for the original by whoever calls it. So each taken key
becomes `<key>-copy`, `<key>-copy-2`, … (at most 64 characters, like every key).
"""

from __future__ import annotations

from app.extensions import db
from app.models import Trigger
from app.trigger_types import registry as trigger_types

MAX_KEY = 64


def _taken(workspace_id: str, stems: set[str]) -> set[str]:
    """Every key in the workspace that starts like one of `stems` (lower case)."""
    if not stems:
        return set()
    conditions = [Trigger.key_lower.like(stem.replace("_", r"\_") + "%", escape="\\") for stem in stems]
    rows = db.session.execute(db.select(Trigger.key_lower).where(
        Trigger.workspace_id == workspace_id, db.or_(*conditions))).scalars()
    return set(rows)


def _keyed_nodes(document: dict) -> list[dict]:
    found = []
    for node in document.get("nodes") or []:
        adapter = trigger_types.get(node.get("type")) if isinstance(node, dict) else None
        config = node.get("config") if adapter is not None and adapter.keyed else None
        if isinstance(config, dict) and isinstance(config.get("key"), str) and config["key"]:
            found.append(node)
    return found


def _fresh(key: str, taken: set[str]) -> str:
    for number in range(1, 10_000):
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = key[:MAX_KEY - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
    raise RuntimeError("no free trigger key")  # 10,000 copies of one key: never in practice


def free_keys(document: dict, workspace_id: str, always: bool = False) -> dict[str, str]:
    """Re-key (in place) the document's keyed triggers whose key is taken (every one when `always`).

    Returns {node id: new key}, so the caller can tell people which URLs changed.
    """
    nodes = _keyed_nodes(document)
    stems = {node["config"]["key"].lower()[:MAX_KEY - 8] for node in nodes}
    taken = _taken(workspace_id, stems)
    changed: dict[str, str] = {}
    for node in nodes:
        key = node["config"]["key"]
        if always or key.lower() in taken:
            node["config"]["key"] = _fresh(key, taken)
            changed[node["id"]] = node["config"]["key"]
        taken.add(node["config"]["key"].lower())
    return changed
