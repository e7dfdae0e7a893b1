"""Hand the engine, in one object, everything a run may use but must not fetch itself.

Why one object: the runner and each node step need the same services (credentials, operator
settings, live events, the clock), and passing them as a dozen keyword arguments, then as a
string-keyed dict, let a misspelt key fail only at run time. The app builds one per run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flows.nodes import NodeRegistry
from flows.status import OutcomeStatus

Stop = tuple[OutcomeStatus, str]  # how and why to stop a run between steps (cancel, time limit)


def _ignore(event: dict) -> None:
    return None


def _never() -> Stop | None:
    return None


@dataclass(frozen=True)
class RunEnvironment:
    """What one run of the engine may use: services, operator settings and limits.

    `credentials` resolves a credential name for nodes that need one (None: no credentials);
    `settings` are operator settings for nodes (e.g. ``http_allowed_networks``); `emit` receives
    partial results nodes publish (LLM tokens, replies); `interrupt`, asked before each step,
    may return a `Stop`; `clock` and `sleep` serve delays and retry back-off; `registry`
    defaults to the engine's node types. A step left in flight by a stopped worker is retried
    until it has had `max_attempts` attempts.
    """

    credentials: Callable[[str], dict | None] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    emit: Callable[[dict], None] = _ignore
    interrupt: Callable[[], Stop | None] = _never
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    registry: NodeRegistry | None = None
    max_steps: int = 1000
    max_attempts: int = 3
