"""Describe what is wrong with a flow document in a form the editor can show next to a node.

Problems are data, not exceptions: saving a flow must report *every* mistake at once (the
canvas highlights each offending node or edge) instead of stopping at the first one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """Report one thing the author has to fix before the flow can be published.

    `node_id` / `edge_id` let the editor point at the culprit. `path` is relative to that node
    or edge (``config.inputs[0].name``), or to the document when neither id is set.
    """

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None
    # "error" blocks publishing; "warning" is only suspicious (a branch without a reply) and never blocks.
    severity: str = ERROR

    def to_dict(self) -> dict:
        """Return the problem as a JSON-ready dict without the locations that do not apply."""
        return {key: value for key, value in asdict(self).items() if value is not None}


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that block publishing (warnings left out)."""
    return [problem for problem in problems if problem.severity == ERROR]
