"""Where the API is: an endpoint URL, or a Huawei Cloud region name turned into MetaStudio's URL.

Huawei Cloud endpoints follow one pattern, ``https://{service}.{region}.myhuaweicloud.com``, so a
region name (``cn-north-4``) is enough; a URL (``http://127.0.0.1:8000`` for the mock) is used as
given. No list of regions is kept: which regions offer MetaStudio changes over time, and a wrong
region fails loudly anyway (a connection or "API does not exist" error).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit

from short_jobs import redact

__all__ = [
    "ENDPOINT_ENV",
    "SERVICE",
    "host_problem",
    "is_region",
    "region_endpoint",
    "resolve_endpoint",
]

SERVICE = "metastudio"
ENDPOINT_ENV = "SHORT_JOBS_ENDPOINT"
"""Read by the facade and the command line when no endpoint is passed."""

# cn-north-4, ap-southeast-1, cn-east-3, la-south-2, af-south-1, me-east-1, tr-west-1...
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


# A DNS label as RFC 1123 section 2.1 allows it, and '_' (resolvers take it; docker compose service
# names and some internal hosts have it).
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.IGNORECASE)
_MAX_NAME = 253  # RFC 1035 section 2.3.4, without the trailing dot


def host_problem(host: str) -> str | None:
    """What keeps ``host`` (a URL's host, as :func:`urllib.parse.urlsplit` gives it, brackets
    off) from being one the toolkit connects to, or ``None``: the one rule for the endpoint's host
    and for a proxy's (:mod:`short_jobs.environment`).

    A host is an IPv4 or IPv6 address, or a name of dot-separated labels of 1 to 63 ASCII
    letters, digits, ``-`` (neither first nor last) and ``_``, 253 characters at most, one
    trailing dot allowed (RFC 1123 section 2.1, RFC 1035 section 2.3.4). An internationalised
    name is written in its ASCII form (``xn--...``): a space or a non-ASCII character in an
    endpoint or proxy is a copy-paste accident far more often, and httpx would pass it on to the
    resolver, whose "Name or service not known" then blames the endpoint, whichever it was.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    name = host.removesuffix(".")
    if len(name) <= _MAX_NAME and all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    odd = next((c for c in host if c.isspace() or not c.isascii()), None)
    what = f"has {odd!r} in its host" if odd else f"has host {host!r}"
    return (
        f"{what}, which is neither an IP address nor a host name (ASCII letters, digits, '-', "
        "'_' and dots; an internationalised name in its xn-- form)"
    )


def is_region(value: str) -> bool:
    """Whether ``value`` looks like a region name (``cn-north-4``) rather than a URL."""
    return bool(_REGION.fullmatch(value))


def region_endpoint(region: str) -> str:
    """MetaStudio's endpoint in ``region``: ``https://metastudio.{region}.myhuaweicloud.com``."""
    if not is_region(region):
        raise ValueError(f"{region!r} is not a region name such as 'cn-north-4'")
    return f"https://{SERVICE}.{region}.myhuaweicloud.com"


def resolve_endpoint(endpoint: str) -> str:
    """The base URL for ``endpoint``: a region name, or an http(s) URL (trailing ``/`` removed).

    Raises ``ValueError`` with what was expected for anything else, so a typo is reported before
    any request goes out rather than as an obscure connection error. A URL with userinfo
    (``http://user:password@host``) is refused the same way, the password never repeated.
    """
    value = endpoint.strip()
    if is_region(value):
        return region_endpoint(value)
    if "@" in value:
        # A password on the command line or in a variable would be echoed by every message
        # and recording that names the endpoint; the API takes no userinfo anyway (it signs
        # requests or sends a token). Refused before anything is sent, the secret unshown.
        userinfo = value.split("://", 1)[-1].rsplit("@", 1)[0]
        for part in (userinfo, *userinfo.split(":", 1)):
            redact.remember(part)
            redact.remember(unquote(part))
        raise ValueError(
            f"endpoint {redact.scrub(value)!r} has a user name or password in it "
            "(userinfo, before '@'), which would be sent and shown: remove it; the API is "
            "signed with AK/SK or a token (--ak/--sk, --token or their variables)"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"endpoint {endpoint!r} is neither an http(s) URL nor a region name "
            "(e.g. 'https://metastudio.cn-north-4.myhuaweicloud.com' or 'cn-north-4')"
        )
    problem = host_problem(parts.hostname)
    if problem:
        raise ValueError(f"endpoint {endpoint!r} {problem}")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint {endpoint!r} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"endpoint {endpoint!r} has an invalid port") from exc
    return value.rstrip("/")
