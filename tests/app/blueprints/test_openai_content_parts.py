"""OpenAI text content parts reach the flow as separate blocks, one per line, as OpenAI reads them."""

from __future__ import annotations

import pytest

from app.services.chat.openai_chat import parse
from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer


def _parts(*texts: str) -> list[dict]:
    return [{"type": "text", "text": text} for text in texts]


@pytest.mark.parametrize("content, text", [
    (_parts("first", "second"), "first\nsecond"),
    (_parts("one"), "one"),
    (_parts("a", "", "c"), "a\n\nc"),
    ("plain", "plain"),
])
def test_text_parts_are_joined_with_a_newline_in_every_role(content, text):
    chat = parse({"model": "m", "messages": [{"role": "system", "content": content},
                                             {"role": "assistant", "content": content},
                                             {"role": "user", "content": content}]})
    assert chat.message == text
    assert chat.system == text
    assert chat.history[-1] == {"role": "assistant", "content": text}


def test_the_flow_sees_the_parts_as_separate_lines(client, api_key):
    document = echo_flow(key="parts")
    document["nodes"][0] = {"id": "ai", "type": "openai_trigger", "config": {"key": "parts"},
                            "position": {"x": 0, "y": 0}}
    document["edges"][0]["source"] = "ai"
    assert client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key)).status_code == 201
    answer = client.post("/v1/chat/completions", headers=bearer(api_key), json={
        "model": "parts", "messages": [{"role": "user", "content": _parts("Hello", "World")}]})
    assert answer.status_code == 200, answer.json
    assert answer.json["choices"][0]["message"]["content"] == "Hello\nWorld"
