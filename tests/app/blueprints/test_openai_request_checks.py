"""What /v1/chat/completions refuses before any run starts, in OpenAI's error shape, naming what to fix.

OpenAI's API refuses a parameter of the wrong type (`n: true`, `metadata: []`) and so must we: a
client that sends one has a bug it should hear about. The conversation id (`user` or the
X-Session-Id header) is a 255-character key: a longer header was stored whole (PostgreSQL would
refuse it with a 500).
"""

from __future__ import annotations

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, run_rows

MODEL = "checks-model"


@pytest.fixture
def model(client, api_key):
    document = echo_flow(key=MODEL)
    document["nodes"][0] = {"id": "api", "type": "openai_trigger", "config": {"key": MODEL},
                            "position": {"x": 0, "y": 0}}
    response = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key))
    assert response.status_code == 201, response.json


def _chat(client, api_key, headers: dict | None = None, **fields):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **fields}
    return client.post("/v1/chat/completions", json=body, headers={**bearer(api_key), **(headers or {})})


def _assert_refused(response, param, words: str) -> None:
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert error["param"] == param and words in error["message"], error


def test_an_x_session_id_that_is_empty_or_over_255_characters_is_400(client, app, api_key, model):
    for session in ("s" * 8000, "s" * 256, "", "   "):
        refused = _chat(client, api_key, headers={"X-Session-Id": session})
        _assert_refused(refused, None, "X-Session-Id header must be 1 to 255 characters")
    assert run_rows(app) == []


def test_an_idempotency_key_that_is_empty_or_over_255_characters_is_400(client, app, api_key, model):
    for key in ("", "   ", "k" * 256):
        refused = _chat(client, api_key, headers={"Idempotency-Key": key})
        _assert_refused(refused, None, "The Idempotency-Key header must be 1 to 255 characters.")
    assert run_rows(app) == []


def test_an_x_session_id_of_255_characters_is_the_runs_conversation(client, app, api_key, model):
    session = "s" * 255
    first = _chat(client, api_key, headers={"X-Session-Id": session})
    again = _chat(client, api_key, headers={"X-Session-Id": f"  {session} "})
    assert first.status_code == again.status_code == 200, (first.json, again.json)
    runs = [client.get(f"/api/v1/runs/{row.id}", headers=bearer(api_key)).json for row in run_rows(app)]
    assert len(runs) == 2 and runs[0]["conversation_id"] == runs[1]["conversation_id"]
    assert {run["session_id"] for run in runs} == {session}


WRONG_TYPES = {
    "n": [({"n": value}, "n") for value in (True, False, 1.0, "1", 2, 0, [1])],
    "metadata": [({"metadata": value}, "metadata") for value in (0, "", [], "x", 5, True, False, [{"a": 1}])],
    "stream_options": [({"stream_options": value}, "stream_options") for value in (0, "", [], True, "include_usage")]
    + [({"stream": True, "stream_options": {"include_usage": value}}, "stream_options.include_usage")
       for value in ("yes", 1, 0, [], {})],
    "stream": [({"stream": 0}, "stream"), ({"stream": "true"}, "stream")],
}


@pytest.mark.parametrize("name", WRONG_TYPES)
def test_a_parameter_of_the_wrong_type_is_400_naming_it(client, app, api_key, model, name):
    for fields, param in WRONG_TYPES[name]:
        _assert_refused(_chat(client, api_key, **fields), param, "")
    assert run_rows(app) == []


def test_the_same_parameters_with_their_types_or_null_are_accepted(client, api_key, model):
    for fields in ({"n": 1}, {"n": None}, {"metadata": None}, {"metadata": {}}, {"stream_options": None},
                   {"stream_options": {}}, {"stream_options": {"include_usage": False}},
                   {"stream_options": {"include_usage": None}}, {"stream": None}):
        answer = _chat(client, api_key, **fields)
        assert answer.status_code == 200, (fields, answer.json)
        assert answer.json["choices"][0]["message"]["content"] == "hi"
