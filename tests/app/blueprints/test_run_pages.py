"""The run, runs-list, conversation and overview pages, through the real app and worker."""

from __future__ import annotations

import re

import pytest

from tests.app.flowdocs import greeting_flow
from tests.app.runsetup import Flows, ago, attach, conversation_of, expire_session, stranger_flows
from tests.conftest import csrf_from, wait_for


@pytest.fixture
def flows_api(client, api_key):
    return Flows(client, api_key)


def test_runs_page_finds_a_request_by_out_id_and_explains_a_bad_filter(app, client, auth, api_key, flows_api):
    flow = flows_api.publish()
    wanted = flows_api.call(flow, "where is my order", outId="crm-1002")["run_id"]
    other = flows_api.call(flow, "something else")["run_id"]

    everything = client.get("/runs").get_data(as_text=True)
    assert wanted[:8] in everything and other[:8] in everything
    found = client.get("/runs?out_id=crm-1002").get_data(as_text=True)
    assert wanted[:8] in found and other[:8] not in found
    assert "crm-1002" in found
    per_flow = client.get(f"/flows/{flow['id']}/runs?status=failed").get_data(as_text=True)
    assert "No runs match these filters." in per_flow

    bad = client.get("/runs?since=10 o'clock")
    assert bad.status_code == 400
    assert "since must be a date and time like" in bad.get_data(as_text=True)


def test_runs_list_polls_only_while_a_run_on_it_can_change(app, client, auth, flows_api, stack):
    flow = flows_api.publish(greeting_flow(wait_for_response=False))
    stack.stop_worker()
    try:
        run_id = flows_api.call(flow, "wait for me")["run_id"]
        live = client.get("/runs", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'hx-trigger="every 2s"' in live and 'data-run-status="queued"' in live
    finally:
        stack.start_worker()
    wait_for(lambda: 'data-run-status="succeeded"' in client.get("/runs", headers={"HX-Request": "true"}).get_data(as_text=True))
    settled = client.get("/runs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert run_id[:8] in settled and "hx-trigger" not in settled


def test_run_page_draws_a_timeline_per_attempt_and_shows_the_request_without_secrets(app, client, auth, flows_api):
    from app.extensions import db
    from app.models import RunStep, StepStatus

    flow = flows_api.publish()
    run_id = flows_api.call(flow, "hello", headers={"X-Caller": "crm-east"})["run_id"]
    # Fixture setup: a retried step (as after a worker crash) is an extra attempt row for the same seq.
    with app.app_context():
        first = db.session.execute(db.select(RunStep).where(RunStep.run_id == run_id, RunStep.node_id == "greet")).scalar_one()
        db.session.add(RunStep(run_id=run_id, seq=first.seq, attempt=2, node_id="greet", node_type="template",
                               status=StepStatus.FAILED, error="worker lost", input={}, started_at=first.started_at,
                               finished_at=first.finished_at))
        first.attempt = 3
        db.session.commit()
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)

    bars = re.findall(r'class="tl-bar [^"]*" data-node="([^"]+)" data-attempt="(\d+)"\s+data-left="([\d.]+)" data-width="([\d.]+)"', page)
    assert [(node, attempt) for node, attempt, _, _ in bars] == [
        ("api", "1"), ("start", "1"), ("greet", "2"), ("greet", "3"), ("route", "1"), ("reply", "1")]
    for _, _, left, width in bars:
        assert 0 <= float(left) and float(left) + float(width) <= 100.01
    assert float(bars[-1][2]) >= float(bars[0][2])  # later steps sit further right
    assert "try 2" in page and "worker lost" in page
    request_section = page[page.index("Trigger request"):]
    assert "crm-east" in request_section
    assert flow["secret"] not in page and "[redacted]" in request_section
    assert '"user_message": "hello"' in request_section
    # The run's moments and when its request arrived (stored as ISO text) are written alike.
    for label in ("Created", "Started", "Finished", "Received"):
        shown = re.search(rf"<dt>{label}</dt><dd>([^<]+)</dd>", page).group(1)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", shown), (label, shown)


def test_run_page_names_steps_as_the_canvas_does_and_reads_values_as_names_and_values(app, client, auth, flows_api):
    flow = flows_api.publish()
    run_id = flows_api.call(flow, "hello <b>there</b>")["run_id"]
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    nodes = re.findall(r'<tr class="step-\w+" data-step="[\d.]+" data-step-node="([^"]+)">\s*<td>.*?</td>\s*<td class="long">([^<]*)</td>',
                       page, re.S)
    assert nodes == [("api", "REST"), ("start", "Start"), ("greet", "Compose"), ("route", "Status?"), ("reply", "Answer")]
    assert "the node's id" not in page
    titles = re.findall(r'class="tl-bar [^"]*" data-node="[^"]+"[^>]*title="([^"]+)"', page, re.S)
    assert titles[2].startswith("Compose: Succeeded, ") and "succeeded" not in " ".join(titles)
    inputs = page[page.index('id="run-inputs"'):page.index("<h2>Answer")]
    assert '<dt>message</dt><dd><span class="rv-text">hello &lt;b&gt;there&lt;/b&gt;</span></dd>' in inputs
    assert "<dt>count</dt><dd><span class=\"rv-number\">1</span></dd>" in inputs
    assert "Show as JSON" in inputs and '"message": "hello \\u003cb\\u003ethere' in inputs  # the exact JSON, folded
    greet = page[page.index('data-step-node="greet"'):page.index('data-step-node="route"')]
    assert "Settings used" in greet and 'title="template">Template</dt>' in greet  # the form's words for the settings
    assert 'title="on_error">When it fails</dt><dd><span class="rv-text">Stop the run</span>' in greet
    start = page[page.index('data-step-node="start"'):page.index('data-step-node="greet"')]
    assert "What the caller sent" in start and "<dt>message</dt>" in start
    body = page[page.index('id="trigger-body"'):]
    assert '<dt>user_message</dt><dd><span class="rv-text">hello &lt;b&gt;there&lt;/b&gt;</span></dd>' in body


def test_run_page_stays_bounded_and_readable_with_hostile_stored_values(app, client, auth, flows_api, stack):
    """Deep, wide, huge and odd values (as an HTTP step may record) never break the page: the
    readable view stops with "… N more", and the JSON (as large as what was stored) is folded.

    A lone surrogate only SQLite can keep (rows written before the engine made text storable);
    PostgreSQL refuses it, so its variant stores the replacement character the engine writes.
    """
    import json
    import time

    from app.extensions import db
    from app.models import Run, RunStep

    flow = flows_api.publish()
    run_id = flows_api.call(flow, "hello")["run_id"]
    deep: object = "bottom"
    for _ in range(400):
        deep = {"a": [deep]}
    hostile = {"deep": deep, "wide": {f"k{i}": i for i in range(20_000)}, "huge": 10 ** 60,
               "bad": "x\ud800y" if stack.name == "sqlite" else "x\ufffdy",
               "long": "z" * 200_000, "list": list(range(20_000)), "html": "<script>alert(1)</script>"}
    with app.app_context():
        step = db.session.execute(db.select(RunStep).where(RunStep.run_id == run_id, RunStep.node_id == "greet")).scalar_one()
        step.output = hostile
        db.session.get(Run, run_id).output = hostile
        db.session.commit()
    started = time.monotonic()
    response = client.get(f"/runs/{run_id}")
    assert response.status_code == 200 and time.monotonic() - started < 10
    page = response.get_data(as_text=True)
    stored = len(json.dumps(hostile, indent=2))
    assert len(page) < 2 * stored + 200_000  # the folded JSON twice (step and answer), the rest bounded
    answer = page[page.index('id="run-answer"'):page.index("Show as JSON", page.index('id="run-answer"'))]
    assert len(answer) < 60_000
    assert "… 19970 more fields" in answer and "… 19970 more items" in answer and "… 198000 more characters" in answer
    assert "(see the JSON)" in answer and "1000000000000000000000000000000000000000…" in answer
    assert "x\ufffdy" in answer and "<script>" not in page.split("</main>")[0].split("<main")[1]


def test_cancel_and_replay_from_the_run_page(app, client, auth, flows_api, stack):
    flow = flows_api.publish(greeting_flow(wait_for_response=False))
    stack.stop_worker()
    try:
        run_id = flows_api.call(flow, "never mind")["run_id"]
        page = client.get(f"/runs/{run_id}").get_data(as_text=True)
        assert "Cancel run" in page
        response = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
        assert 'data-run-status="canceled"' in response.get_data(as_text=True)
    finally:
        stack.start_worker()
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Cancel run" not in page
    response = client.post(f"/runs/{run_id}/replay", data={"csrf_token": csrf_from(page)})
    new_path = response.headers["Location"]
    assert new_path.startswith("/runs/") and run_id not in new_path
    wait_for(lambda: 'data-run-status="succeeded"' in client.get(new_path).get_data(as_text=True))
    replayed = client.get(new_path).get_data(as_text=True)
    assert "Hello friend x1: never mind" in replayed and run_id[:8] in replayed  # "Replay of" links back


def test_conversation_page_shows_the_messages_and_the_runs_behind_them(app, client, auth, flows_api):
    flow = flows_api.publish()
    contact = {"name": "Ada", "email": "ada@example.com"}
    turns = [flows_api.call(flow, text, sessionId="chat-ada", contact=contact)["run_id"]
             for text in ("hi, I am Ada", "what is the status?")]
    live = conversation_of(app, turns[0])
    old_run = flows_api.call(flow, "old question", sessionId="chat-bob")["run_id"]
    expired = conversation_of(app, old_run)
    expire_session(app, expired)  # time travel: its session duration has passed

    listing = client.get("/conversations").get_data(as_text=True)
    assert "chat-ada" in listing and "chat-bob" in listing
    row = lambda key: listing[listing.index(key):].split("</tr>")[0]  # noqa: E731
    assert "active" in row("chat-ada") and "expired" in row("chat-bob")
    assert "Ada · ada@example.com" in row("chat-ada")
    assert "chat-bob" not in client.get("/conversations?q=ada@").get_data(as_text=True)

    page = client.get(f"/conversations/{live}").get_data(as_text=True)
    messages = re.findall(r'class="msg msg-(user|flow)"><span class="who">\w+</span>([^<]*)</div>', page)
    assert messages == [("user", "hi, I am Ada"), ("flow", "Hello friend x1: hi, I am Ada"),
                        ("user", "what is the status?"),
                        ("flow", "All systems operational. (Hello friend x1: what is the status?)")]
    assert all(f"/runs/{run_id}" in page for run_id in turns)
    assert 'data-session-state="active"' in page
    assert 'data-session-state="expired"' in client.get(f"/conversations/{expired}").get_data(as_text=True)
    session_runs = client.get(f"/runs?conversation={live}").get_data(as_text=True)
    assert turns[0][:8] in session_runs and old_run[:8] not in session_runs


def test_overview_charts_runs_per_hour_and_durations(app, client, auth, flows_api):
    flow = flows_api.publish()
    runs = [flows_api.call(flow, f"m{i}")["run_id"] for i in range(3)]
    attach(app, runs[0], created_at=ago(hours=5))
    attach(app, runs[1], created_at=ago(hours=30))  # outside the last 24 h
    fragment = client.get(f"/flows/{flow['id']}/overview").get_data(as_text=True)
    assert "<strong>2</strong> runs" in fragment
    bars = re.findall(r'<rect class="bar" data-status="(\w+)"[^>]*><title>([^<]+)</title>', fragment)
    assert [status for status, _ in bars] == ["succeeded", "succeeded"]
    assert all(title.endswith("1 succeeded") for _, title in bars)
    assert 'data-stat="median"' in fragment and 'data-stat="p95"' in fragment
    assert fragment.count('class="point"') == 4  # median and p95 for each of the two hours
    assert f"/flows/{flow['id']}/overview" in client.get(f"/flows/{flow['id']}").get_data(as_text=True)


def test_other_workspaces_runs_and_conversations_are_not_found(app, client, auth, make_account):
    theirs = stranger_flows(app, client, make_account)
    flow = theirs.publish()
    run_id = theirs.call(flow, "private", sessionId="their-chat")["run_id"]
    conversation = conversation_of(app, run_id)
    assert client.get(f"/runs/{run_id}").status_code == 404
    assert client.get(f"/conversations/{conversation}").status_code == 404
    assert run_id[:8] not in client.get("/runs").get_data(as_text=True)
    assert "their-chat" not in client.get("/conversations").get_data(as_text=True)
    token = csrf_from(client.get("/runs").get_data(as_text=True))
    assert client.post(f"/runs/{run_id}/replay", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/runs/{run_id}/cancel", data={"csrf_token": token}).status_code == 404


def test_a_flow_without_runs_says_so_rather_than_blaming_filters(client, auth, flows_api):
    flow = flows_api.publish()
    assert "No runs yet." in client.get(f"/flows/{flow['id']}/runs").get_data(as_text=True)
    assert "No runs yet." in client.get("/runs").get_data(as_text=True)
    assert "No runs match these filters." in client.get(f"/flows/{flow['id']}/runs?version=3").get_data(as_text=True)
