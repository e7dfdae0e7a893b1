"""Request bodies at every endpoint that takes one: read as JSON whatever the label, hostile JSON refused.

`curl -d '{"user_message": "hi"}'` labels JSON as a form; the body must still arrive. Python's
parser accepts what no JSON consumer can keep (NaN, 5,000-digit integers, lone surrogates, 100,000
levels of nesting); each must get a 400 that names the problem, never a 500 or a hang, and an
error that lists fields must stay small and fast however many fields the body has.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.app.body_endpoints import body_endpoints
from tests.app.trigger_helpers import bearer

LABELS = [None, "application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin-1",
          "multipart/form-data; boundary=xyz", "application/json"]
HOSTILE = {
    "1" * 5000: "characters long", "-" + "9" * 5000: "characters long", "1." + "0" * 5000: "characters long",
    "1e999": "too large", "-1e999": "too large", "NaN": "not a JSON number", "Infinity": "not a JSON number",
    "-Infinity": "not a JSON number", '"\\ud800"': "lone surrogate", '"a\\udfffb"': "lone surrogate",
    '{"\\udbff": 1}': "lone surrogate", "[" * 100_000 + "]" * 100_000: "nested",
    '{"a": ' * 100_000 + "1" + "}" * 100_000: "nested", "[" * 70 + "]" * 70: "nested",
}


@pytest.fixture
def endpoints(client, api_key):
    return body_endpoints(client, api_key)


@pytest.mark.parametrize("label", LABELS)
def test_a_json_body_is_read_whatever_its_content_type_says(client, api_key, endpoints, label):
    hook = endpoints[0]
    answer = hook.send(client, b'{"user_message": "hi there"}', label)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "hi there" in json.dumps(answer.json["output"])
    flow_id = endpoints[4].path.rsplit("/", 1)[1]
    renamed = endpoints[4].send(client, b'{"name": "Renamed by curl"}', label)
    assert renamed.status_code == 200 and renamed.json["name"] == "Renamed by curl", renamed.get_data(as_text=True)
    run = client.post(f"/api/v1/flows/{flow_id}/run", data=b'{"message": "form-labelled"}',
                      headers={**bearer(api_key), **({"Content-Type": label} if label else {})})
    assert run.status_code == 202, run.get_data(as_text=True)
    assert client.get(f"/api/v1/runs/{run.json['run_id']}", headers=bearer(api_key)).json["inputs"]["message"] \
        == "form-labelled"
    chat = endpoints[-1].send(client, endpoints[-1].body('"hello model"'), label)
    assert chat.status_code == 200 and chat.json["choices"][0]["message"]["content"] == "hello model", chat.json


@pytest.mark.parametrize("label", LABELS)
def test_every_body_endpoint_reads_a_mislabelled_body(client, endpoints, label):
    """The empty-looking body of a form-labelled request used to pass as `{}`: now the real fields arrive."""
    for endpoint in endpoints:
        answer = endpoint.send(client, b'{"unknown_field_to_prove_the_body_arrived": 1}', label)
        if endpoint.path.startswith("/hooks/"):
            assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_inputs", answer.json
        elif not endpoint.path.startswith("/v1/"):
            assert answer.status_code in (400, 404), (endpoint.path, answer.get_data(as_text=True))
            assert "unknown_field_to_prove_the_body_arrived" in answer.json["error"]["message"], \
                (endpoint.path, answer.json)


def test_a_body_that_is_not_json_gets_a_400_that_says_so(client, endpoints):
    multipart = (b'--xyz\r\nContent-Disposition: form-data; name="user_message"\r\n\r\nhi\r\n--xyz--\r\n')
    for endpoint in endpoints:
        for body, label in ((multipart, "multipart/form-data; boundary=xyz"),
                            (b"user_message=hi", "application/x-www-form-urlencoded"),
                            ('{"user_message": "é"}'.encode("latin-1"), "application/json; charset=latin-1")):
            answer = endpoint.send(client, body, label)
            assert answer.status_code == 400, (endpoint.path, answer.get_data(as_text=True))
            assert "not valid JSON" in answer.json["error"]["message"], (endpoint.path, answer.json)


def test_hostile_json_gets_a_400_naming_the_problem_at_every_endpoint(client, endpoints):
    for endpoint in endpoints:
        for fragment, problem in HOSTILE.items():
            started = time.monotonic()
            answer = endpoint.send(client, endpoint.body(fragment))
            assert answer.status_code == 400, (endpoint.path, fragment[:20], answer.get_data(as_text=True)[:300])
            assert problem in answer.json["error"]["message"], (endpoint.path, fragment[:20], answer.json)
            assert time.monotonic() - started < 5, (endpoint.path, fragment[:20])


def test_a_body_with_thousands_of_unknown_fields_gets_a_short_answer_quickly(client, endpoints):
    for endpoint in endpoints:
        fields = ", ".join(f'"field_{i}": {i}' for i in range(20_000))
        body = ("{" + fields + ", " + (endpoint.template % '"x"')[1:]).encode()
        started = time.monotonic()
        answer = endpoint.send(client, body)
        elapsed = time.monotonic() - started
        assert answer.status_code < 500 and elapsed < 3, (endpoint.path, answer.status_code, elapsed)
        assert len(answer.get_data()) < 20_000, (endpoint.path, len(answer.get_data()))
        if answer.status_code == 400 and "field_" in answer.json["error"]["message"]:
            error = answer.json["error"]
            assert "and 19980 more" in error["message"] or "more" in error["message"], (endpoint.path, error)
            if "details" in error and len(error["details"]) >= 20:
                assert len(error["details"]) == 20 and error["details_total"] >= 20_000, (endpoint.path, error)
