"""Who may call the control plane (`/_mock/...`, the dashboard included): not another web site.

The control plane has no authentication (it is for tests), so a browser must not be made to
call it for someone else:

- Cross-site requests (CSRF): a page on another origin can make a browser send a "simple"
  `POST /_mock/reset` (no CORS preflight: Fetch standard, "CORS-safelisted request-header").
  Refused: an `Origin` that is not this origin (the mock's own scheme, host and port, as the
  `Host` header names it), a `Sec-Fetch-Site` other than `same-origin` or `none` (W3C Fetch
  Metadata; `same-site` too, since sites ignore ports: another server on localhost is
  same-site), except a top-level GET/HEAD navigation (a link to the dashboard; it changes
  nothing). State-changing calls (any method but GET, HEAD) must also say
  `Content-Type: application/json`, which no simple request can, with or without a body.
- DNS rebinding: a name the attacker controls resolved to 127.0.0.1 reaches the mock with
  `Host: evil.example`. Refused: a Host whose name is not `localhost` (or `*.localhost`, RFC
  6761), a loopback address, the address the connection reached (`scope["server"]`), or one of
  the names the user allowed (`--allowed-hosts`, e.g. `mock` when a docker compose service calls
  `http://mock:8080/_mock/reset`). An IP literal cannot be rebound: the browser's origin is then
  the address itself; an allowed name is the user's statement that it is theirs.

Names compare as DNS names do: case-insensitive (RFC 4343), one trailing dot meaning the same
name (an absolute FQDN, RFC 1034 3.1), a Unicode name as its IDNA A-label (`bücher.example` is
`xn--bcher-kva.example`, the form browsers send), the port ignored. Nothing else matches: no
wildcards, no suffixes (`mock.evil.example` is not `mock`).

Clients that are not browsers (httpx, curl, the official SDK) send neither Origin nor
Sec-Fetch-*, and reach the mock by its address or localhost: nothing changes for them beyond the
content type of state-changing calls. The emulated API is not guarded: the official SDK sends no
Origin, and the real service answers any caller its gateway authenticates.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from functools import cache

import idna

from mock_server.core.media import MediaTypeError, is_json, parse_media_type
from mock_server.core.text import header_text

SAFE_METHODS = frozenset({"GET", "HEAD"})
_SAME = frozenset({"same-origin", "none"})


def cross_site_problem(
    method: str,
    headers: Sequence[tuple[bytes, bytes]],
    served: str | None,
    scheme: str = "http",
    allowed: str = "",
) -> str | None:
    """Why this request to the control plane is refused (one sentence), or None if it is not.

    `headers`: the ASGI header pairs; `served`: the address the connection reached (the host of
    ASGI `scope["server"]`), None when unknown; `allowed`: the setting `allowed_hosts`, names
    separated by commas or white space (each may carry a port, which is ignored).
    """
    values = _headers(headers)
    host = values.get("host")
    if host is not None and not _allowed_host(host, served, allowed_names(allowed)):
        return (
            f"Host {host!r} is not this mock's address, localhost or an allowed name"
            " (a DNS-rebinding guard: call the control plane by IP address or localhost,"
            " or allow the name with --allowed-hosts)"
        )
    origin = values.get("origin")
    if origin is not None and (host is None or origin.lower() != f"{scheme}://{host}".lower()):
        return (
            f"a request from origin {origin!r} is cross-site: the control plane is same-origin only"
        )
    site = values.get("sec-fetch-site")
    navigation = (
        method in SAFE_METHODS
        and values.get("sec-fetch-mode") == "navigate"
        and values.get("sec-fetch-dest", "document") == "document"
    )
    if site is not None and site.lower() not in _SAME and not navigation:
        return f"a {site} request (Sec-Fetch-Site): the control plane is same-origin only"
    if method not in SAFE_METHODS and not _json(values.get("content-type")):
        return (
            f"{method} needs Content-Type: application/json, even without a body"
            " (no cross-site form can send it)"
        )
    return None


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """The first value of each header, names lower-cased (a repeated Host or Origin is odd
    enough that the first decides), without the OWS around it (SP and HTAB, RFC 9110 5.5: not
    every character `str.strip` takes for whitespace)."""
    values: dict[str, str] = {}
    for name, value in raw:
        values.setdefault(name.decode("latin-1").lower(), header_text(value).strip(" \t"))
    return values


@cache
def allowed_names(setting: str) -> frozenset[str]:
    """The names of the `allowed_hosts` setting in canonical form (`canonical_name`); an entry
    that is no host name (`a b:c`, `-`) is left out, as it could never match a Host."""
    entries = setting.replace(",", " ").split()
    return frozenset(name for entry in entries if (name := _host_name(entry)) is not None)


def _allowed_host(host: str, served: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    name = _host_name(host)
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost") or name in allowed:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a DNS name: rebinding could point it anywhere
    if address.is_loopback:
        return True
    try:
        return served is not None and address == ipaddress.ip_address(served.strip("[]"))
    except ValueError:
        return False


def _host_name(host: str) -> str | None:
    """The name part of a Host value (RFC 9110, 7.2: uri-host [":" port]) in canonical form
    (`canonical_name`); None when it is not one."""
    text = host.strip(" \t")  # RFC 9110's OWS only: "\x0c" or "\x85" is no whitespace here
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :] if end >= 0 else ""
        if end < 0 or (rest and not (rest.startswith(":") and _is_port(rest[1:]))):
            return None
        return text[1:end].lower() or None
    name, colon, port = text.partition(":")
    if colon and not _is_port(port):
        return None
    return canonical_name(name)


def _is_port(text: str) -> bool:
    """RFC 3986's port (`*DIGIT`: empty allowed), and one a socket can have (0-65535)."""
    return text == "" or (text.isascii() and text.isdigit() and int(text) <= 65535)


def canonical_name(name: str) -> str | None:
    """A host name as browsers send it and DNS compares it: lower-case, without the one trailing
    dot of an absolute name, a Unicode name as its A-label (UTS #46 non-transitional, as the
    WHATWG URL standard maps hosts: `ß.de` is `xn--zca.de`); None when it is no name (empty, an
    empty label, a label over 63 octets, a character no host name has).

    ASCII names keep `_` (docker compose service names may have it; IDNA 2008 would refuse it).
    """
    if name.endswith("."):
        name = name[:-1]
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    name = name.lower()
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return name


# One label of an ASCII host name (RFC 1123 2.1 letters, digits and hyphens, plus `_`).
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


def _json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    try:
        return is_json(parse_media_type(content_type))
    except MediaTypeError:
        return False
