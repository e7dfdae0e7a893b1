"""Translate service exceptions into API errors, in one place for every JSON endpoint.

Why context managers: the API and the trigger endpoint call the same services, and a caller
must get the same status code and message for the same failure whichever door they used.
"""

from __future__ import annotations

from contextlib import contextmanager

from app.errors import ApiError
from app.services import publishing
from app.services.invoke import NotPublished
from app.services.runs import QueueUnavailable
from app.services.trigger_body import BodyError


@contextmanager
def publish_errors():
    """400 with every problem for an invalid flow; 409 when someone else published first."""
    try:
        yield
    except publishing.InvalidFlow as exc:
        raise ApiError(400, "invalid_flow", f"The flow was not saved: {len(exc.problems)} problem(s) to fix.",
                       exc.problems) from None
    except publishing.VersionConflict as exc:
        raise ApiError(409, "version_conflict", str(exc), {"latest_version": exc.latest}) from None


@contextmanager
def invoke_errors():
    """400 with the field and reason for bad inputs; 503 with Retry-After when the queue is down."""
    try:
        yield
    except BodyError as exc:
        raise ApiError(400, exc.code, exc.message, exc.details) from None
    except NotPublished:
        raise ApiError(409, "not_published", "This flow has no published version yet; save it first.") from None
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "The run queue is unavailable, so the run was not accepted. "
                       "Retry shortly.", headers={"Retry-After": "5"}) from None
