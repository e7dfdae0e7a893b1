"""Turn a workspace credential into request headers, the same way for every node that calls out.

Credential kinds (stored by the app, resolved through `NodeContext.credential`):
- ``bearer``: {"value"} -> ``Authorization: Bearer <value>``
- ``api_key``: {"value", "header"?} -> ``<header or X-API-Key>: <value>``; LLM providers take
  their key as a bearer token, so the LLM node sends it that way
- ``basic``: {"username", "password"} -> ``Authorization: Basic …``
- ``header``: {"header", "value"} -> ``<header>: <value>``
"""

from __future__ import annotations

import base64

from flows.nodes.base import NodeContext, NodeError

KINDS = ("api_key", "bearer", "basic", "header")
# What each kind is called on the pages (the stored kinds above stay as they are).
KIND_TITLES = {"api_key": "API key", "bearer": "Bearer token", "basic": "Username and password",
               "header": "Custom header"}


def auth_headers(credential: dict, *, api_key_as_bearer: bool = False) -> dict[str, str]:
    """Return the headers that present `credential`; raise NodeError for an unusable one."""
    kind = credential.get("kind")
    name = credential.get("name", "")
    value = credential.get("value") or ""
    if kind == "bearer" or (kind == "api_key" and api_key_as_bearer):
        return {"Authorization": f"Bearer {value}"}
    if kind == "api_key":
        return {credential.get("header") or "X-API-Key": value}
    if kind == "basic":
        pair = f"{credential.get('username') or ''}:{credential.get('password') or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if kind == "header" and credential.get("header"):
        return {credential["header"]: value}
    raise NodeError(f"The credential '{name}' has the unusable kind {kind!r}; edit it under Credentials.")


def node_credential_headers(ctx: NodeContext, name: str | None, *, api_key_as_bearer: bool = False) -> dict[str, str]:
    """Return the headers presenting the node's credential `name` ({} for none), remembering them as secrets.

    Nodes pass these to `flows.net.guarded_stream` as `credentials`, never among the other
    headers, so that a redirect to another origin cannot carry them along.
    """
    if not name:
        return {}
    headers = auth_headers(ctx.credential(name), api_key_as_bearer=api_key_as_bearer)
    ctx.secrets.update(value for value in headers.values() if len(value) >= 4)
    return headers
