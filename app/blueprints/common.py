"""Translate service exceptions into API errors, in one place for every JSON endpoint.

Why context managers: the API and the trigger endpoint call the same services, and a caller
must get the same status code and message for the same failure whichever door they used.
"""

from __future__ import annotations

from contextlib import contextmanager

from app.errors import ApiError
from app.services.runs import idempotency
from app.services.versions import publishing
from app.services.triggers.rate_limit import RateLimited
from app.services.runs.run_start import DuplicateBody
from app.services.runs.records import QueueUnavailable
from app.services.runs.start_request import NotPublished
from app.json_body import BodyError
from app.services.versions.archived import SAVE_MESSAGE, TRIGGER_MESSAGE, FlowArchived


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
    except FlowArchived:
        raise ApiError(409, "flow_archived", SAVE_MESSAGE) from None


@contextmanager
def invoke_errors():
    """Map every way a trigger request can be refused onto its status code and a message that helps.

    400 bad inputs or a dropped event, 409 unpublished / duplicate / still being accepted, 422 an
    idempotency key reused with another body, 429 over the rate limit, 503 queue down.
    """
    try:
        yield
    except BodyError as exc:
        raise ApiError(400, exc.code, exc.message, exc.details) from None
    except RateLimited as exc:
        raise ApiError(429, "rate_limited", f"This trigger's rate limit is reached; retry in {exc.retry_after} s.",
                       headers={"Retry-After": str(exc.retry_after)}) from None
    except idempotency.KeyInFlight:
        raise ApiError(409, "idempotency_key_in_use", "A request with this idempotency key is still being accepted; "
                       "retry in a moment to get its run.", headers={"Retry-After": "1"}) from None
    except idempotency.KeyReused:
        raise ApiError(422, "idempotency_key_reused", "This idempotency key was already used with a different body; "
                       "use a new key for a new request.") from None
    except DuplicateBody as exc:
        raise ApiError(409, "duplicate_body", f"Dropped: this trigger ignores duplicate bodies and the same body "
                       f"already started run {exc.run_id}.", {"run_id": exc.run_id}) from None
    except FlowArchived:
        raise ApiError(404, "flow_archived", TRIGGER_MESSAGE) from None
    except NotPublished:
        raise ApiError(409, "not_published", "This flow has no published version yet; save it first.") from None
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "The run queue is unavailable, so the run was not accepted. "
                       "Retry shortly.", headers={"Retry-After": "5"}) from None
