"""The environment httpx reads for every client the toolkit makes, checked in one place.

httpx clients are made with ``trust_env=True`` (its default, and what users of proxies and
private CAs rely on), so when a client is built httpx reads (httpx 0.28, ``_client.py``,
``_config.py``, ``_utils.get_environment_proxies``):

- the proxy variables through :func:`urllib.request.getproxies`: ``http_proxy``,
  ``https_proxy``, ``all_proxy`` and ``no_proxy``, in either case (the lower-case one wins when
  both are set, as curl and urllib do). A proxy must be an ``http``, ``https``, ``socks5`` or
  ``socks5h`` URL (``socks5`` needs ``httpx[socks]``); anything else makes httpx raise a bare
  ``ValueError`` or ``ImportError`` while the client is built (Linux desktops export
  ``all_proxy=socks://...``, a scheme httpx does not know);
- ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, when TLS verification is on (``verify=True``): the
  CA bundle or directory to trust instead of certifi's.

Building that TLS context (loading the CA bundle) is most of what a new httpx client costs: about
90 ms, paid by every client, even one that only ever speaks plain HTTP. :func:`tls_verify` builds
it once per CA setting (the variables and the bundle's size and modification time) and hands every
client of the process the same context, as httpx would have built it.

:func:`check_http_environment` builds the same pieces httpx builds, one variable at a time, and
raises :class:`~short_jobs.errors.UsageError` naming the variable and saying what it holds
(userinfo scrubbed) and what would work, before any request is sent. The toolkit's own variables
(``SHORT_JOBS_ENDPOINT``, the official SDK's ``HUAWEICLOUD_SDK_*``) are checked where they are
read (:mod:`short_jobs._base`), each error naming its variable the same way.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit
from urllib.request import getproxies

import httpx

# The matcher httpx builds for each proxy and no_proxy key, and the tests it sorts entries with.
from httpx._utils import URLPattern, is_ipv4_hostname, is_ipv6_hostname

from short_jobs import redact
from short_jobs.endpoints import host_problem
from short_jobs.errors import UsageError, literal
from short_jobs.redact import scrub

__all__ = [
    "PROXY_SCHEMES",
    "SSL_VARIABLES",
    "check_http_environment",
    "no_proxy_patterns",
    "proxy_variables",
    "tls_verify",
]

PROXY_SCHEMES = ("http", "https", "all")
"""The ``<scheme>_proxy`` variables httpx uses (others, such as ``ftp_proxy``, it ignores)."""
SSL_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def proxy_variables() -> dict[str, tuple[str, str]]:
    """``{"http": (variable, value), "all": ..., "no": ...}``: each proxy setting httpx will use,
    read by the very function httpx reads them with (:func:`urllib.request.getproxies`: any
    spelling of ``<scheme>_proxy``, the lower-case suffix winning), and the variable it came
    from, for the message (``"the system proxy settings"`` on a system that has them)."""
    found: dict[str, tuple[str, str]] = {}
    values = getproxies()
    for key in (*PROXY_SCHEMES, "no"):
        value = values.get(key)
        if not value:
            continue
        names = [n for n, v in os.environ.items() if n.lower() == f"{key}_proxy" and v == value]
        names.sort(key=lambda name: not name.endswith("_proxy"))
        found[key] = (names[0] if names else "the system proxy settings", value)
    return found


def _refuse(variable: str, value: str, problem: str) -> UsageError:
    shown = literal(repr(scrub(value)))
    return UsageError(f"{variable}={shown} {literal(problem)}")


def _check_proxy(variable: str, url: str) -> None:
    spelled = url if "://" in url else f"http://{url}"  # what httpx does with a bare host:port
    try:
        proxy = httpx.Proxy(url=spelled)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        raise _refuse(
            variable,
            url,
            f"is not a proxy httpx can use ({exc}): use an http://, https://, socks5:// or "
            "socks5h:// URL, or unset it for this command",
        ) from None
    _check_proxy_address(variable, url, spelled, proxy)
    port = proxy.url.port
    if port is not None and not 0 < port < 65536:
        # httpx builds the client, and every request through it then fails to connect.
        raise _refuse(variable, url, f"has port {port}, outside 1-65535")
    if proxy.url.scheme in ("socks5", "socks5h") and importlib.util.find_spec("socksio") is None:
        raise _refuse(
            variable,
            url,
            "is a SOCKS proxy, which needs httpx's socks extra: pip install 'httpx[socks]', "
            "or unset it for this command",
        )


def no_proxy_patterns(value: str) -> list[tuple[str, str]]:
    """``(entry, pattern)`` for each entry of a ``no_proxy`` value: the proxy key httpx makes
    of it, as httpx 0.28 makes it (``_utils.get_environment_proxies``, mirrored line by line):
    entries are split on ``,`` and stripped; an empty one is skipped; a URL (``://``) is its own
    key; an IPv4 address ``a`` becomes ``all://a``, an IPv6 one ``all://[a]``, ``localhost``
    ``all://localhost``, and anything else ``all://*a``. A ``*`` entry turns every proxy off
    (httpx returns no keys at all), so then there is nothing to check and none is returned.
    ``tests/client/test_env_config.py`` checks this against httpx's own function."""
    patterns: list[tuple[str, str]] = []
    for host in (part.strip() for part in value.split(",")):
        if host == "*":
            return []
        if not host:
            continue
        if "://" in host:
            pattern = host
        elif is_ipv4_hostname(host):
            pattern = f"all://{host}"
        elif is_ipv6_hostname(host):
            pattern = f"all://[{host}]"
        elif host.lower() == "localhost":
            pattern = f"all://{host}"
        else:
            pattern = f"all://*{host}"
        patterns.append((host, pattern))
    return patterns


# RFC 3986 section 3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
_USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*")


def _check_proxy_address(variable: str, url: str, spelled: str, proxy: httpx.Proxy) -> None:
    """Refuse a proxy whose host breaks the endpoint's rule (:func:`endpoints.host_problem`),
    or whose user name or password has a character RFC 3986 does not allow there as is (a space,
    a non-ASCII letter): httpx would send such a proxy's host on to the resolver, and each request
    would fail as "no answer from <endpoint>", blaming the endpoint, not the variable."""
    if proxy.auth is not None:
        redact.remember(proxy.auth[1])  # scrub() spots userinfo only in a URL's own alphabet
    try:
        parts = urlsplit(spelled)
        host = parts.hostname or ""
    except ValueError:  # urllib's own reading fails where httpx's did not: read httpx's
        host, parts = proxy.url.host, None
    userinfo = parts.netloc.rpartition("@")[0] if parts else ""
    redact.remember(userinfo)
    if not _USERINFO.fullmatch(userinfo):
        raise _refuse(
            variable,
            url.replace(userinfo, "REDACTED", 1),  # a short password escapes redact's memory
            "has a space, a non-ASCII letter or another character a URL's user name or password "
            "cannot hold as is: percent-encode it (a space is %20)",
        )
    problem = host_problem(host)
    if problem:
        raise _refuse(variable, url, problem)


def _bypasses_every_proxy(value: str) -> bool:
    """Whether a ``no_proxy`` value has a ``*`` entry: httpx then reads no proxy variable at all
    (``get_environment_proxies`` returns nothing), so none can fail and none is checked."""
    return any(part.strip() == "*" for part in value.split(","))


def _check_no_proxy(variable: str, value: str) -> None:
    # Each key is parsed by URLPattern, as httpx parses it when the client is built: an entry
    # httpx cannot read (a port that is not a number, an unclosed '[', a host IDNA refuses) is
    # then a bare httpx.InvalidURL from ShortJobs(...), whether it was spelled as a URL or not.
    for host, pattern in no_proxy_patterns(value):
        try:
            URLPattern(pattern)
        except (ValueError, TypeError, httpx.InvalidURL) as exc:
            raise _refuse(
                variable,
                value,
                f"has an entry httpx cannot read ({host!r}, read as {pattern!r}: {exc}): "
                "list host names (example.com, .example.com), IP addresses (10.0.0.1, ::1) or "
                "URLs (http://[::1]:8080), comma-separated",
            ) from None


def _check_ssl(environ: Mapping[str, str]) -> None:
    cafile = environ.get("SSL_CERT_FILE")
    if cafile:
        try:
            _default_context(*_ca_setting(environ))  # the clients' context: built once, kept
        except (OSError, ValueError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc)
            raise _refuse(
                "SSL_CERT_FILE",
                cafile,
                f"is not a readable PEM file of CA certificates ({detail}): fix or unset it",
            ) from None
        return
    capath = environ.get("SSL_CERT_DIR")
    if capath and not os.path.isdir(capath):
        raise _refuse(
            "SSL_CERT_DIR", capath, "is not a directory of CA certificates: fix or unset it"
        )


def check_http_environment(verify: object = True, environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`UsageError` naming the first variable httpx would fail on (see above).

    ``verify``: the TLS setting the clients get; the SSL variables are read only when it is
    ``True``, as httpx reads them.
    """
    proxies = proxy_variables()
    no_proxy = proxies.get("no")
    if not (no_proxy and _bypasses_every_proxy(no_proxy[1])):
        for key in PROXY_SCHEMES:
            if key in proxies:
                _check_proxy(*proxies[key])
        if no_proxy:
            _check_no_proxy(*no_proxy)
    if verify is True:
        _check_ssl(os.environ)


def tls_verify(verify: bool | str | ssl.SSLContext) -> bool | str | ssl.SSLContext:
    """What the toolkit's httpx clients get as ``verify``: for ``True``, the process's one
    context for the current CA setting (built as httpx builds it, ``httpx.create_ssl_context``
    with ``trust_env``); anything else as given. Call :func:`check_http_environment` first."""
    if verify is not True:
        return verify
    return _default_context(*_ca_setting(os.environ))


def _ca_setting(environ: Mapping[str, str]) -> tuple[str | None, str | None, int, int]:
    """The SSL variables, and the bundle's size and mtime (a replaced bundle is read again)."""
    cafile = environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else environ.get("SSL_CERT_DIR") or None
    where = cafile or capath
    try:
        stat = os.stat(where) if where else None
    except OSError:
        stat = None  # httpx's own error is raised when the context is built
    return cafile, capath, stat.st_size if stat else -1, stat.st_mtime_ns if stat else -1


@functools.lru_cache(maxsize=8)
def _default_context(
    _cafile: str | None, _capath: str | None, _size: int, _mtime: int
) -> ssl.SSLContext:
    # The key's fields are what httpx reads from the environment here (see the module's text).
    return httpx.create_ssl_context(verify=True, trust_env=True)
