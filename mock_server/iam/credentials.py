"""What the API gateway asks IAM about a caller: `IamCredentials`.

It answers the gateway's `Credentials` protocol for everything the mock accepts: the configured
`--ak`/`--sk` and `--token`, tokens issued by `POST /v3/auth/tokens` until they expire, and
temporary AK/SKs issued by `POST /v3.0/OS-CREDENTIAL/securitytokens` until they expire (each
bound to its security token). The fixed values are checked first, without touching the store.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from mock_server.config import Settings
from mock_server.iam.model import Clock, IssuedToken, digest, iam_time
from mock_server.iam.store import IamStore
from short_jobs.signing import SignatureError, parse_authorization, verify_request

SECURITY_TOKEN_HEADER = "x-security-token"


class CredentialSource(Protocol):
    """What authentication asks about a caller (the gateway's `Credentials`, same shape)."""

    def token_problem(self, token: str) -> str | None: ...

    def secret_for(self, ak: str) -> tuple[str, str | None] | None: ...


class ExpiredAccessKey(SignatureError):
    """`secret_for` raises it for a temporary AK past its expiry: the gateway's SignatureError
    handling turns it into 401 APIGW.0301 with this reason (instead of "not found")."""


class IamCredentials:
    def __init__(self, settings: Settings, store: IamStore, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock

    def token_problem(self, token: str) -> str | None:
        """None if `token` may call MetaStudio now; else the reason for the 401."""
        if hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), self.settings.token.encode()
        ):
            return None
        issued = self.issued_token(token)
        if issued is None:
            return "the X-Auth-Token is invalid"
        return self._issued_problem(issued)

    def issued_token(self, token: str) -> IssuedToken | None:
        return self.store.token(digest(token))

    def _issued_problem(self, issued: IssuedToken) -> str | None:
        if self.clock.now() >= issued.expires_at:
            return f"the X-Auth-Token has expired (at {iam_time(issued.expires_at)})"
        if issued.project_id != self.settings.project_id:
            return f"the X-Auth-Token is scoped to another project ({issued.project_id})"
        return None

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        """(SK, the security token this AK must come with, or None), or None for an unknown AK.

        Raises `ExpiredAccessKey` (a `SignatureError`) for a temporary AK that has expired.
        """
        if hmac.compare_digest(ak.encode("utf-8", "surrogateescape"), self.settings.ak.encode()):
            return self.settings.sk, None
        credential = self.store.credential(ak)
        if credential is None:
            return None
        if self.clock.now() >= credential.expires_at:
            raise ExpiredAccessKey(
                f"the temporary access key {ak!r} has expired"
                f" (at {iam_time(credential.expires_at)}); get a new one"
            )
        return credential.secret, credential.security_token


def security_token_problem(
    required: str | None, headers: Mapping[str, str], signed_headers: Sequence[str]
) -> str | None:
    """None if the request carries what its AK requires; else the reason for the 401.

    `required`: the second item of `secret_for`; `headers`: the request's headers, lower-cased
    names; `signed_headers`: the Authorization's SignedHeaders. A temporary AK must come with its
    security token in a signed `X-Security-Token` header (the official SDK signs it).
    """
    if required is None:
        return None
    presented = headers.get(SECURITY_TOKEN_HEADER)
    if presented is None:
        return "X-Security-Token is missing: a temporary access key needs its security token"
    if SECURITY_TOKEN_HEADER not in (name.lower() for name in signed_headers):
        return "X-Security-Token is not signed: list it in SignedHeaders"
    if not hmac.compare_digest(
        presented.strip().encode("utf-8", "surrogateescape"), required.encode()
    ):
        return "X-Security-Token does not match the temporary access key"
    return None


NO_CREDENTIALS = "no credentials: send X-Auth-Token, or an SDK-HMAC-SHA256 Authorization header"


def caller_problem(
    credentials: CredentialSource,
    method: str,
    raw_path: bytes,
    query_string: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    now: datetime,
) -> str | None:
    """Authenticate a request as the API gateway does: None if the caller is accepted, else why.

    `X-Auth-Token` when present (`token_problem`), else the AK/SK signature (verified by
    `short_jobs.signing`, the SK from `secret_for`) plus the security token a temporary AK
    requires, else `NO_CREDENTIALS`. Give the path, query and headers as received (ASGI).
    """
    table = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
    token = table.get("x-auth-token")
    if token is not None:
        return credentials.token_problem(token)
    if "authorization" not in table:
        return NO_CREDENTIALS
    required: list[str | None] = []

    def sk_for(ak: str) -> str | None:
        found = credentials.secret_for(ak)
        if found is None:
            return None
        required.append(found[1])
        return found[0]

    try:
        verify_request(method, raw_path, query_string, headers, body, sk_for, now)
    except SignatureError as failure:
        return str(failure)
    signed = parse_authorization(table["authorization"]).signed_headers
    return security_token_problem(required[-1] if required else None, table, signed)
