"""Accept one trigger request, from the REST hook or the trigger invoke API: limit, parse, start.

Each is one call for its view, which only finds the trigger and checks the caller. The order is
the contract: the rate limit first (the cheapest refusal), then the body and its contract fields
(`start_request`), then `run_start.start`, which writes everything or nothing. So a request that
is refused for any reason leaves no idempotency key, session or run behind.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Flow, Trigger
from app.services.triggers import rate_limit
from app.services.runs.replay import safe_headers
from app.services.runs.run_start import DuplicateBody, Started, start
from app.services.runs.start_request import body_hash, for_trigger_body
from app.json_body import parse_json_object
from app.trigger_types import registry as trigger_types


def accept_hook(flow: Flow, trigger: Trigger, raw_body: bytes, *, headers, message_id: str | None,
                request_id: str) -> Started:
    """Start the run a call to the trigger's URL asks for (or return the earlier one).

    A signed request's webhook-id is the sender's own idempotency key (Standard Webhooks). The
    request's headers (secrets masked) and body are kept with the run. Raises RateLimited (429),
    BodyError (400), NotPublished (409) and what `run_start.start` raises.
    """
    rate_limit.check(trigger.id, int(trigger.config.get("rate_limit_per_minute") or 0))
    body = parse_json_object(raw_body)
    # `is None`, not `or`: an empty Idempotency-Key header is a mistake to refuse (400), as the
    # other doors do; `or` read it as "no header" and started a new run on every retry.
    key_header = headers.get("Idempotency-Key")
    request = for_trigger_body(flow, trigger, body, source="api", request_id=request_id,
                               idempotency_header=key_header if key_header is not None else message_id,
                               headers=safe_headers(headers), keep_body=True)
    return start(request)


def accept_invoke(trigger: Trigger, body: dict, *, idempotency_header: str | None, request_id: str) -> Started:
    """Start a run from the invoke API, as if `body` had been sent to the trigger (for testing).

    A trigger type that keeps conversations (its adapter says so) opens or continues a session.
    """
    flow = db.session.get(Flow, trigger.flow_id)
    request = for_trigger_body(flow, trigger, body, source="invoke", request_id=request_id,
                               idempotency_header=idempotency_header, with_session=trigger_types.of(trigger).keeps_sessions)
    return start(request)


__all__ = ["DuplicateBody", "Started", "accept_hook", "accept_invoke", "body_hash"]
