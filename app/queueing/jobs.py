"""Hand run ids to RQ, and let a waiting web request hear when a run ends.

Why a Redis list per finished run: a REST trigger that waits for the answer blocks on BLPOP
instead of polling the database, so it wakes the moment the worker commits the final status.
The database stays the truth; the list only says "look now", and, when the worker knows it and
it is small, what the run ended with (`outcome`), which spares the waiting request a query.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

from redis.exceptions import RedisError

from app.queueing import outbox, redis_keys
from app.config import settings
from app.queueing.connection import get_redis
from app.queueing.rq_setup import add_like_job, cached_run_queue
from app.queueing.run_events import add_events

log = logging.getLogger(__name__)

JOB_FUNCTION = "app.worker.execution.execute_run"
DONE_TTL_SECONDS = 600
FAILED_JOB_TTL_SECONDS = 24 * 3600  # a job that raised stays in RQ's failed registry this long
# The largest outcome an announcement carries (serialized); a larger one is read from the database.
OUTCOME_LIMIT_BYTES = 64 * 1024
# The final columns an announcement carries, as committed (`app.services.runs.lifecycle.outcome_values`).
OUTCOME_FIELDS = ("status", "output", "error", "error_node_id", "finished_at")


def new_job_id(run_id: str) -> str:
    """Name each enqueue of a run uniquely, so RQ's clean-up of an abandoned job never touches a new one."""
    return f"run-{run_id}-{uuid.uuid4().hex[:8]}"


def get_queue():
    """The current app's run queue (one object per Redis client)."""
    return cached_run_queue()


def enqueue_run(run_id: str, job_id: str, timeout_seconds: int | None = None) -> None:
    """Put the run's id on the queue; the job reloads everything else from the database.

    One round trip of three commands (see `rq_setup.add_like_job`); RQ's `Queue.enqueue` sent two
    round trips for the same. No result is kept (`result_ttl=0`): the run's row is its result.
    """
    queue = get_queue()
    pipe = queue.connection.pipeline(transaction=False)
    add_like_job(pipe, queue, JOB_FUNCTION, (run_id,), job_id=job_id,
                 timeout=(timeout_seconds or settings().job_timeout) + 30, result_ttl=0,
                 failure_ttl=FAILED_JOB_TTL_SECONDS, description=f"run {run_id}")
    pipe.execute()
    log.info("run_id=%s state=enqueued", run_id)


def announce_finished(run_id: str, status: str, events: list[dict] = (), outcome: dict | None = None) -> None:
    """Tell everyone the run ended (after its final status is committed), in one round trip.

    Wakes any request waiting for the run, and ends its live event stream with `events` (the
    ones the worker held back) and `{"type": "end", "status"}`, so followers (e.g. a streaming
    chat answer) get everything and stop. `outcome`, the final columns exactly as just committed
    (`OUTCOME_FIELDS`), goes with the wake-up when it serializes within `OUTCOME_LIMIT_BYTES`;
    pass it only when those are the row's values, since waiters answer from it without a query.
    """
    key = redis_keys.run_done(run_id)
    try:
        pipe, send_now = outbox.pipeline(get_redis())  # inside a worker: with its next round trip
        pipe.rpush(key, _done_message(status, outcome))
        pipe.expire(key, DONE_TTL_SECONDS)
        add_events(pipe, run_id, [*events, {"type": "end", "status": status}])
        if send_now:
            pipe.execute()
    except RedisError as exc:  # the status is committed; a waiting request falls back to 408 + status URL
        log.warning("run_id=%s could not announce status=%s: %s", run_id, status, exc)


def _done_message(status: str, outcome: dict | None) -> str:
    """The bare status (what waiters need at least), or a JSON object with the whole outcome."""
    if outcome is None:
        return status
    try:
        finished_at = outcome["finished_at"]
        text = json.dumps({"status": status, "output": outcome["output"], "error": outcome["error"],
                           "error_node_id": outcome["error_node_id"],
                           "finished_at": finished_at.isoformat() if finished_at is not None else None},
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (KeyError, TypeError, ValueError, AttributeError):  # not JSON as the column keeps it: waiters read the row
        return status
    return text if len(text) <= OUTCOME_LIMIT_BYTES // 4 or len(text.encode()) <= OUTCOME_LIMIT_BYTES else status


def wait_finished(run_id: str, timeout: float) -> dict | None:
    """Block up to `timeout` seconds for the run to end; its announcement when it did, else None.

    The announcement is a dict: every one of `OUTCOME_FIELDS` (`finished_at` an aware datetime)
    when the worker sent the outcome, else only the status (or nothing, if unreadable). It
    is rotated (moved from the list's head to its tail), not popped, so every request waiting
    for the same run wakes, e.g. a retry with the same idempotency key, and one that starts
    waiting after the run ended returns at once.
    """
    if timeout <= 0:
        return None
    key = redis_keys.run_done(run_id)
    message = get_redis().blmove(key, key, timeout, "LEFT", "RIGHT")
    return None if message is None else _parse_done(message)


def _parse_done(message: bytes | str) -> dict:
    """Read an announcement: the outcome when it is complete and well formed, else only what is sure."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    if not text.startswith("{"):
        return {"status": text}
    try:
        found = json.loads(text)
        if not isinstance(found, dict) or set(found) != set(OUTCOME_FIELDS) or any(
                found[name] is not None and not isinstance(found[name], str) for name in OUTCOME_FIELDS[2:]) \
                or not isinstance(found["status"], str):
            return {}
        if found["finished_at"] is not None:
            found["finished_at"] = datetime.fromisoformat(found["finished_at"])
            if found["finished_at"].tzinfo is None:
                return {}
    except ValueError:  # not JSON, or not an ISO time: the caller reads the row
        return {}
    return found
