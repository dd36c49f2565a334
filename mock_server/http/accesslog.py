"""The access log: one line per request, always, with every client-controlled field escaped.

    client "METHOD target" status error_code duration rid=request-id

The method, the target (decoded path and query) and the client address come from the client;
`text.escape` writes their non-printable characters (CR, LF, ESC...), `"` and `\\` as escapes,
so a request cannot split its line, forge another or colour a terminal.
"""

from __future__ import annotations

import logging

from mock_server.core.asgi import Scope
from mock_server.core.state import state_of
from mock_server.core.text import escape, header_text

access_log = logging.getLogger("mock_server.access")


def log_request(
    scope: Scope, status: int | None, seconds: float, *, hide_query: bool = False
) -> None:
    """Write the request's line; `status` None (shown `-`) when the client got no complete
    answer. `hide_query` leaves the query out (an upload URL's signature)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    state = state_of(scope)
    client = scope.get("client") or ("-", 0)
    query = header_text(scope.get("query_string", b""))
    target = scope["path"] + ("?" + query if query and not hide_query else "")
    access_log.info(
        '%s "%s %s" %s %s %.1fms rid=%s',
        escape(str(client[0])),
        escape(scope["method"]),
        escape(target),
        "-" if status is None else status,
        escape(state.error_code or "-"),
        seconds * 1000,
        state.request_id or "-",
    )
