"""The LLM node against a stand-in OpenAI-compatible provider on loopback: streaming or not, history, usage, errors."""

from __future__ import annotations

import pytest

import flows
from tests.flows.documents import chain
from tests.stubs import provider

LOOPBACK = {"http_allowed_networks": ["127.0.0.1/32"]}
SESSION = {"id": "s-1", "history": [
    {"role": "user", "content": "one"}, {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": "two"}, {"role": "assistant", "content": "second answer"},
    {"role": "tool", "content": "ignored: not a chat role"},
]}
KEY = {"openai": {"kind": "api_key", "name": "openai", "value": "sk-test-0123456789"}}


@pytest.fixture(scope="module")
def stub():
    with provider() as server:
        yield server


def llm_flow(base_url: str, **config) -> dict:
    settings = {"base_url": base_url + "/v1", "model": "echo", "credential": "openai",
                "system_prompt": "You help {{ inputs.name }}.", **config}
    return chain(
        {"id": "start", "type": "start", "config": {"inputs": [
            {"name": "message", "type": "string", "required": True}, {"name": "name", "type": "string", "default": "Ada"}],
            "message_input": "message"}},
        {"id": "ask", "type": "llm", "config": settings},
        {"id": "answer", "type": "reply", "config": {"text": "{{ nodes.ask.text | trim }}"}})


@pytest.mark.parametrize("stream", [False, True])
def test_answers_with_system_prompt_history_and_message_and_records_usage(run_flow, stub, stream):
    document = llm_flow(stub.url, stream=stream, history_turns=1, temperature=0.2, max_tokens=50)
    assert flows.errors(flows.validate(document)) == []
    events = []

    outcome, journal = run_flow(document, "start", {"message": "three"}, trigger={"session": SESSION},
                                settings=LOOPBACK, credentials=KEY.get, emit=events.append)

    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["text"] == "echo: three (4 messages)"
    sent = stub.requests[-1]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-0123456789"
    assert sent["body"]["messages"] == [
        {"role": "system", "content": "You help Ada."},
        {"role": "user", "content": "two"}, {"role": "assistant", "content": "second answer"},  # last turn only
        {"role": "user", "content": "three"}]
    assert (sent["body"]["temperature"], sent["body"]["max_tokens"], sent["body"]["stream"]) == (0.2, 50, stream)
    step = journal.records[2].output
    assert step["usage"]["total_tokens"] > 0 and step["model"] == "echo" and step["finish_reason"] == "stop"
    tokens = [e["text"] for e in events if e["type"] == "token"]
    if stream:
        assert "".join(tokens).strip() == "echo: three (4 messages)" and len(tokens) > 3
        assert all(e["node_id"] == "ask" for e in events if e["type"] == "token")
    else:
        assert tokens == []
    assert "sk-test-0123456789" not in repr(journal.records) + repr(journal.started)


def test_a_streamed_answer_repeating_the_key_shows_it_masked_while_it_arrives(run_flow, stub):
    """The provider splits the key over three-character pieces: no piece shown may carry any of it."""
    events = []

    outcome, journal = run_flow(llm_flow(stub.url, model="repeat-key", stream=True), "start", {"message": "x"},
                                settings=LOOPBACK, credentials=KEY.get, emit=events.append)

    assert outcome.status == "succeeded", outcome.error
    shown = [e["text"] for e in events if e["type"] == "token"]
    assert "".join(shown) == journal.records[2].output["text"] == (
        "Your key is [redacted]; sent on, it reads [redacted]. Done.")
    assert len(shown) > 5  # still streamed: the text around the key is not held until the end
    assert shown[0] == "You" and all(len(piece) <= 3 + len("[redacted]") + 3 for piece in shown)
    secret = KEY["openai"]["value"]
    assert not any(secret[i:i + 3] in piece for piece in shown for i in range(len(secret) - 2))


def test_without_a_session_only_the_prompt_and_messages_are_sent(run_flow, stub):
    document = llm_flow(stub.url, stream=False, messages=[
        {"role": "user", "content": "Context: {{ inputs.name }}"}, {"role": "user", "content": "{{ inputs.message }}"}])

    outcome, _ = run_flow(document, "start", {"message": "hi"}, settings=LOOPBACK, credentials=KEY.get)

    assert outcome.output["text"] == "echo: hi (3 messages)"


@pytest.mark.parametrize(("model", "stream", "expected"), [
    ("error-401", False, "The model provider answered HTTP 401: Incorrect API key provided. Check the credential."),
    ("error-500", True, "The model provider answered HTTP 500: The server had an error."),
    ("bad-json", False, "The model provider's answer is not a chat completion"),
    ("stream-garbage", True, "The model provider sent a stream event that is not JSON"),
    ("slow", False, "did not answer within 1 s"),
])
def test_provider_failures_become_clear_step_errors(run_flow, stub, model, stream, expected):
    document = llm_flow(stub.url, model=model, stream=stream, timeout_seconds=1)

    outcome, _ = run_flow(document, "start", {"message": "x"}, settings=LOOPBACK, credentials=KEY.get)

    assert outcome.status == "failed"
    assert outcome.error_node_id == "ask"
    assert expected in outcome.error


def test_a_failing_model_can_hand_over_to_the_error_port(run_flow, stub):
    document = llm_flow(stub.url, model="error-500", stream=False, on_error="port")
    document["nodes"].append({"id": "sorry", "type": "reply", "config": {
        "text": "Sorry, the assistant is unavailable ({{ nodes.ask.error.message[:42] }})"}})
    document["edges"].append({"id": "e3", "source": "ask", "source_port": "error", "target": "sorry", "target_port": "in"})

    outcome, _ = run_flow(document, "start", {"message": "x"}, settings=LOOPBACK, credentials=KEY.get)

    assert outcome.status == "succeeded"
    assert outcome.output["text"] == "Sorry, the assistant is unavailable (The model provider answered HTTP 500: The )"


def test_the_provider_address_is_guarded_like_the_http_node(run_flow, stub):
    outcome, _ = run_flow(llm_flow(stub.url), "start", {"message": "x"}, settings={}, credentials=KEY.get)

    assert outcome.status == "failed"
    assert "not allowed" in outcome.error


def test_the_chat_example_keeps_the_conversation_and_apologises_without_a_credential(run_flow, stub):
    from tests.flows.conftest import load_example

    document = load_example("llm_chat_memory")
    next(n for n in document["nodes"] if n["id"] == "ask")["config"]["base_url"] = stub.url + "/v1"

    outcome, _ = run_flow(document, "api", {"message": "three"}, trigger={"session": SESSION},
                          settings=LOOPBACK, credentials={"openai": KEY["openai"]}.get)
    assert outcome.output == {"text": "echo: three (6 messages) "}  # system + 4 earlier turns + this message

    outcome, _ = run_flow(document, "api", {"message": "three"}, settings=LOOPBACK, credentials=lambda name: None,
                          sleep=lambda s: None)
    assert outcome.status == "succeeded"
    assert outcome.output["text"].startswith("Sorry there, I cannot answer right now.")
    assert "The credential 'openai' does not exist" in outcome.output["data"]["error"]
