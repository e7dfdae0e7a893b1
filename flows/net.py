"""Make outgoing HTTP requests for flow nodes without letting a flow reach the operator's network.

Flow authors choose the URLs, so a flow could otherwise read cloud metadata (169.254.169.254),
an admin port on localhost or a database on the private network (server-side request forgery).
Every request therefore:
- accepts only http and https URLs, and refuses numeric host spellings other than the usual
  dotted form (``2130706433``, ``0x7f000001``, ``127.1``), which exist mainly to slip past filters;
- resolves the host itself and refuses it if *any* address is private, loopback, link-local,
  multicast, reserved or otherwise not public, including IPv6 forms that reach an IPv4 address
  (mapped, NAT64 and ISATAP are checked as that IPv4 address; 6to4, Teredo and IPv4-compatible
  are refused), unless the operator allowed that range (`allowed` networks, from
  HTTP_NODE_ALLOWED_NETWORKS);
- connects to the address it checked (not to a second DNS answer), sending the real host name
  in the Host header and in TLS SNI, so certificates are still verified against the name;
- follows redirects itself, checking every hop the same way, and sends the node's credential
  only to the origin (scheme, host and port) it was configured for, never on to another;
- ignores proxy settings from the environment, which would bypass all of the above.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from contextlib import contextmanager
from typing import Iterable, Iterator

import httpx

from flows.nodes.base import NodeError

MAX_REDIRECTS = 5
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_REDIRECT_CODES = {301, 302, 303, 307, 308}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedRequest(NodeError):
    """The URL points somewhere flows may not go; the message says why and how to allow it."""


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """Parse CIDR ranges (``127.0.0.1/32``, ``10.0.0.0/8``, ``::1/128``); raise ValueError naming a bad one."""
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP range such as 10.0.0.0/8 or 127.0.0.1/32") from None
    return networks


def _allowed(settings: dict) -> list[IPNetwork]:
    raw = settings.get("http_allowed_networks") or []
    return [n for n in raw if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))] or \
        parse_networks(n for n in raw if isinstance(n, str))


_TUNNELS = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16",  # 6to4: deprecated, and the relay forwards to whatever IPv4 address it embeds
    "2001::/32",  # Teredo: the client's IPv4 address is embedded obfuscated
    "::/96",  # IPv4-compatible: deprecated
    "64:ff9b:1::/48",  # local-use NAT64: where the IPv4 address sits depends on the local setup
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (DNS64 answers use it)


def embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, ISATAP), if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if address in _NAT64 or packed[8:12] in (b"\x00\x00\x5e\xfe", b"\x02\x00\x5e\xfe"):  # NAT64 or ISATAP
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Return whether `address` is an ordinary public unicast address.

    IPv6 forms that tunnel to an IPv4 address are judged by that address (mapped, NAT64,
    ISATAP), or refused outright where it cannot be known or the form is obsolete (6to4,
    Teredo, IPv4-compatible, local-use NAT64): ``2002:a9fe:a9fe::1`` is 169.254.169.254.
    """
    if address.version == 6 and (address.teredo is not None or any(address in net for net in _TUNNELS)):
        return False
    embedded = embedded_ipv4(address)
    if embedded is not None and (address.ipv4_mapped is not None or address in _NAT64):
        return is_public(embedded)  # the connection goes to that IPv4 address and nowhere else
    if embedded is not None and not is_public(embedded):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified
                                       or address.is_loopback or address.is_link_local or address.is_private)


def _unresolved(host: str, exc: Exception) -> str:
    """Why `host` has no address, in words rather than the resolver's "[Errno -2] Name or service not known"."""
    code = exc.errno if isinstance(exc, socket.gaierror) else None
    if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
        reason = "no such host name exists; check the address for typing mistakes"
    elif code == socket.EAI_AGAIN:
        reason = "the name server did not answer in time (this server may be offline); try again later"
    elif isinstance(exc, UnicodeError):
        reason = "it is not a valid host name"
    else:
        reason = "looking up its address failed"
    return f"Could not find the host '{host}': {reason}."


def _is_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed: list[IPNetwork]) -> bool:
    """Say whether the operator allowed `address`, or the IPv4 address it embeds."""
    embedded = embedded_ipv4(address)
    return any(address in network or (embedded is not None and embedded in network) for network in allowed)


def check_host(host: str, port: int, allowed: list[IPNetwork]) -> str:
    """Resolve `host` and return the address to connect to; raise BlockedRequest if any is refused."""
    host = host.rstrip(".")
    if not host:
        raise BlockedRequest("The URL has no host name.")
    labels = host.split(".")
    literal = _ip_literal(host)
    if literal is None and all(_NUMERIC_LABEL.match(label) for label in labels):
        raise BlockedRequest(f"The host '{host}' is a number but not a plain IP address; write IP addresses "
                             f"in the usual dotted form (e.g. 93.184.216.34).")
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise NodeError(_unresolved(host, exc)) from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    for address in addresses:
        if not is_public(address) and not _is_allowed(address, allowed):
            shown = host if str(address) == host else f"{host} ({address})"
            raise BlockedRequest(
                f"Requests to {shown} are not allowed: it is a private, loopback, link-local or reserved "
                f"address, or an IPv6 form that tunnels to one. An operator can allow a range with the "
                f"HTTP_NODE_ALLOWED_NETWORKS setting.")
    if not addresses:
        raise NodeError(f"The host '{host}' has no address.")
    return str(addresses[0])


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _target(url: httpx.URL | str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise NodeError(f"The URL '{url}' is not valid ({exc}).") from None
    if target.scheme not in ("http", "https"):
        raise BlockedRequest(f"The URL '{url}' must start with http:// or https://.")
    if not target.host:
        raise NodeError(f"The URL '{url}' has no host name.")
    return target


_AUTHOR_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _origin(target: httpx.URL) -> tuple[str, str, int]:
    return target.scheme, target.host.lower(), target.port or (443 if target.scheme == "https" else 80)


def same_origin(configured: httpx.URL, hop: httpx.URL) -> bool:
    """Say whether credentials meant for `configured` may go to `hop`: the same scheme, host and port.

    The one exception is the upgrade from http on port 80 to https on port 443 of the same host,
    which only makes the credential safer. A downgrade to http, another port or another host is
    another origin: it may be another service, and plain http exposes the credential on the wire.
    """
    want, got = _origin(configured), _origin(hop)
    return want == got or (want[1] == got[1] and want[0::2] == ("http", 80) and got[0::2] == ("https", 443))


@contextmanager
def guarded_stream(method: str, url: str, *, settings: dict, timeout: float, headers: dict | None = None,
                   credentials: dict | None = None, params: dict | None = None, json: object = None,
                   data: dict | None = None, content: bytes | None = None) -> Iterator[httpx.Response]:
    """Send the request (following checked redirects) and yield the streamed final response.

    `credentials` are headers sent only to the URL's own origin (`same_origin`); after a redirect
    elsewhere they, and any Authorization or Cookie header among `headers`, stay behind.
    Raise BlockedRequest for a refused address, NodeError for a bad URL or a transport failure
    (connection refused, timeout), each with a message naming the URL's host.
    """
    allowed = _allowed(settings)
    headers, credentials = _sendable(headers or {}), _sendable(credentials or {}, credential=True)
    with httpx.Client(trust_env=False, timeout=timeout, follow_redirects=False) as client:
        configured = target = _target(url)
        for hop in range(MAX_REDIRECTS + 1):
            response = _send(client, method, target, _hop_headers(headers, credentials, configured, target), allowed,
                             timeout, params=params if hop == 0 else None, json=json, data=data, content=content)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_CODES or not location:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            target = _target(target.join(location))
            if response.status_code == 303 or (response.status_code in (301, 302) and method.upper() == "POST"):
                method, json, data, content = "GET", None, None, None
        raise NodeError(f"{url} redirected more than {MAX_REDIRECTS} times.")


def _sendable(headers: dict, credential: bool = False) -> dict:
    """The headers as HTTP can carry them, or a NodeError that says, in words, what to change.

    Why here, before anything is sent: httpx failed a non-ASCII value with "UnicodeEncodeError:
    'ascii' codec can't encode…", and h11 a line break, a NUL or a space at either end (a template
    such as "Bearer {{ token }}" with an empty token) with "Could not reach <host>: Illegal header
    value"; neither told the author what to change. Spaces at either end are not part of a header's
    value in HTTP, so they are dropped. A credential's value is never quoted.
    """
    sendable = {}
    for name, value in headers.items():
        if isinstance(value, str):
            value = value.strip(" \t")
            problem = _header_problem(value)
            if problem and credential:
                raise NodeError(f"The credential's {name} header {problem}, which an HTTP header cannot carry: "
                                f"check the credential for a pasted line break, quote or other special character.")
            if problem:
                raise NodeError(f"The header {name} {problem}, which an HTTP header cannot carry: leave such "
                                f"characters out, or encode the value, e.g. {{{{ … | urlencode }}}}.")
        sendable[name] = value
    return sendable


def _header_problem(value: str) -> str | None:
    if "\r" in value or "\n" in value or "\x00" in value:
        return "contains a line break or NUL character"
    if not value.isascii():
        return "contains characters outside plain ASCII"
    return None


def _hop_headers(headers: dict, credentials: dict, configured: httpx.URL, target: httpx.URL) -> dict:
    """Return the headers for one hop: credentials only for the configured origin."""
    if same_origin(configured, target):
        return {**headers, **credentials}
    return {name: value for name, value in headers.items() if name.lower() not in _AUTHOR_CREDENTIAL_HEADERS}


def _send(client: httpx.Client, method: str, target: httpx.URL, headers: dict, allowed: list[IPNetwork],
          timeout: float, **body: object) -> httpx.Response:
    """Check the target's address, then send one request to exactly that address."""
    port = target.port or (443 if target.scheme == "https" else 80)
    address = check_host(target.host, port, allowed)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(method, target.copy_with(host=address),
                                   headers={**headers, "Host": target.netloc.decode("ascii")},
                                   extensions=extensions, **body)
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException:
        raise NodeError(f"{target.host} did not answer within {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        raise NodeError(f"Could not reach {target.host}: {type(exc).__name__}: {exc}") from None


def read_limited(response: httpx.Response, max_bytes: int, timeout_at: float | None = None) -> bytes:
    """Read the body, failing as soon as it passes `max_bytes` (so a huge answer costs no memory)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise NodeError(f"The response is larger than {max_bytes} bytes; raise the node's size limit "
                                f"or ask for less data.")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise NodeError("The server stopped sending the response before it was complete (timeout).") from None
    except httpx.HTTPError as exc:
        raise NodeError(f"Reading the response failed: {type(exc).__name__}: {exc}") from None
    return b"".join(chunks)
