"""The OpenAI-compatible API, driven by the official `openai` SDK against a real server and worker.

The flows are the shipped example (answers without any provider) and one whose LLM node talks
to a stand-in OpenAI-compatible provider on loopback, to show real token streaming end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, run_rows

EXAMPLE = Path(__file__).resolve().parents[3] / "flows" / "examples" / "openai_assistant.json"
MODEL = "switchboard-assistant"


def _publish(client, api_key, document) -> dict:
    response = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key))
    assert response.status_code == 201, response.json
    return response.json


def _example() -> dict:
    return json.loads(EXAMPLE.read_text())


def _openai_flow(key: str, reply: str = "{{ inputs.message }}", **config) -> dict:
    document = echo_flow(key=key, reply=reply)
    document["nodes"][0] = {"id": "api", "type": "openai_trigger", "config": {"key": key, **config},
                            "position": {"x": 0, "y": 0}}
    return document


def _llm_flow(key: str, provider_url: str, **llm_config) -> dict:
    """A model whose LLM node streams from the stand-in provider and whose reply is the LLM's text."""
    document = _openai_flow(key, reply="{{ nodes.llm.text }}")
    document["nodes"].insert(2, {"id": "llm", "type": "llm", "position": {"x": 300, "y": 0}, "config": {
        "base_url": provider_url + "/v1", "stream": True, "messages": [{"role": "user", "content": "{{ inputs.message }}"}],
        **llm_config}})
    document["edges"] = [
        {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
        {"id": "e2", "source": "start", "source_port": "out", "target": "llm", "target_port": "in"},
        {"id": "e3", "source": "llm", "source_port": "out", "target": "reply", "target_port": "in"},
    ]
    return document


@pytest.fixture
def sdk(live_server, api_key):
    def make(key: str = api_key, **options) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{live_server}/v1", api_key=key, timeout=30, **options)
    return make


def test_models_lists_the_flows_the_key_may_call_and_fetches_one(client, api_key, sdk):
    example = _publish(client, api_key, _example())
    other = _publish(client, api_key, _openai_flow("other-model"))
    _publish(client, api_key, echo_flow(key="rest-only"))  # a REST trigger is not a model
    assert sorted(m.id for m in sdk().models.list()) == ["other-model", MODEL]
    model = sdk().models.retrieve(MODEL)
    assert model.id == MODEL and model.object == "model" and model.owned_by == "switchboard"
    trigger = next(t for t in example["triggers"] if t["type"] == "openai_trigger")
    assert trigger["model"] == MODEL and trigger["base_url"].endswith("/v1")

    limited = client.post("/api/v1/api-keys", json={"name": "one flow", "scopes": ["runs:trigger"],
                                                    "flow_ids": [other["id"]]}, headers=bearer(api_key)).json["token"]
    assert [m.id for m in sdk(limited).models.list()] == ["other-model"]
    with pytest.raises(openai.NotFoundError) as missing:
        sdk(limited).models.retrieve(MODEL)
    assert missing.value.code == "model_not_found"


def test_a_completion_answers_with_the_flows_reply_and_usage(client, api_key, sdk, app):
    _publish(client, api_key, _example())
    answer = sdk().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is the status?"}])
    assert answer.object == "chat.completion" and answer.model == MODEL
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content.startswith("All demo services are operational")
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.completion_tokens > 0 and answer.usage.total_tokens == (
        answer.usage.prompt_tokens + answer.usage.completion_tokens)
    (run,) = run_rows(app)
    assert answer.id == f"chatcmpl-{run.id}" and run.trigger_type == "openai_trigger"


def test_a_streamed_completion_ends_with_stop_and_usage(client, api_key, sdk):
    _publish(client, api_key, _example())
    stream = sdk().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello there"}],
                                           stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello! I am the Switchboard demo assistant")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


def test_a_conversation_continues_through_one_session(client, api_key, sdk, app):
    _publish(client, api_key, _example())
    history = [{"role": "user", "content": "My name is Ada"}]
    first = sdk().chat.completions.create(model=MODEL, messages=history, user="ada")
    assert "first message of our conversation" in first.choices[0].message.content
    history += [{"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": "Remember me?"}]
    second = sdk().chat.completions.create(model=MODEL, messages=history, user="ada")
    assert 'Earlier in this conversation you said: "My name is Ada"' in second.choices[0].message.content
    runs = run_rows(app)
    assert len(runs) == 2 and runs[0].session_id == runs[1].session_id is not None


def test_llm_node_tokens_stream_through_the_endpoint(client, api_key, sdk):
    from tests.stubs import provider

    with provider() as stand_in:
        _publish(client, api_key, _llm_flow("llm-chat", stand_in.url, model="echo"))
        messages = [{"role": "user", "content": "tell me about streams please"}]
        chunks = [c for c in sdk().chat.completions.create(model="llm-chat", messages=messages, stream=True)
                  if c.choices and c.choices[0].delta.content]
        whole = sdk().chat.completions.create(model="llm-chat", messages=messages)
    assert len(chunks) > 1
    assert "".join(c.choices[0].delta.content for c in chunks) == whole.choices[0].message.content
    assert "tell me about streams please" in whole.choices[0].message.content
    assert whole.usage.total_tokens > 0


def test_a_streamed_answer_never_shows_the_credential_the_model_repeats(client, api_key, sdk):
    """A provider that echoes the key (as debugging proxies do) splits it over pieces; the client sees it masked."""
    from tests.stubs import provider

    secret = "sk-live-4f9a1c2e7b"
    created = client.post("/api/v1/credentials", json={"name": "provider", "kind": "api_key", "value": secret},
                          headers=bearer(api_key))
    assert created.status_code == 201, created.json
    with provider() as stand_in:
        _publish(client, api_key, _llm_flow("echoing-model", stand_in.url, model="repeat-key", credential="provider"))
        messages = [{"role": "user", "content": "what is my key?"}]
        pieces = [c.choices[0].delta.content for c in
                  sdk().chat.completions.create(model="echoing-model", messages=messages, stream=True)
                  if c.choices and c.choices[0].delta.content]
        whole = sdk().chat.completions.create(model="echoing-model", messages=messages).choices[0].message.content
    assert whole == "Your key is [redacted]; sent on, it reads [redacted]. Done."
    assert "".join(pieces) == whole  # masked alike, so the reply repeating the tokens is not sent twice
    assert len(pieces) > 5 and not any(secret[i:i + 3] in piece for piece in pieces for i in range(len(secret) - 2))


def test_a_wrong_key_is_invalid_api_key(client, api_key, sdk):
    _publish(client, api_key, _example())
    with pytest.raises(openai.AuthenticationError) as error:
        sdk("sbk_not-a-key", max_retries=0).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert error.value.status_code == 401 and error.value.code == "invalid_api_key"


def test_an_unknown_model_is_model_not_found_with_param_model(client, api_key, sdk):
    with pytest.raises(openai.NotFoundError) as error:
        sdk().chat.completions.create(model="no-such-flow", messages=[{"role": "user", "content": "hi"}])
    assert error.value.code == "model_not_found" and error.value.param == "model"


@pytest.mark.parametrize("kwargs, param", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "assistant", "content": "I start"}]}, "messages"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content[0]"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": 5}, "temperature"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
])
def test_bad_requests_are_400_invalid_request_error_naming_the_param(client, api_key, sdk, app, kwargs, param):
    _publish(client, api_key, _example())
    with pytest.raises(openai.BadRequestError) as error:
        sdk().chat.completions.create(model=MODEL, **kwargs)
    assert error.value.status_code == 400 and error.value.param == param
    assert error.value.body["type"] == "invalid_request_error"
    assert run_rows(app) == []


def test_unknown_extra_fields_are_ignored_and_options_reach_the_flow(client, api_key, sdk):
    _publish(client, api_key, _openai_flow("opts", reply="t={{ trigger.openai.temperature }} "
                                                         "sys={{ trigger.openai.system }}"))
    answer = sdk().chat.completions.create(
        model="opts", temperature=0.3, messages=[{"role": "system", "content": "be brief"},
                                                 {"role": "user", "content": "x"}],
        extra_body={"some_vendor_field": {"a": 1}})
    assert answer.choices[0].message.content == "t=0.3 sys=be brief"


def test_over_the_rate_limit_is_429_with_retry_after(client, api_key, sdk):
    _publish(client, api_key, _openai_flow("limited", rate_limit_per_minute=1))
    ask = dict(model="limited", messages=[{"role": "user", "content": "x"}])
    sdk(max_retries=0).chat.completions.create(**ask)
    with pytest.raises(openai.RateLimitError) as error:
        sdk(max_retries=0).chat.completions.create(**ask)
    assert error.value.code == "rate_limit_exceeded" and int(error.value.response.headers["Retry-After"]) >= 1


def test_a_failing_run_is_500_server_error_naming_the_run(client, api_key, sdk, app):
    # Fails only while running (validation refuses a reply naming an undeclared input).
    _publish(client, api_key, _openai_flow("broken", reply="{{ (inputs | length) // 0 }}"))
    with pytest.raises(openai.InternalServerError) as error:
        sdk(max_retries=0).chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    (run,) = run_rows(app)
    assert error.value.code == "server_error" and run.id in error.value.message
    with pytest.raises(openai.APIError) as streamed:
        list(sdk(max_retries=0).chat.completions.create(model="broken", stream=True,
                                                        messages=[{"role": "user", "content": "x"}]))
    assert "failed" in str(streamed.value)


def test_a_retried_request_with_an_idempotency_key_starts_one_run(client, api_key, sdk, app):
    _publish(client, api_key, _example())
    ask = dict(model=MODEL, messages=[{"role": "user", "content": "status?"}],
               extra_headers={"Idempotency-Key": "chat-retry-1"})
    first = sdk().chat.completions.create(**ask)
    again = sdk().chat.completions.create(**ask)
    assert first.id == again.id and first.choices[0].message.content == again.choices[0].message.content
    assert len(run_rows(app)) == 1


def test_errors_under_v1_are_openai_shaped_even_for_unknown_routes(client, api_key):
    response = client.get("/v1/nothing-here", headers=bearer(api_key))
    assert response.status_code == 404
    assert set(response.json["error"]) == {"message", "type", "param", "code"}
    bad_json = client.post("/v1/chat/completions", data=b"{oops", headers={**bearer(api_key),
                                                                          "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json["error"]["type"] == "invalid_request_error"


def test_the_canvas_panel_shows_base_url_model_and_an_sdk_example_that_works(client, auth, api_key, live_server,
                                                                              app):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        flow_id = publishing.create_flow(db.session.get(Workspace, auth.workspace_id), _example(), None).flow.id
        db.session.commit()
    panel = client.get(f"/flows/{flow_id}/triggers/openai/panel").get_data(as_text=True)
    assert "/v1" in panel and f"<code data-trigger-model>{MODEL}</code>" in panel
    snippet = panel.split('data-snippet="python">')[1].split("</pre>")[0]
    import html

    code = html.unescape(snippet).replace("YOUR_SWITCHBOARD_API_KEY", api_key)
    code = code.replace(code.split('base_url="')[1].split('"')[0], f"{live_server}/v1")
    printed: list = []
    exec(compile(code, "snippet", "exec"), {"print": lambda *a, **k: printed.append(a)})  # noqa: S102
    assert printed and "operational" in str(printed[0])
