"""A scripted stand-in for the service over real HTTP on 127.0.0.1, for forward-compatibility tests.

The mock server keeps the contract as it is today; this stub plays a *newer* service: each show
answers the next job of a script (states the client has never heard of, new job types, new
fields), so the tests prove every client surface keeps what it does not know. It accepts any
credentials and records every request it saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from helpers import StubServer

PROJECT = "stub-project"
JOB_ID = "26f06524-4f75-4b3a-a853-b649a21aaf66"
COLLECTION = f"/v1/{PROJECT}/voice-training-manage/user/short-jobs"
UPLOAD_PATH = "/bucket/recordings.zip"

UNKNOWN_STATE = "QUEUED_FOR_GPU"
UNKNOWN_JOB_TYPE = "VOICE_CLONE"
WALK = ("WAITING", UNKNOWN_STATE, "PROCESSING", "SUCCEED")
"""The states a newer service walks a job through: one this client has never heard of."""

RESULT: dict[str, Any] = {
    "speed": {
        "expected": "3-5",
        "actual": "4.1",
        "status": 0,
        "suggestion": "好",
        "suggestion_en": "ok",
    },
    "suggestion": "all good",
}


def job(state: str, job_type: str = "VOICE_ASSESS", **extra: Any) -> dict[str, Any]:
    """A ShowShortJob answer; a SUCCEED one carries an assessment and a field of the future."""
    body: dict[str, Any] = {"job_id": JOB_ID, "state": state, "job_type": job_type, **extra}
    if state == "SUCCEED":
        body.setdefault("assess_result", RESULT)
        body.setdefault("gpu_seconds", 1.5)
    return body


@dataclass
class Stub:
    """The running stub: its URL, the script of show answers, and the requests it saw."""

    url: str
    script: list[dict[str, Any]]
    requests: list[tuple[str, str]] = field(default_factory=list)
    shows: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_job(self) -> dict[str, Any]:
        with self.lock:
            answer = self.script[min(self.shows, len(self.script) - 1)]
            self.shows += 1
            return answer

    def states_seen(self) -> list[str]:
        return [str(entry["state"]) for entry in self.script[: self.shows]]


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest's output clean

        def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", "stub-request")
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)

        def _route(self) -> None:
            self._read_body()
            stub.requests.append((self.command, self.path))
            if self.command == "PUT" and self.path.startswith(UPLOAD_PATH):
                self._answer(200)
            elif self.command == "POST" and self.path == COLLECTION:
                upload = f"{stub.url}{UPLOAD_PATH}?AccessKeyId=stub&Expires=9999999999&Signature=x"
                self._answer(200, {"job_id": JOB_ID, "data_uploading_url": upload})
            elif self.command == "POST" and self.path == f"{COLLECTION}/{JOB_ID}":
                self._answer(200)
            elif self.command == "GET" and self.path == f"{COLLECTION}/{JOB_ID}":
                self._answer(200, stub.next_job())
            else:
                self._answer(404, {"error_code": "APIGW.0101", "error_msg": "no such API"})

        do_GET = do_POST = do_PUT = _route

    return Handler


@contextmanager
def running_stub(script: Sequence[dict[str, Any]] = tuple(job(s) for s in WALK)) -> Iterator[Stub]:
    """Serve ``script`` (one show answer after another, the last repeated) until the block ends."""
    server = StubServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = server.server_address[:2]
    stub = Stub(url=f"http://{host!s}:{port}", script=list(script))
    server.RequestHandlerClass = _handler(stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
