"""The request journal's entries: what a client sent and what it got, credentials reduced.

Written by the front door for every emulated operation (`GET /_mock/requests` reads them back).
"""

from __future__ import annotations

import time
from typing import Any

from mock_server.core.asgi import Scope
from mock_server.core.state import state_of
from mock_server.core.text import header_text, printable

# Request headers a journal entry keeps; credentials are reduced (see `_journal_headers`).
JOURNALED_HEADERS = ("x-app-userid", "content-type", "user-agent", "x-project-id", "x-sdk-date")


def journal_entry(
    scope: Scope, operation: str | None, status: int | None, seconds: float
) -> dict[str, Any]:
    """One entry of the journal: what the client sent and what it got (`status` None when it
    got no complete answer)."""
    state = state_of(scope)
    headers = _journal_headers(scope["headers"])
    query = "" if operation == "upload" else scope.get("query_string", b"").decode("latin-1")
    return {
        "time": time.time(),
        "method": scope["method"],
        "path": scope["path"],
        "query": query,
        "operation": operation,
        "job_id": state.job_id,
        "status": status,
        "error_code": state.error_code,
        "request_id": state.request_id or "",
        "headers": headers,
        "duration_ms": round(seconds * 1000, 3),
        # a refused signature's forensics (gateway or upload URL), else None; no secret in it
        "signature_check": state.signature_check,
    }


def _journal_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()  # names are tokens: ASCII (RFC 9110, 5.1)
        # UTF-8 (what clients send), anything else escaped: the journal is JSON and HTML, and
        # every byte a client sent must survive into both as valid UTF-8
        value = printable(header_text(value_bytes))
        if name in JOURNALED_HEADERS:
            headers[name] = value
        elif name == "authorization":
            # keep who signed, never the signature
            scheme, _, rest = value.partition(" ")
            access = rest.split(",")[0].strip() if "Access=" in rest else ""
            headers[name] = f"{scheme} {access}".strip()
        elif name == "x-auth-token":
            headers[name] = "present"
    return headers
