"""The web server's request hook (app.processes.gunicorn_conf.pre_request), given gunicorn-shaped requests.

Why not through a live server: gunicorn refuses most malformed Content-Length headers itself
before the hook runs; the hook must still never raise on one (an exception there is a 500).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.errors import DRAIN_MAX_BYTES
from app.processes.gunicorn_conf import pre_request


def _closes(content_length: str | None) -> bool:
    headers = [("HOST", "localhost")] + ([("CONTENT-LENGTH", content_length)] if content_length is not None else [])
    request = SimpleNamespace(headers=headers, must_close=False)
    pre_request(None, request)
    return request.must_close


@pytest.mark.parametrize("length", [None, "0", "100", str(DRAIN_MAX_BYTES)])
def test_a_body_the_app_can_read_away_keeps_the_connection(length):
    assert not _closes(length)


@pytest.mark.parametrize("length", [str(DRAIN_MAX_BYTES + 1), "9" * 19, "9" * 5000, "²", "١٠٠", "𝟏", "+1", "1e3"])
def test_a_huge_or_unreadable_length_closes_it(length):
    assert _closes(length)
