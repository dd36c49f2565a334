"""One request and its answer, as the conformance checks see them (plain data, no HTTP client)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx

__all__ = ["REQUEST_ID_HEADERS", "SEVERITY", "Exchange", "Finding", "most_serious_first"]

REQUEST_ID_HEADERS = ("X-Request-Id", "x-obs-request-id")
"""Where the service (and, for uploads, OBS) puts the id to quote to support."""


SEVERITY: dict[str, int] = {
    "status": 0,
    "status-declared": 0,
    "required-headers": 2,
}
"""How serious a check's finding is, 0 first: the status (a client branches on it), then the body
and the error code (schema, media type, code, every statement's own check: a client reads them),
then headers (``X-Request-Id``: what support needs, not what a client branches on). A check not
listed is a body one (1). Reports lead with the most serious finding and list every one."""
_BODY = 1


@dataclass(frozen=True)
class Finding:
    """One way an answer differs from a statement: which check, what it wanted, what came."""

    check: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.check}: expected {self.expected}, got {self.got}"

    @property
    def severity(self) -> int:
        """0 (status), 1 (body and code) or 2 (headers): :data:`SEVERITY`."""
        return SEVERITY.get(self.check, _BODY)


def most_serious_first(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """``findings`` by :attr:`Finding.severity`, in their checks' order within one severity."""
    return tuple(sorted(findings, key=lambda finding: finding.severity))


@dataclass(frozen=True)
class Exchange:
    """A request as sent (after signing) and the answer as received, body read in full."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    label: str = ""
    """The step that sent it (a statement id), shown in the HAR file's entry comment."""

    @classmethod
    def from_response(cls, response: httpx.Response, label: str = "") -> Exchange:
        return cls(
            method=response.request.method,
            url=str(response.request.url),
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            label=label,
        )

    @cached_property
    def parsed(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def json(self) -> Any:
        """See :attr:`parsed`."""
        return self.parsed

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, ``{}`` when it is anything else."""
        value = self.json()
        return value if isinstance(value, dict) else {}

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-case (RFC 9110 section 8.3.1)."""
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    @property
    def request_id(self) -> str | None:
        """The answer's request id: a header first, else the body's ``request_id``."""
        for name in REQUEST_ID_HEADERS:
            value: str | None = self.headers.get(name)
            if value:
                return value
        body_id = self.json_object().get("request_id")
        return body_id if isinstance(body_id, str) else None

    def summary(self) -> str:
        """``400 MSS.00000003``, ``200 SUCCEED`` (a job's state) or ``200``: the answer in brief."""
        body = self.json_object()
        for key in ("error_code", "state"):
            if isinstance(body.get(key), str):
                return f"{self.status} {body[key]}"
        return str(self.status)
