"""Pages say stored values in words: how a run started, statuses, credential kinds, input types.

The values stay as they are in the database and the API (filters in a page URL still work as an
API query); only what people read changes (issue 17, item 5).
"""

from __future__ import annotations

import re

import flows
from app.models import RunStatus, StepStatus
from app.models.flows import TriggerStatus
from app.words import (STATUS_WORDS, credential_kind_words, input_type_words, moment_words, request_source_words,
                       status_words)
from flows.credentials import KINDS
from flows.inputs import INPUT_TYPES
from tests.app.runsetup import Flows
from tests.conftest import csrf_from

TRIGGER_TYPES = sorted(t.type for t in flows.registry.types() if t.is_trigger)


def test_moments_read_alike_whether_stored_as_datetimes_or_as_iso_text():
    from datetime import datetime, timedelta, timezone

    shown = "2026-12-01 10:53:16.026 UTC"
    assert moment_words(datetime(2026, 12, 1, 10, 53, 16, 26259, tzinfo=timezone.utc)) == shown
    assert moment_words("2026-12-01T10:53:16.026259+00:00") == shown
    assert moment_words("2026-12-01T11:53:16.026259+01:00") == shown  # another offset, the same moment
    assert moment_words(datetime(2026, 12, 1, 4, 53, 16, 26259, tzinfo=timezone(timedelta(hours=-6)))) == shown
    assert moment_words("yesterday\ud800") == "yesterday\ud800" and moment_words(None) == ""  # shown as they are


def _option_texts(html: str, select_name: str) -> list[str]:
    select = html.split(f'name="{select_name}"')[1].split("</select>")[0]
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_every_trigger_type_has_a_display_title_and_runs_name_their_start(app):
    from app.trigger_types import registry

    for adapter in registry.adapters():
        assert adapter.title and "_" not in adapter.title, adapter.type
    sources = dict(registry.run_sources())
    assert set(TRIGGER_TYPES) | {"manual", "test"} == set(sources)
    assert [sources[t] for t in ("api_trigger", "openai_trigger", "schedule_trigger", "manual", "test")] == [
        "REST API", "OpenAI-compatible API", "Schedule", "Run now", "Test run (draft)"]
    assert len(set(sources.values())) == len(sources)  # no two filter options read the same
    assert registry.source_title("replay") == "Replay"  # a value no adapter knows still reads as a word
    assert registry.source_title(None) == ""


def test_every_status_kind_and_input_type_has_words():
    for status in [*RunStatus, *StepStatus, *TriggerStatus]:
        assert status.value in STATUS_WORDS, status
        assert "_" not in status_words(status)
    assert status_words(RunStatus.TIMED_OUT) == "Timed out" and status_words("timed_out") == "Timed out"
    assert [credential_kind_words(k) for k in KINDS] == ["API key", "Bearer token", "Username and password",
                                                         "Custom header"]
    assert [input_type_words(t) for t in INPUT_TYPES] == ["Text", "Number", "Whole number", "Yes/No", "Object", "List"]
    assert credential_kind_words(None) == "None" and input_type_words(7) == "7"  # never raises on odd rows
    assert [request_source_words(s) for s in ("api", "invoke", "openai", "manual", "replay", "schedule", "new_one")] == [
        "REST API call", "Test call from the API", "OpenAI-compatible API", "Run now", "Replay", "Schedule", "New one"]


def test_runs_pages_filter_and_list_in_words(client, auth, api_key):
    flows_api = Flows(client, api_key)
    flow = flows_api.publish()
    flows_api.call(flow, "where is my order", outId="crm-1002")

    html = client.get("/runs").get_data(as_text=True)
    started_by = _option_texts(html, "trigger_type")
    assert started_by[0] == "Anything" and {"REST API", "OpenAI-compatible API", "Schedule", "Run now",
                                           "Test run (draft)"} <= set(started_by)
    assert _option_texts(html, "status")[:3] == ["Any status", "Queued", "Running"]
    assert "Timed out" in _option_texts(html, "status")
    assert _option_texts(html, "trigger") == ["Any trigger", "REST (Greeter)", "Run now (Greeter)"]  # node names
    assert "Caller's reference" in html.replace("&#39;", "'") and ">outId<" not in html
    for name in TRIGGER_TYPES:
        assert f">{name}<" not in html and f"{name}</span>" not in html  # values only, never shown

    per_flow = client.get(f"/flows/{flow['id']}/runs?trigger_type=api_trigger").get_data(as_text=True)
    row = per_flow.split("<tbody>")[1]
    assert "REST API" in row and "crm-1002" in row and "api_trigger" not in row


def test_the_run_page_names_how_it_started_and_its_statuses_in_words(client, auth, api_key):
    flows_api = Flows(client, api_key)
    flow = flows_api.publish()
    run_id = flows_api.call(flow, "hello", outId="crm-7")["run_id"]
    html = client.get(f"/runs/{run_id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Started by</dt><dd>REST API" in html and "Caller's reference" in html
    assert "Source</dt><dd>REST API call" in html
    assert "(api_trigger)" not in html and ">api_trigger<" not in html
    assert ">Succeeded</span>" in html


def test_the_credentials_page_names_kinds_in_words(client, auth):
    page = client.get("/credentials").get_data(as_text=True)
    assert _option_texts(page, "kind") == ["API key", "Bearer token", "Username and password", "Custom header"]
    response = client.post("/credentials", data={
        "csrf_token": csrf_from(page), "action": "create", "name": "crm-login", "kind": "basic",
        "username": "ops", "password": "s3cret-pass"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'data-kind="basic">Username and password</td>' in html
    for kind in KINDS:
        assert f">{kind}<" not in html
