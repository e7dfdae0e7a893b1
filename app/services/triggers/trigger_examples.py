"""Write ready-to-paste curl, Python and JavaScript calls for a trigger URL.

The sample body is built from the start node's declared inputs, so what people paste is a
request the flow accepts as it stands (required inputs filled, the message under `user_message`).
"""

from __future__ import annotations

import json

import flows

SAMPLES = {"string": "example", "number": 1.5, "integer": 1, "boolean": True, "object": {}, "array": []}
SECRET_PLACEHOLDER = "YOUR_TRIGGER_SECRET"


def sample_body(document: dict | None) -> dict:
    start = flows.Graph(document or {"nodes": [], "edges": []}).start_node() or {}
    config = start.get("config") or {}
    message = flows.message_input(config)
    body = {}
    if message:
        body["user_message"] = "What is the status of db?"
    for item in config.get("inputs", []):
        if item.get("required") and item.get("name") != message and "default" not in item:
            body[item["name"]] = SAMPLES.get(item.get("type"), "example")
    return body


def examples(url: str, document: dict | None, authenticate: bool = True, secret: str | None = None) -> dict[str, str]:
    """Return {"curl", "python", "javascript"} snippets calling `url` with a valid sample body."""
    token = secret or SECRET_PLACEHOLDER
    body = sample_body(document)
    compact = json.dumps(body, ensure_ascii=False)
    pretty = json.dumps(body, indent=4, ensure_ascii=False)
    curl = [f"curl -X POST '{url}'"]
    if authenticate:
        curl.append(f"  -H 'Authorization: Bearer {token}'")
    curl += ["  -H 'Content-Type: application/json'", f"  -d '{compact}'"]
    py_headers = f'{{"Authorization": "Bearer {token}"}}' if authenticate else "{}"
    python = "\n".join([
        "import requests",
        "",
        "response = requests.post(",
        f'    "{url}",',
        f"    headers={py_headers},",
        f"    json={pretty.replace(chr(10), chr(10) + '    ')},",
        "    timeout=60,",
        ")",
        "print(response.status_code, response.json())",
    ])
    js_headers = ['"Content-Type": "application/json"'] + ([f'Authorization: "Bearer {token}"'] if authenticate else [])
    javascript = "\n".join([
        f'const response = await fetch("{url}", {{',
        '  method: "POST",',
        f"  headers: {{ {', '.join(js_headers)} }},",
        f"  body: JSON.stringify({compact}),",
        "});",
        "console.log(response.status, await response.json());",
    ])
    return {"curl": " \\\n".join(curl), "python": python, "javascript": javascript}


API_KEY_PLACEHOLDER = "YOUR_SWITCHBOARD_API_KEY"


def openai_examples(base_url: str, model: str) -> dict[str, str]:
    """Return {"python", "curl", "javascript"} snippets calling the flow as an OpenAI model."""
    python = "\n".join([
        "from openai import OpenAI",
        "",
        f'client = OpenAI(base_url="{base_url}", api_key="{API_KEY_PLACEHOLDER}")',
        "answer = client.chat.completions.create(",
        f'    model="{model}",',
        '    messages=[{"role": "user", "content": "What is the status of the api?"}],',
        '    user="conversation-1",  # the same value continues one conversation',
        ")",
        "print(answer.choices[0].message.content)",
        "",
        "# Streaming:",
        "for chunk in client.chat.completions.create(",
        f'        model="{model}", stream=True,',
        '        messages=[{"role": "user", "content": "Hello"}]):',
        '    print(chunk.choices[0].delta.content or "", end="", flush=True)',
    ])
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello"}]})
    curl = " \\\n".join([f"curl '{base_url}/chat/completions'",
                          f"  -H 'Authorization: Bearer {API_KEY_PLACEHOLDER}'",
                          "  -H 'Content-Type: application/json'", f"  -d '{body}'"])
    javascript = "\n".join([
        'import OpenAI from "openai";',
        "",
        f'const client = new OpenAI({{ baseURL: "{base_url}", apiKey: "{API_KEY_PLACEHOLDER}" }});',
        "const answer = await client.chat.completions.create({",
        f'  model: "{model}",',
        '  messages: [{ role: "user", content: "Hello" }],',
        "});",
        "console.log(answer.choices[0].message.content);",
    ])
    return {"python": python, "curl": curl, "javascript": javascript}
