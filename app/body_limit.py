"""Refuse a request body over MAX_CONTENT_LENGTH with 413 however it is sent, chunked included.

Why: for a body without Content-Length (`Transfer-Encoding: chunked`), Werkzeug enforces the
limit by reading at most that many bytes and then reporting the end of the body. The rest was
cut off without a word, so `/hooks/…`, `/api/v1/…` and `/v1/chat/completions` parsed the first
MiB and answered 400 `invalid_json` ("Unterminated string…") about a body the caller never sent,
where the same body with a Content-Length got 413. Reading one byte past the limit tells a body
exactly at the limit from one over it, and the latter raises the 413 every other oversized body
gets (`app.errors` answers it, and reads the rest away so the connection stays usable).
"""

from __future__ import annotations

import typing as t

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream


class _UnsizedBody(LimitedStream):
    """A body of unknown length, read up to one byte past `limit`: that byte means 413."""

    def __init__(self, stream: t.IO[bytes], limit: int):
        super().__init__(stream, limit + 1, is_max=True)
        self.max_bytes = limit

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = super().readinto(buffer)
        if self.tell() > self.max_bytes:
            raise RequestEntityTooLarge()
        return count


class BodyLimitRequest(Request):
    """Flask's request, whose stream refuses an over-limit chunked body instead of truncating it."""

    @cached_property
    def stream(self) -> t.IO[bytes]:
        limit = self.max_content_length
        # As Werkzeug: only a server that ends the stream itself (gunicorn, Werkzeug's own) says
        # `wsgi.input_terminated`; without it a body of unknown length is not read at all.
        if (limit is not None and self.content_length is None and not self.shallow
                and "wsgi.input_terminated" in self.environ):
            return t.cast(t.IO[bytes], _UnsizedBody(self.environ["wsgi.input"], limit))
        return super().stream
