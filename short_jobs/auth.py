"""httpx authentication for the short-jobs API: AK/SK signing and IAM tokens.

Both are :class:`httpx.Auth` subclasses, so one instance works with ``httpx.Client`` and
``httpx.AsyncClient`` alike (``httpx.Auth`` derives ``sync_auth_flow`` and ``async_auth_flow`` from
:meth:`auth_flow`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime

import httpx

from short_jobs.signing import DATE_HEADER, sign_request

__all__ = ["UNSIGNED_HEADERS", "AkSkAuth", "TokenAuth"]

PROJECT_ID_HEADER = "X-Project-Id"
TOKEN_HEADER = "X-Auth-Token"
SECURITY_TOKEN_HEADER = "X-Security-Token"

UNSIGNED_HEADERS = frozenset(
    {
        # Added by httpx itself before auth runs; the SDK leaves them to `requests` to add after
        # signing, so the official client never signs them either.
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        # Hop-by-hop or transport framing: proxies may add, drop or rewrite them in transit.
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "expect",
        # The signature's own carrier.
        "authorization",
    }
)
"""Headers :class:`AkSkAuth` sends but never signs (lower-case names)."""


class AkSkAuth(httpx.Auth):
    """Sign every request with AK/SK (``SDK-HMAC-SHA256``), like the SDK's ``BasicCredentials``.

    Per request it sets ``X-Project-Id`` (when a project id is given, as BasicCredentials does),
    ``X-Security-Token`` (with temporary AK/SK from IAM's securitytokens API, as
    ``BasicCredentials.with_security_token`` does: signed like the rest), a fresh ``X-Sdk-Date``,
    ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` for non-JSON bodies, and ``Authorization``.

    Which headers are signed: all that are on the request when auth runs, except
    :data:`UNSIGNED_HEADERS` and names containing ``_``. The SDK signs every header it set itself
    (Content-Type, User-Agent, X-Project-Id, X-App-UserId, X-Sdk-Date, Host) and none of those
    ``requests`` adds later (Accept, Accept-Encoding, Connection, Content-Length). httpx adds the
    latter before auth runs, so they are left out by name; for a request shaped like the SDK's
    the SignedHeaders list is then the same, ``content-type;host;user-agent;x-project-id;
    x-sdk-date``. Host is signed as httpx sends it: ``host[:port]`` from the URL, the port
    omitted when it is the scheme's default (the SDK would keep an explicit ``:443``; either
    way the signed value is the one on the wire).
    """

    requires_request_body = True

    def __init__(
        self,
        ak: str,
        sk: str,
        project_id: str,
        *,
        security_token: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``security_token``: the one temporary AK/SK come with; ``clock`` returns the signing
        time (UTC), tests pass a fixed one."""
        if not ak or not sk:
            raise ValueError("both the access key (AK) and the secret key (SK) are required")
        self._ak = ak
        self._sk = sk
        self._project_id = project_id
        self._security_token = security_token
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        # Never show the secret key in logs or tracebacks.
        return f"AkSkAuth(ak={self._ak!r}, project_id={self._project_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the signature headers, then send the request once."""
        if self._project_id:
            request.headers[PROJECT_ID_HEADER] = self._project_id
        if self._security_token:
            request.headers[SECURITY_TOKEN_HEADER] = self._security_token
        # A fresh date each time, so a Request object sent again is not signed with a stale one.
        request.headers.pop(DATE_HEADER, None)
        request.headers.pop("Authorization", None)
        if "Host" not in request.headers:
            request.headers["Host"] = request.url.netloc.decode("ascii")

        to_sign: dict[str, str] = {}
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.decode("ascii").lower()
            if name in UNSIGNED_HEADERS:
                continue
            value = raw_value.decode("utf-8", "surrogateescape")
            # Repeated headers reach the server as one field joined with ", " (RFC 9110).
            to_sign[name] = f"{to_sign[name]}, {value}" if name in to_sign else value

        added = sign_request(
            request.method,
            request.url.raw_path.decode("ascii"),
            to_sign,
            request.content,
            self._ak,
            self._sk,
            now=self._clock(),
        )
        for name, value in added.items():
            request.headers[name] = value
        yield request


class TokenAuth(httpx.Auth):
    """IAM token auth: sends ``X-Auth-Token`` (the SDK has no token support; the API accepts it)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an IAM token is required")
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the token header, then send the request once."""
        request.headers[TOKEN_HEADER] = self._token
        yield request
