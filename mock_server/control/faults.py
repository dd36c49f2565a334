"""Armed faults, carried out by the front door before a request reaches its handler: an error
answer (the service's JSON, or OBS XML on the upload path), added latency, or an upload cut off
mid-answer."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from mock_server.core.asgi import Receive, Scope, Send
from mock_server.core.errors import ApiError, Codes, custom, render
from mock_server.core.state import state_of
from mock_server.obs.errors import ObsCodes, ObsError, render_obs


async def apply_fault(
    fault: dict[str, Any], operation: str, scope: Scope, receive: Receive, send: Send
) -> bool:
    """Carry out an armed fault; True if it answered the request (the real handler must not)."""
    if fault.get("latency_ms"):
        await asyncio.sleep(fault["latency_ms"] / 1000)
    request_id = state_of(scope).request_id or ""
    if operation == "upload":
        if fault.get("upload") == "cut":
            state_of(scope).fault = True
            await _cut_off(scope, receive, send)
            return True
        if "status" in fault or fault.get("upload") == "fail":
            code = ObsCodes.by_code(
                fault.get("status", ObsCodes.INTERNAL.status),
                fault.get("error_code", ObsCodes.INTERNAL.code),
            )
            state_of(scope).error_code = code.code
            state_of(scope).fault = True
            message = fault.get("error_msg", "Injected fault")
            await render_obs(ObsError(code, message), request_id)(scope, receive, send)
            return True
        return False
    if "status" not in fault:
        return False
    error = _injected_error(fault)
    state_of(scope).error_code = error.code.code
    state_of(scope).fault = True
    await render(error, request_id)(scope, receive, send)
    return True


def _injected_error(fault: dict[str, Any]) -> ApiError:
    status, code = fault["status"], fault["error_code"]
    known = Codes.by_code(status, code)
    row = known or custom(status, code, fault.get("error_msg", "Injected fault"))
    headers = {}
    if fault.get("retry_after") is not None:
        headers["Retry-After"] = str(fault["retry_after"])
    error = ApiError(row, None, headers=headers)
    if known is not None and fault.get("error_msg"):
        error.message = fault["error_msg"]
    return error


async def _cut_off(scope: Scope, receive: Receive, send: Send) -> None:
    """Read some of the body, store nothing, and break the answer off mid-way.

    The client gets a status line and part of a body, then the connection closes: to it, the
    upload has no answer (httpx: RemoteProtocolError), and the journal records none (status
    null, error_code `cut`). It is a fault asked for, not a failure of the server: nothing is
    logged as an error (see `_CutFilter`).
    """
    message = await receive()
    del message
    state = state_of(scope)
    state.error_code = CUT
    state.answer_cut = True
    _cutting.set(True)
    _install_cut_filter()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"1024")],
        }
    )
    # more_body=True, then return: the server closes the connection on an unfinished answer
    await send({"type": "http.response.body", "body": b"<", "more_body": True})


CUT = "cut"
# Set in the request's task when it was cut on purpose; the server logs from that same task.
_cutting: ContextVar[bool] = ContextVar("short_jobs_mock_cutting", default=False)
# What uvicorn logs (at ERROR) when an app returns with its answer unfinished, then closes the
# connection: that is the cut. Its canary (tests/mock/http/test_framework_hooks.py) fails if it
# changes.
UNFINISHED_ANSWER = "ASGI callable returned without completing response."


class _CutFilter(logging.Filter):
    """Drops uvicorn's 'unfinished answer' error for an answer this module cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_cutting.get() and record.getMessage() == UNFINISHED_ANSWER)


_CUT_FILTER = _CutFilter()


def _install_cut_filter() -> None:
    server_log = logging.getLogger("uvicorn.error")
    if _CUT_FILTER not in server_log.filters:
        server_log.addFilter(_CUT_FILTER)
