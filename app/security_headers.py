"""Send the browser security headers on every answer and mark cookies Secure over https.

Why every answer, JSON and static files included: a header only on pages leaves the JSON error
bodies, the exports and the vendored files framable and sniffable, and an after_request hook
costs nothing per answer.

The Content-Security-Policy allows only this app's own files: no inline script unless it
carries the per-request nonce (`csp_nonce()` in templates), no inline event handler, no
style="" attribute, no other origin, and no framing (`frame-ancestors 'none'`, plus
`X-Frame-Options: DENY` for browsers older than CSP 2). Templates use classes, data attributes
and the handlers in static/js instead; dynamic geometry (the run timeline) is set through the
CSSOM (`element.style.left = …`), which CSP allows, and the SVG charts use presentation
attributes.

One measured loosening: the canvas library (X6) inserts its own <style> element for its core and
for each plugin (selection, minimap, snapline, drag-and-drop), whatever its `autoInsertCSS`
setting says (the plugins ignore it). Instead of `style-src 'unsafe-inline'`, style-src lists
the SHA-256 of exactly those stylesheets, read from the vendored file at start: any other
inline style stays refused. X6 sets element styles through the CSSOM, which needs nothing.

Referrer-Policy is `same-origin`: a trigger or invitation URL (and its query string) is never
sent to another site in a Referer header, while requests inside the app keep their full referrer
(Flask-WTF's CSRF check on https form posts requires that same-origin Referer).

Cookies: behind a TLS-terminating proxy the app sees plain http, so Flask's static
SESSION_COOKIE_SECURE cannot know. `secure_cookies` adds `Secure` to every Set-Cookie (session,
remember-me, any other) of a request that came over https; whether it did comes from
`X-Forwarded-Proto` only when the operator trusts that many proxy hops (TRUSTED_PROXIES, applied
with werkzeug's ProxyFix, which then also sets `request.remote_addr` to the forwarded client
address). With 0, forwarded headers are ignored, so a client cannot claim https or an address.
PUBLIC_BASE_URL with https still forces Secure on every cookie (app.config).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
from pathlib import Path

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import settings

X6_FILE = "vendor/x6-3.1.8.min.js"  # the canvas library's file, as templates include it
# X6's stylesheet insertions, `ensure("core", ".x6-graph {…}")` minified to `<f>(<name>,"<css>")`:
# a string argument that starts with an .x6- selector and holds a rule block.
_X6_STYLESHEET = re.compile(r',("\.x6-(?:[^"\\]|\\.)*\{(?:[^"\\]|\\.)*")')


def init_app(app: Flask) -> None:
    """Register the header hook, `csp_nonce()` in templates, and the cookie and proxy middleware."""
    trusted_proxies = settings(app).trusted_proxies
    policy = content_security_policy(style_hashes=x6_style_hashes(str(Path(app.static_folder) / X6_FILE)))
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = policy.replace("{nonce}", csp_nonce())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        return response

    app.wsgi_app = secure_cookies(app.wsgi_app)
    if trusted_proxies:
        # Outermost, so the cookie middleware and the app see the forwarded scheme, host and address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies,
                                x_host=trusted_proxies)


def csp_nonce() -> str:
    """This request's script nonce: `<script nonce="{{ csp_nonce() }}">` in a template runs."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    """The policy, with `{nonce}` where each request's nonce goes."""
    styles = " ".join(["'self'", *(f"'sha256-{digest}'" for digest in style_hashes)])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'nonce-{nonce}'",
        f"style-src {styles}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


@functools.lru_cache(maxsize=4)
def x6_style_hashes(path: str) -> tuple[str, ...]:
    """The SHA-256 (base64) of each stylesheet the vendored X6 file at `path` inserts, in the order found.

    Cached: reading and scanning the 700 kB file once per process, not per app. Fails at start
    if none is found: an X6 upgrade that changed them would otherwise break the canvas' look
    silently (the browser refuses the styles); the browser test names any refused one.
    """
    source = Path(path).read_text(encoding="utf-8")
    found = []
    for literal in _X6_STYLESHEET.findall(source):
        digest = base64.b64encode(hashlib.sha256(json.loads(literal).encode("utf-8")).digest()).decode("ascii")
        if digest not in found:
            found.append(digest)
    if not found:
        raise RuntimeError(f"no stylesheet found in {X6_FILE}; update app.security_headers for this X6 version")
    return tuple(found)


def secure_cookies(wsgi_app):
    """Wrap `wsgi_app` so every cookie set on an https request carries the Secure attribute."""
    def middleware(environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return wsgi_app(environ, start_response)

        def start(status, headers, exc_info=None):
            headers = [(name, _secure(value) if name.lower() == "set-cookie" else value) for name, value in headers]
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return middleware


def _secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else cookie + "; Secure"
