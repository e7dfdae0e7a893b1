"""Secrets are blanked out of step outputs and errors in every spelling a server may echo them in."""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flows
from flows.redaction import MASK, StreamRedactor, redact
from tests.flows.documents import chain
from tests.stubs import service

SECRETS = ["sk-test-0123456789", "pa55 w/rd+&=?#", 'quote"back\\slash', "ünïcødé-ключ-😀-秘密", "tiny"]
ENCODERS = {
    "raw": lambda s: s,
    "percent upper": lambda s: quote(s, safe=""),
    "percent lower": lambda s: quote(s, safe="").lower(),
    "percent mixed": lambda s: "".join(c if i % 2 else quote(c, safe="") for i, c in enumerate(s)),
    "percent keeping -_.~": lambda s: quote(s, safe="-_.~"),
    "plus for space": lambda s: quote_plus(s),
    "json": lambda s: json.dumps(s)[1:-1],
    "json ascii": lambda s: json.dumps(s, ensure_ascii=True)[1:-1],
    "json \\u lower": lambda s: json.dumps(s)[1:-1].encode().decode("unicode_escape") and _json_u(s, "x"),
    "json \\u upper": lambda s: _json_u(s, "X"),
    "json slash": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 unpadded": lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
    "base64 urlsafe": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "base64 urlsafe unpadded": lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
}


def _json_u(text: str, case: str) -> str:
    """Escape every character as a JSON \\u escape of four hex digits (surrogate pairs above the BMP), in the given hex case."""
    units = text.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04{case}}" for i in range(0, len(units), 2))


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("encoding", ENCODERS)
def test_every_spelling_of_a_secret_is_redacted(secret, encoding):
    spelled = ENCODERS[encoding](secret)
    output = {"body": f"before {spelled} after", spelled: [f"x{spelled}y"], "n": 1}

    redacted = redact(output, {secret})

    assert redacted == {"body": f"before {MASK} after", MASK: [f"x{MASK}y"], "n": 1}


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("prefix", ["", "r:", "ro:", "robot:", "a-much-longer-user-name:"])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_a_secret_inside_a_longer_base64_text_cannot_be_decoded_back(secret, prefix, encode):
    """Basic auth sends base64(user:password): the password's encoding depends on where it starts."""
    for tail in ("", ":", "-tail"):
        encoded = encode(f"{prefix}{secret}{tail}".encode()).decode()

        redacted = redact(f"Authorization echoed: {encoded}.", {secret})

        assert MASK in redacted
        assert not _recoverable(redacted, secret.encode())


def _recoverable(text: str, secret: bytes) -> bool:
    """Try every base64 run at every offset, in both alphabets: does any 4 bytes of the secret come out?"""
    windows = {secret[i:i + 4] for i in range(max(1, len(secret) - 3))}
    for run in re.findall(r"[A-Za-z0-9+/_=-]{4,}", text):
        for start in range(4):
            chunk = run[start:].rstrip("=")
            chunk = chunk[:len(chunk) - len(chunk) % 4] or chunk
            for alphabet in (None, b"-_"):
                try:
                    decoded = base64.b64decode(chunk + "=" * (-len(chunk) % 4), altchars=alphabet)
                except (binascii.Error, ValueError):
                    continue
                if any(window in decoded for window in windows):
                    return True
    return False


def test_text_that_merely_resembles_a_secret_is_kept():
    text = "sk-test-012345678 SK-TEST-0123456789 c2stdGVzdA"

    assert redact(text, {"sk-test-0123456789"}) == text


def _streamed(secrets: set[str], pieces: list[str]) -> list[str]:
    """What a live view shows of a text arriving in `pieces`: one entry per piece, then the end."""
    redactor = StreamRedactor(secrets)
    return [redactor.feed(piece) for piece in pieces] + [redactor.flush()]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("encoding", ENCODERS)
def test_a_secret_split_over_streamed_pieces_is_shown_masked_as_in_the_whole_text(secret, encoding):
    whole = f"before {ENCODERS[encoding](secret)} after"
    expected = redact(whole, {secret})
    assert expected == f"before {MASK} after"
    splits = [[whole[:cut], whole[cut:]] for cut in range(len(whole) + 1)]
    splits += [[whole[i:i + size] for i in range(0, len(whole), size)] for size in (1, 2, 3, 7)]

    for pieces in splits:
        assert "".join(_streamed({secret}, pieces)) == expected, pieces


_FRAGMENTS = st.sampled_from([" ", "hello ", "==", "=", "%", "%2", "\\", "\\u00", "sk-", "c2", "+", "M=", "\n"])


@st.composite
def _texts_with_secrets(draw):
    secrets = draw(st.sets(st.sampled_from(SECRETS), min_size=1, max_size=3))
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        secret = draw(st.sampled_from(sorted(secrets)))
        parts.append(draw(st.one_of(
            st.sampled_from(sorted(ENCODERS)).map(lambda name, s=secret: ENCODERS[name](s)),
            st.integers(0, len(secret)).map(lambda n, s=secret: s[:n]),  # a secret cut short is no secret
            _FRAGMENTS, st.text(max_size=5))))
    whole = "".join(parts)
    cuts = sorted(draw(st.sets(st.integers(0, len(whole)), max_size=8)))
    return secrets, [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)])]


@settings(max_examples=300, deadline=None)
@given(_texts_with_secrets())
def test_whatever_the_pieces_the_streamed_text_reads_as_the_whole_text_redacted(case):
    secrets, pieces = case
    assert "".join(_streamed(secrets, pieces)) == redact("".join(pieces), secrets)


def test_text_that_cannot_be_a_secret_is_shown_at_once_and_a_possible_start_waits_for_the_next_piece():
    shown = _streamed({"sk-test-0123456789"}, ["The weather ", "is fine, ", "thanks", " for asking. ", "Bye."])

    assert shown == ["The weather ", "is fine, ", "thank", "s for asking. ", "Bye.", ""]
    assert _streamed(set(), ["sk-", "test"]) == ["sk-", "test", ""]


@pytest.fixture(scope="module")
def server():
    with service() as stub:
        yield stub


@pytest.mark.parametrize("credential", [
    {"kind": "bearer", "value": "tok/en+with spaces-123"},
    {"kind": "basic", "username": "robot", "password": "pa55:wörd+/="},
    {"kind": "api_key", "value": "key-custom-123456", "header": "X-Custom-Key"},
    {"kind": "header", "value": "hdr value/x=123456", "header": "X-Token"},
])
@pytest.mark.parametrize("status", [200, 400])
def test_a_server_echoing_the_credential_encoded_leaves_no_trace_in_the_run(run_flow, server, credential, status):
    document = chain({"id": "start", "type": "start", "config": {"inputs": []}},
                     {"id": "call", "type": "http_request",
                      "config": {"url": server.url + f"/echo-encoded?status={status}", "credential": "c"}})
    secrets = {"c": {"name": "c", **credential}}

    outcome, journal = run_flow(document, "start", {}, settings={"http_allowed_networks": ["127.0.0.1/32"]},
                                credentials=secrets.get)

    assert outcome.status == ("succeeded" if status == 200 else "failed"), outcome.error
    echoed = server.requests[-1]["headers"]
    stored = json.dumps([journal.records[seq].output for seq in journal.records]) + repr(journal.errors) + \
        str(outcome.error)
    assert MASK in stored
    value = credential.get("value") or credential["password"]
    for text in {value, quote(value, safe=""), quote_plus(value), quote(value, safe="").lower(), _json_u(value, "x"),
                 *(v.split(" ", 1)[-1] for k, v in echoed.items() if k in ("Authorization", "X-Custom-Key", "X-Token"))}:
        assert text not in stored and json.dumps(text)[1:-1] not in stored, text
    assert flows.errors(flows.validate(document)) == []
