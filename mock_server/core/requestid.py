"""The request id: made here, and only here (the API, the upload endpoint, IAM's trace id).

Every answer carries it as `X-Request-Id` (IAM's also as `X-IAM-Trace-Id`); error bodies of the
gateway repeat it as `request_id`; the journal and the access log record it.
"""

from __future__ import annotations

import random

from mock_server.core.asgi import Message, Scope, Send
from mock_server.core.errors import REQUEST_ID_HEADER
from mock_server.core.state import state_of

__all__ = ["request_id", "with_header", "with_request_id"]


def request_id(scope: Scope) -> str:
    """The request's id (32 hex digits), made on first ask and kept in its `RequestState`.
    Unique, not secret: the process's PRNG (no system call per request, unlike uuid4)."""
    state = state_of(scope)
    made = state.request_id
    if made is None:
        made = state.request_id = f"{random.getrandbits(128):032x}"
    return made


def with_request_id(scope: Scope, send: Send) -> Send:
    """`send`, adding X-Request-Id to the answer unless it is there already."""
    return with_header(send, REQUEST_ID_HEADER, request_id(scope))


def with_header(send: Send, name: str, value: str) -> Send:
    """`send`, adding the header `name: value` to the answer unless it is there already (the
    request id, and IAM's trace id, which is the same value)."""
    header = (name.lower().encode(), value.encode())

    async def send_with_header(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(key.lower() == header[0] for key, _ in headers):
                headers.append(header)
            message = {**message, "headers": headers}
        await send(message)

    return send_with_header
