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

:func:`check_http_environment` builds the same pieces httpx builds, one variable at a time, and
raises :class:`~short_jobs.errors.UsageError` naming the variable and saying what it holds
(userinfo scrubbed) and what would work, before any request is sent. The toolkit's own variables
(``SHORT_JOBS_ENDPOINT``, the official SDK's ``HUAWEICLOUD_SDK_*``) are checked where they are
read (:mod:`short_jobs._base`), each error naming its variable the same way.
"""

from __future__ import annotations

import importlib.util
import os
import ssl
from collections.abc import Mapping

import httpx
from httpx._utils import URLPattern  # the matcher httpx builds for each proxy and no_proxy key

from short_jobs.errors import UsageError, literal
from short_jobs.redact import scrub

__all__ = ["PROXY_SCHEMES", "SSL_VARIABLES", "check_http_environment", "proxy_variables"]

PROXY_SCHEMES = ("http", "https", "all")
"""The ``<scheme>_proxy`` variables httpx uses (others, such as ``ftp_proxy``, it ignores)."""
SSL_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def proxy_variables(environ: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """``{"http": (variable, value), "all": ..., "no": ...}``: for each proxy setting httpx
    reads, the variable it comes from and its value, as :func:`urllib.request.getproxies`
    picks them (a lower-case variable wins over its upper-case twin; an empty one unsets)."""
    env = os.environ if environ is None else environ
    found: dict[str, tuple[str, str]] = {}
    for key in (*PROXY_SCHEMES, "no"):
        lower = f"{key}_proxy"
        names = [name for name in env if name.lower() == lower]
        # urllib reads every spelling, then lets the lower-case one override.
        names.sort(key=lambda name: name == lower)
        chosen: tuple[str, str] | None = None
        for name in names:
            if env[name]:
                chosen = (name, env[name])
            elif name == lower:
                chosen = None
        if chosen is not None:
            found[key] = chosen
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
    if proxy.url.scheme in ("socks5", "socks5h") and importlib.util.find_spec("socksio") is None:
        raise _refuse(
            variable,
            url,
            "is a SOCKS proxy, which needs httpx's socks extra: pip install 'httpx[socks]', "
            "or unset it for this command",
        )


def _check_no_proxy(variable: str, value: str) -> None:
    for host in (part.strip() for part in value.split(",")):
        if not host or host == "*" or "://" not in host:
            continue  # httpx turns these into patterns of its own that always parse
        try:
            URLPattern(host)
        except (ValueError, TypeError, httpx.InvalidURL) as exc:
            raise _refuse(
                variable, value, f"has an entry httpx cannot read ({host!r}: {exc})"
            ) from None


def _check_ssl(environ: Mapping[str, str]) -> None:
    cafile = environ.get("SSL_CERT_FILE")
    if cafile:
        try:
            ssl.create_default_context(cafile=cafile)
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
    env = os.environ if environ is None else environ
    proxies = proxy_variables(env)
    for key in PROXY_SCHEMES:
        if key in proxies:
            _check_proxy(*proxies[key])
    if "no" in proxies:
        _check_no_proxy(*proxies["no"])
    if verify is True:
        _check_ssl(env)
