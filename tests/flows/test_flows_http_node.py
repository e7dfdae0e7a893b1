"""The HTTP request node against a real loopback server, and the address guard that keeps flows off internal networks."""

from __future__ import annotations

import socket

import httpx
import pytest

import flows
from flows.net import BlockedRequest, check_host, parse_networks, same_origin
from tests.flows.documents import chain
from tests.stubs import service

LOOPBACK = {"http_allowed_networks": ["127.0.0.1/32"]}


def http_flow(**config) -> dict:
    return chain(
        {"id": "start", "type": "start", "config": {"inputs": [{"name": "service", "type": "string", "default": "db"}]}},
        {"id": "call", "type": "http_request", "config": config},
        {"id": "answer", "type": "reply", "config": {"text": "{{ nodes.call.status }} {{ nodes.call.json | tojson }}"}})


@pytest.fixture(scope="module")
def server():
    with service() as stub:
        yield stub


def test_get_with_templated_url_and_query_parses_the_json_answer(run_flow, server):
    document = http_flow(url=server.url + "/status/{{ inputs.service }}", query={"verbose": "{{ 1 + 1 }}"})
    assert flows.errors(flows.validate(document)) == []

    outcome, journal = run_flow(document, "start", {}, settings=LOOPBACK)

    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["text"] == '200 {"service": "db", "state": "degraded"}'
    assert server.requests[-1]["path"] == "/status/db?verbose=2"
    assert journal.started[1]["input"]["url"] == server.url + "/status/db"  # the run view shows the URL called


def test_post_json_body_headers_and_an_idempotency_key_from_run_and_node(run_flow, server):
    document = http_flow(url=server.url + "/echo", method="POST", headers={"X-Service": "{{ inputs.service }}"},
                         body_type="json", json_body='{"service": {{ inputs.service | tojson }}, "n": 1}')

    outcome, journal = run_flow(document, "start", {"service": "web"}, settings=LOOPBACK)

    assert outcome.status == "succeeded", outcome.error
    received = server.requests[-1]
    assert received["body"] == {"service": "web", "n": 1}
    assert received["headers"]["X-Service"] == "web"
    assert received["headers"]["Idempotency-Key"] == "run-1-call"
    assert received["headers"]["Content-Type"] == "application/json"


def test_form_body_and_credential_headers(run_flow, server):
    document = http_flow(url=server.url + "/echo", method="POST", body_type="form", form={"q": "{{ inputs.service }}"},
                         credential="ops")
    secrets = {"ops": {"kind": "basic", "name": "ops", "username": "robot", "password": "pa55word-xyz"}}

    outcome, journal = run_flow(document, "start", {}, settings=LOOPBACK, credentials=secrets.get)

    received = server.requests[-1]
    assert received["raw"] == "q=db"
    assert received["headers"]["Authorization"].startswith("Basic ")
    # The echo server sends the Authorization header back; the recorded output must not keep it.
    assert "pa55word-xyz" not in repr(journal.records) and received["headers"]["Authorization"] not in repr(journal.records)
    assert outcome.status == "succeeded"


CREDENTIALS = {
    "bearer": {"kind": "bearer", "value": "tok-bearer-123456"},
    "basic": {"kind": "basic", "username": "robot", "password": "pa55word-xyz"},
    "api_key": {"kind": "api_key", "value": "key-default-123456"},
    "api_key_custom": {"kind": "api_key", "value": "key-custom-123456", "header": "X-Custom-Key"},
    "header": {"kind": "header", "value": "hdr-value-123456", "header": "X-Token"},
}


@pytest.fixture(scope="module")
def elsewhere():
    """Two more servers: the same host on another port, and another loopback host."""
    with service() as other_port, service("127.0.0.2") as other_host:
        yield {"port": other_port, "host": other_host}


def _credential_flow(url: str, kind: str) -> tuple[dict, dict]:
    document = http_flow(url=url, credential="c", headers={"Cookie": "session=abc123456", "X-Plain": "kept"})
    return document, {"c": {"name": "c", **CREDENTIALS[kind]}}


@pytest.mark.parametrize("template,problem", [
    ("{{ inputs.service }}", "contains characters outside plain ASCII"),  # a person's name from the inputs
    ("a\r\nX-Injected: 1", "contains a line break or NUL character"),
    ("a{{ inputs.service[:1] }}\x00b", "contains a line break or NUL character"),
], ids=["non-ascii", "line-break", "nul"])
def test_a_header_value_http_cannot_carry_fails_the_step_in_words_and_sends_nothing(run_flow, server, template,
                                                                                     problem):
    document = http_flow(url=server.url + "/echo", method="POST", headers={"X-Person": template})
    sent = len(server.requests)

    outcome, _ = run_flow(document, "start", {"service": "José"}, settings=LOOPBACK)

    assert outcome.status == "failed"
    assert outcome.error == (f"The header X-Person {problem}, which an HTTP header cannot carry: leave such "
                             "characters out, or encode the value, e.g. {{ … | urlencode }}.")
    assert len(server.requests) == sent


def test_spaces_around_a_header_value_are_dropped_as_http_says(run_flow, server):
    document = http_flow(url=server.url + "/echo", method="POST",
                         headers={"Authorization": "Bearer {{ inputs.service if inputs.service != 'db' else '' }}",
                                  "X-Padded": "  {{ inputs.service }}\t"})

    outcome, _ = run_flow(document, "start", {}, settings=LOOPBACK)

    assert outcome.status == "succeeded", outcome.error
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer"
    assert server.requests[-1]["headers"]["X-Padded"] == "db"


def test_a_credential_http_cannot_carry_fails_the_step_without_showing_it(run_flow, server):
    document = http_flow(url=server.url + "/echo", method="POST", credential="ops")
    secrets = {"ops": {"kind": "bearer", "name": "ops", "value": "pasted\u2019token-xyz"}}
    sent = len(server.requests)

    outcome, _ = run_flow(document, "start", {}, settings=LOOPBACK, credentials=secrets.get)

    assert outcome.status == "failed"
    assert outcome.error.startswith("The credential's Authorization header contains characters outside plain ASCII")
    assert "token-xyz" not in outcome.error and len(server.requests) == sent


@pytest.mark.parametrize("kind", CREDENTIALS)
@pytest.mark.parametrize("where", ["port", "host"])
def test_no_credential_follows_a_redirect_to_another_origin(run_flow, server, elsewhere, kind, where):
    target = elsewhere[where]
    document, secrets = _credential_flow(server.url + "/redirect?to=" + target.url + "/echo", kind)
    settings = {"http_allowed_networks": ["127.0.0.0/8"]}

    outcome, _ = run_flow(document, "start", {}, settings=settings, credentials=secrets.get)

    assert outcome.status == "succeeded", outcome.error
    first, final = server.requests[-1], target.requests[-1]
    sent = {k: v for k, v in first["headers"].items() if k in ("Authorization", "X-API-Key", "X-Custom-Key", "X-Token")}
    assert len(sent) == 1  # the configured origin got the credential
    secret = next(iter(sent.values()))
    assert final["path"] == "/echo" and final["headers"]["X-Plain"] == "kept"
    assert secret not in repr(final["headers"]) and not set(sent) & set(final["headers"])
    assert "Cookie" not in final["headers"] and "abc123456" not in repr(final)


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_a_redirect_within_the_origin_keeps_the_credential(run_flow, server, kind):
    document, secrets = _credential_flow(server.url + "/redirect?to=/echo", kind)

    outcome, _ = run_flow(document, "start", {}, settings=LOOPBACK, credentials=secrets.get)

    assert outcome.status == "succeeded", outcome.error
    first, final = server.requests[-2], server.requests[-1]
    names = {"Authorization", "X-API-Key", "X-Custom-Key", "X-Token", "Cookie"}
    assert final["path"] == "/echo"
    assert {k: v for k, v in final["headers"].items() if k in names} == \
        {k: v for k, v in first["headers"].items() if k in names}


@pytest.mark.parametrize(("configured", "hop", "same"), [
    ("https://api.example.com/x", "https://api.example.com/y", True),
    ("https://api.example.com/x", "https://API.example.com:443/y", True),
    ("http://api.example.com/x", "https://api.example.com/y", True),  # upgrade to https on the default ports
    ("https://api.example.com/x", "http://api.example.com/y", False),  # downgrade: readable on the wire
    ("https://api.example.com/x", "https://api.example.com:8443/y", False),
    ("http://api.example.com:8080/x", "https://api.example.com/y", False),
    ("https://api.example.com/x", "https://evil.example.com/y", False),
    ("https://api.example.com/x", "https://api.example.com.evil.net/y", False),
])
def test_credentials_go_only_to_the_configured_origin(configured, hop, same):
    assert same_origin(httpx.URL(configured), httpx.URL(hop)) is same


def test_an_error_status_fails_the_step_with_the_status_and_retry_tries_again(run_flow, server):
    failing = http_flow(url=server.url + "/fail/502")
    outcome, _ = run_flow(failing, "start", {}, settings=LOOPBACK)
    assert outcome.status == "failed"
    assert f"GET {server.url}/fail/502 answered HTTP 502" in outcome.error

    flaky = http_flow(url=server.url + "/flaky", retry={"attempts": 3, "backoff_seconds": 0})
    outcome, journal = run_flow(flaky, "start", {}, settings=LOOPBACK)
    assert outcome.status == "succeeded"
    assert [s["attempt"] for s in journal.started if s["node_id"] == "call"] == [1, 2, 3]
    keys = {r["headers"]["Idempotency-Key"] for r in server.requests if r["path"] == "/flaky"}
    assert keys == {"run-1-call"}  # every attempt is recognisable as the same request


def test_responses_over_the_size_cap_fail_clearly(run_flow, server):
    outcome, _ = run_flow(http_flow(url=server.url + "/big", max_response_bytes=1024), "start", {}, settings=LOOPBACK)

    assert outcome.status == "failed"
    assert "larger than 1024 bytes" in outcome.error


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/status/db",
    "http://[::1]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://127.1:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://10.0.0.1/",
    "http://localhost:{port}/",
    "file:///etc/passwd",
])
def test_internal_addresses_are_refused_unless_allowed(run_flow, server, url):
    port = server.url.rsplit(":", 1)[1]
    before = len(server.requests)

    outcome, _ = run_flow(http_flow(url=url.format(port=port)), "start", {}, settings={})

    assert outcome.status == "failed"
    assert "not allowed" in outcome.error or "dotted form" in outcome.error or "must start with http" in outcome.error
    assert len(server.requests) == before  # nothing reached the server


def test_a_host_name_that_cannot_be_looked_up_fails_in_words_not_resolver_codes(run_flow):
    outcome, _ = run_flow(http_flow(url="https://" + "x" * 64 + ".example/api"), "start", {}, settings={})

    assert outcome.status == "failed"
    assert outcome.error.startswith("Could not find the host 'xxxx") and "it is not a valid host name" in outcome.error
    assert "Errno" not in outcome.error and "label" not in outcome.error


@pytest.mark.parametrize(("error", "words"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "no such host name exists"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "did not answer in time"),
    (socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure in name resolution"), "looking up its address failed"),
])
def test_each_lookup_failure_reads_as_words(error, words):
    from flows.net import _unresolved

    message = _unresolved("api.example.com", error)

    assert message.startswith("Could not find the host 'api.example.com': ") and words in message
    assert "Errno" not in message and error.strerror not in message


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/echo", "http://[::1]:{port}/echo",
                                    "http://169.254.169.254/"])
def test_a_redirect_to_an_internal_address_is_refused(run_flow, server, target):
    port = server.url.rsplit(":", 1)[1]
    document = http_flow(url=server.url + "/redirect", query={"to": target.format(port=port)})

    outcome, _ = run_flow(document, "start", {}, settings=LOOPBACK)  # 127.0.0.1 itself is allowed

    assert outcome.status == "failed"
    assert "not allowed" in outcome.error


def test_an_allowed_redirect_is_followed(run_flow, server):
    document = http_flow(url=server.url + "/redirect", query={"to": server.url + "/status/api"})

    outcome, _ = run_flow(document, "start", {}, settings=LOOPBACK)

    assert outcome.output["text"] == '200 {"service": "api", "state": "ok"}'


def test_the_guard_checks_public_and_allowed_addresses():
    assert check_host("93.184.216.34", 80, []) == "93.184.216.34"
    assert check_host("10.1.2.3", 80, parse_networks(["10.0.0.0/8"])) == "10.1.2.3"
    for host in ("0.0.0.0", "224.0.0.1", "100.64.0.1", "192.168.1.1", "fe80::1", "fc00::1"):
        with pytest.raises(BlockedRequest):
            check_host(host, 80, [])
    with pytest.raises(ValueError, match="not an IP range"):
        parse_networks(["10.0.0.0/99"])


TUNNELLED = [
    "2002:a9fe:a9fe::1", "2002:7f00:1::", "2002:0a00:0001:1::5", "2002:c0a8:0101::1",  # 6to4 of private IPv4
    "2002:0808:0808::1",  # 6to4 is refused whatever it embeds: the relay decides where it goes
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0::1",  # Teredo: the client address is obfuscated
    "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:0:0",  # mapped
    "::127.0.0.1", "::a9fe:a9fe", "::8.8.8.8", "::10.0.0.1",  # IPv4-compatible (obsolete)
    "64:ff9b::a9fe:a9fe", "64:ff9b::127.0.0.1", "64:ff9b::10.1.2.3", "64:ff9b::c0a8:101",  # NAT64
    "64:ff9b:1::a9fe:a9fe", "64:ff9b:1:2::8.8.8.8",  # local-use NAT64
    "2600::5efe:a9fe:a9fe", "2600::200:5efe:7f00:1", "2a00:1450::5efe:10.0.0.1",  # ISATAP interface ids
]
NUMERIC_SPELLINGS = ["2130706433", "0x7f000001", "0x7F.0.0.1", "0177.0.0.1", "017700000001", "127.1", "127.0.1",
                     "0x7f.1", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "0", "00.0.0.0"]


@pytest.mark.parametrize("host", TUNNELLED + NUMERIC_SPELLINGS)
def test_ipv6_forms_that_tunnel_to_ipv4_and_odd_ipv4_spellings_are_refused(host):
    with pytest.raises(BlockedRequest):
        check_host(host, 80, [])


@pytest.mark.parametrize("host", ["2002:a9fe:a9fe::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
                                  "0:0:0:0:0:ffff:169.254.169.254", "::169.254.169.254", "2001:0:0:0:0:0:a9fe:a9fe",
                                  "0251.0376.0251.0376", "2852039166", "0xa9.0xfe.0xa9.0xfe",
                                  "169\u3002254\u3002169\u3002254", "%31%36%39.254.169.254"])
def test_a_url_with_a_tunnelled_or_numeric_host_reaches_nothing(run_flow, server, host):
    literal = f"[{host}]" if ":" in host else host
    before = len(server.requests)

    outcome, _ = run_flow(http_flow(url=f"http://{literal}/latest/meta-data/"), "start", {}, settings={})

    assert outcome.status == "failed"
    assert any(reason in outcome.error for reason in ("not allowed", "dotted form", "is not valid", "Could not find the host"))
    assert len(server.requests) == before


def test_the_allow_list_also_covers_the_ipv4_address_a_tunnel_embeds():
    loopback, private = parse_networks(["127.0.0.0/8"]), parse_networks(["10.0.0.0/8", "2002::/16"])
    assert check_host("::ffff:127.0.0.1", 80, loopback) == "::ffff:7f00:1"
    assert check_host("64:ff9b::7f00:1", 80, loopback) == "64:ff9b::7f00:1"
    assert check_host("2002:0a00:0001::1", 80, private) == "2002:a00:1::1"
    assert check_host("64:ff9b::808:808", 80, []) == "64:ff9b::808:808"  # DNS64 answer for a public host
    assert check_host("2606:4700:4700::1111", 80, []) == "2606:4700:4700::1111"
    with pytest.raises(BlockedRequest):
        check_host("::ffff:10.0.0.1", 80, loopback)


def test_the_ops_example_branches_on_the_answer_and_parks_when_degraded(run_flow, server):
    from tests.flows.conftest import load_example

    document = load_example("ops_http_check")
    for node in document["nodes"]:
        if node["type"] == "http_request":
            node["config"]["url"] = node["config"]["url"].replace("https://status.example.com/api/services", server.url + "/status")
            node["config"].pop("credential")

    healthy, _ = run_flow(document, "manual", {"user_message": "how is web?", "service": " Web "}, settings=LOOPBACK)
    degraded, _ = run_flow(document, "manual", {"user_message": "and db?", "service": "db"}, settings=LOOPBACK)
    unreachable, _ = run_flow(document, "manual", {"user_message": "db?", "service": "db"}, settings={},
                              sleep=lambda s: None)

    assert healthy.output["text"] == "The status API reports 'ok' for web."
    assert (degraded.status, degraded.output["text"]) == ("waiting", "db is degraded; I will check again in 5 minutes.")
    assert unreachable.output["text"].startswith("I could not reach the status API: Requests to 127.0.0.1")
