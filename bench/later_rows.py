"""The rows later issues added to `make bench`: streaming first token, schedule lag, canvas load.

Why here and not in the standalone scripts: `stack_bench` measures them on the stack it has
already started for the REST rows (no second start-up, same processes), so each function takes
that stack and its in-process `BenchApp` and returns values under `report`'s row keys (ms,
one entry per round, or one entry for a single window). The standalone scripts
(`openai_stream.py`, `schedule_lag.py`, `canvas_load.py`) keep their own longer defaults and
tables; the measuring code is theirs.
"""

from __future__ import annotations

import statistics

import canvas_load
import openai_stream
import schedule_lag

SCHEDULE_FLOWS = 10  # the schedules are spread over this many flows, as in schedule_lag.py
SCHEDULE_INTERVAL = 60  # seconds between one schedule's fires, as in schedule_lag.py


def prepare_stream(env: dict) -> None:
    """Before the processes start: let the LLM node reach the stand-in provider on loopback."""
    openai_stream.allow_provider(env)


def seed_stream(data, provider_url: str) -> None:
    """Publish the two models' flows in the bench workspace (its API key calls them)."""
    openai_stream.seed_flows(data, provider_url)


def stream_values(base_url: str, token: str, rounds: int, requests: int) -> dict[str, list[float]]:
    """Per round and model, `requests` streamed chats one at a time; p50/p95 of each round in ms."""
    values: dict[str, list[float]] = {}

    def add(key: str, seconds: float) -> None:
        values.setdefault(key, []).append(seconds * 1000)

    for round_no in range(rounds):
        for model, prefix in (("switchboard-assistant", "stream_assistant"), ("bench-llm", "stream_llm")):
            got = openai_stream.measure(base_url, token, model, requests, non_streamed=False,
                                        warmup=openai_stream.WARMUP_REQUESTS if round_no == 0 else 0)
            add(f"{prefix}_p50", statistics.median(got["first"]))
            add(f"{prefix}_p95", openai_stream.percentile(got["first"], 0.95))
            if prefix == "stream_llm":
                add("stream_llm_done_p50", statistics.median(got["end"]))
    return values


def schedule_values(stack, data, schedules: int, warmup: float, seconds: float) -> dict[str, object]:
    """Publish `schedules` schedule triggers, make sure two workers and the scheduler run, and measure one window.

    Call it last on a stack: the schedules keep firing until the stack stops.
    """
    schedule_lag.seed(data, schedules, min(SCHEDULE_FLOWS, schedules), SCHEDULE_INTERVAL)
    if not stack.workers and not stack.family:  # the backlog rows leave no worker and no scheduler running
        stack.start_family(2)
        stack.wait_workers_listening()
    window = schedule_lag.measure_window(data, warmup, seconds)
    values: dict[str, object] = {"schedule_runs": f"{window['count']} of {window['expected']}"}
    for key, lags in (("fired", window["fired"]), ("started", window["started"])):
        if lags:
            values[f"schedule_{key}_p50"] = [statistics.median(lags)]
            values[f"schedule_{key}_p99"] = [schedule_lag.percentile(lags, 0.99)]
    return values


def canvas_unavailable() -> str | None:
    return canvas_load.unavailable()


def seed_canvas(data, nodes: int) -> str:
    """A user who can log in, and a published flow of `nodes` nodes; returns the flow's id."""
    return canvas_load.seed(data.app, nodes)


def canvas_values(base_url: str, flow_id: str, nodes: int, rounds: int) -> dict[str, list[float]]:
    times = canvas_load.measure(base_url, flow_id, nodes, rounds)
    return {f"canvas_{key}": [seconds * 1000 for seconds in values] for key, values in times.items()}
