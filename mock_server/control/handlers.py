"""The control plane (`/_mock/...`, described by `control.yaml`): switches for tests.

Its state (journal, faults, default progress) lives in the same SQLite store as the jobs, so every
worker process sees the same switches. It is served only with `--control`; without it the paths
do not exist (404 APIGW.0101), and nothing here costs the emulated API anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextvars import ContextVar
from functools import cache
from typing import Any

import jsonschema
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.core.errors import ApiError, Codes, ObsCodes, ObsError, custom, render, render_obs
from mock_server.core.spec import spec_document
from mock_server.core.text import header_text, printable
from mock_server.service import lifecycle, steering
from mock_server.service.handlers import Service
from mock_server.service.store import Job, Outcome

# Request headers a journal entry keeps; credentials are reduced (see `_journal_headers`).
JOURNALED_HEADERS = ("x-app-userid", "content-type", "user-agent", "x-project-id", "x-sdk-date")


class Control:
    """Handlers of `control.yaml`, found by operationId like the service's."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.store = service.store

    async def reset(self) -> dict[str, int]:
        removed = self.store.reset()
        self.service.uploads.reset()
        return {"jobs_removed": removed}

    async def list_requests(
        self,
        operation: str | None = None,
        method: str | None = None,
        status: int | None = None,
        path_contains: str | None = None,
        job_id: str | None = None,
        since_id: int = 0,
        limit: int = 1000,
    ) -> dict[str, list[dict[str, Any]]]:
        wanted = {"operation": operation, "status": status, "job_id": job_id}
        entries = [
            entry
            for entry in self.store.journal(since_id)
            if all(value is None or entry.get(key) == value for key, value in wanted.items())
            and (method is None or entry["method"] == method.upper())
            and (path_contains is None or path_contains in entry["path"])
        ]
        return {"requests": entries[:limit]}

    async def clear_requests(self) -> Response:
        self.store.journal_clear()
        return Response(status_code=204)

    async def list_faults(self) -> dict[str, list[dict[str, Any]]]:
        return {"faults": self.store.faults()}

    async def add_fault(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        spec = {"times": 1, **body}
        if "status" in spec and "error_code" not in spec and "upload" not in spec:
            raise ApiError(Codes.INVALID_BODY, "a fault with a status needs an error_code")
        if "upload" in spec and spec.get("operation", "upload") != "upload":
            raise ApiError(Codes.INVALID_BODY, "an upload fault applies to operation 'upload'")
        if not ({"status", "latency_ms", "upload"} & set(spec)):
            raise ApiError(Codes.INVALID_BODY, "a fault needs a status, latency_ms or upload")
        return self.store.add_fault(spec), 201

    async def clear_faults(self) -> Response:
        self.store.clear_faults()
        return Response(status_code=204)

    async def get_progress(self) -> dict[str, str]:
        return {"mode": self.default_progress()}

    async def set_progress(self, body: dict[str, str]) -> dict[str, str]:
        self.store.put_setting(lifecycle.PROGRESS_SETTING, body["mode"])
        return {"mode": body["mode"]}

    async def set_job_progress(self, job_id: str, body: dict[str, str]) -> dict[str, Any]:
        job = self._job(job_id)
        self.store.set_progress(job.job_id, body["mode"])
        return self._show(job.job_id)

    async def advance_job(self, job_id: str) -> dict[str, Any]:
        job = self.service.settle(self._job(job_id), time.time())
        if job.state == lifecycle.PROCESSING and job.outcome is None:
            await self.service.assess_now(job)
            job = self._job(job_id)
        after = lifecycle.step(job, time.time())
        if after is None:
            raise ApiError(
                Codes.INVALID_PARAMETER,
                f"job {job_id} cannot advance from {job.state}"
                + (" (commit it first)" if job.state == lifecycle.CREATING else ""),
            )
        if not self.store.transition(job, after):
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} changed meanwhile; try again")
        return self._show(job_id)

    async def fail_job(self, job_id: str, body: dict[str, str]) -> dict[str, Any]:
        outcome = Outcome(
            state=lifecycle.FAILED,
            failed_code=body["job_failed_code"],
            failed_reason=body["job_failed_reason"],
        )
        self.store.force(self._job(job_id), outcome, time.time())
        return self._show(job_id)

    async def succeed_job(self, job_id: str, body: Any = None) -> dict[str, Any]:
        job = self._job(job_id)
        result = _optional_object(body).get("assess_result")
        if result is None:
            if not self.service.uploads.has(job.job_id):
                raise ApiError(
                    Codes.INVALID_PARAMETER,
                    f"job {job_id} has no upload to assess: give an assess_result",
                )
            outcome = await self.service.assess(job)
            if outcome.state != lifecycle.SUCCEED:
                raise ApiError(
                    Codes.INVALID_PARAMETER,
                    f"job {job_id}'s upload cannot be assessed: {outcome.failed_reason}",
                )
        else:
            _check_assess_result(result)
            outcome = Outcome(state=lifecycle.SUCCEED, assess_result=result)
        self.store.force(job, outcome, time.time())
        return self._show(job_id)

    async def set_job_state(self, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Put a job in any JobState, with the fields the service shows in it (steering.py)."""
        job = self._job(job_id)
        steering.check_fields(body["state"], body)
        if body["state"] == lifecycle.SUCCEED:
            await self.succeed_job(job_id, body)  # checks, or computes, the assess_result
            self.store.set_progress(job.job_id, lifecycle.MANUAL)
        else:
            steering.set_state(self.store, job, body["state"], body, time.time())
        return self._show(job_id)

    # -- helpers --------------------------------------------------------------------------------

    def default_progress(self) -> str:
        return self.service.default_progress()

    def _job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} does not exist")
        return job

    def _show(self, job_id: str) -> dict[str, Any]:
        return self.service.settle(self._job(job_id), time.time()).to_api()


def _optional_object(body: Any) -> dict[str, Any]:
    """An optional JSON object body as connexion hands it over: parsed when the request said
    `Content-Type: application/json`, raw bytes when it sent no Content-Type (connexion then
    leaves the body alone), the spec's default `{}` when there was no body at all."""
    if isinstance(body, bytes | bytearray | str):
        try:
            body = json.loads(body) if body.strip() else {}
        except ValueError as error:
            raise ApiError(Codes.BODY_NOT_JSON, str(error)) from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(Codes.INVALID_BODY, f"the body must be a JSON object, not {body!r:.40}")
    return body


@cache
def _assess_result_validator() -> jsonschema.Draft4Validator:
    """AssessResult as `openapi.yaml` defines it: the one description of the shape."""
    schemas = spec_document()["components"]["schemas"]
    schema = {**schemas["AssessResult"], "components": {"schemas": schemas}}
    return jsonschema.Draft4Validator(schema)


def _check_assess_result(result: Any) -> None:
    errors = sorted(_assess_result_validator().iter_errors(result), key=str)
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path) or "assess_result"
        raise ApiError(
            Codes.INVALID_BODY,
            f"assess_result is not an AssessResult: {where}: {errors[0].message}",
        )


# -- faults and the journal, applied by the front door ------------------------------------------


async def apply_fault(
    fault: dict[str, Any], operation: str, scope: Scope, receive: Receive, send: Send
) -> bool:
    """Carry out an armed fault; True if it answered the request (the real handler must not)."""
    if fault.get("latency_ms"):
        await asyncio.sleep(fault["latency_ms"] / 1000)
    request_id = scope["state"]["request_id"]
    if operation == "upload":
        if fault.get("upload") == "cut":
            await _cut_off(scope, receive, send)
            return True
        if "status" in fault or fault.get("upload") == "fail":
            code = ObsCodes.by_code(
                fault.get("status", ObsCodes.INTERNAL.status),
                fault.get("error_code", ObsCodes.INTERNAL.code),
            )
            scope["state"]["error_code"] = code.code
            message = fault.get("error_msg", "Injected fault")
            await render_obs(ObsError(code, message), request_id)(scope, receive, send)
            return True
        return False
    if "status" not in fault:
        return False
    error = _injected_error(fault)
    scope["state"]["error_code"] = error.code.code
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
    scope["state"]["error_code"] = CUT
    scope["state"]["answer_cut"] = True
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
# connection: that is the cut. Checked by tests/test_mock_control.py, which fails if it changes.
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


def journal_entry(
    scope: Scope, operation: str | None, status: int | None, seconds: float
) -> dict[str, Any]:
    """One entry of the journal: what the client sent and what it got (`status` None when it
    got no complete answer)."""
    state = scope.get("state", {})
    headers = _journal_headers(scope["headers"])
    query = "" if operation == "upload" else scope.get("query_string", b"").decode("latin-1")
    return {
        "time": time.time(),
        "method": scope["method"],
        "path": scope["path"],
        "query": query,
        "operation": operation,
        "job_id": state.get("job_id"),
        "status": status,
        "error_code": state.get("error_code"),
        "request_id": state.get("request_id", ""),
        "headers": headers,
        "duration_ms": round(seconds * 1000, 3),
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
