"""What the client unit tests share: the fake service's constants and bodies, fake time, the
sync/async surface, and small builders of real files. No server: respx answers."""

from __future__ import annotations

import asyncio
import inspect
import io
import wave
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx
from hypothesis import strategies as st

from short_jobs import (
    AsyncShortJobs,
    ShortJobs,
)
from short_jobs.signing import verify_request

BASE = "https://metastudio.example.test"


PROJECT = "proj-1"


AK, SK = "AKTEST", "sk-test"


TOKEN = "iam-token"


JOB = "job-1"


COLLECTION = f"{BASE}/v1/{PROJECT}/voice-training-manage/user/short-jobs"


ITEM = f"{COLLECTION}/{JOB}"


UPLOAD_URL = (
    "https://bucket.obs.example.test/voice/job-1.zip?AccessKeyId=X&Expires=9&Signature=a%3D"
)


CREATED = {"job_id": JOB, "data_uploading_url": UPLOAD_URL}


AUTH_HEADERS = ("authorization", "x-auth-token", "x-sdk-date", "x-project-id", "x-app-userid")


def job_body(state: str, **extra: Any) -> dict[str, Any]:
    return {"job_id": JOB, "state": state, "job_type": "VOICE_ASSESS", **extra}


def error_body(code: str, msg: str, request_id: str | None = None) -> dict[str, str]:
    body = {"error_code": code, "error_msg": msg}
    if request_id is not None:
        body["request_id"] = request_id
    return body


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Surface:
    """One facade, sync or async, driven through the same synchronous calls.

    Every test of the facade runs twice (the ``surface`` parameter): on ``ShortJobs`` and on
    ``AsyncShortJobs``, whose coroutines run on one event loop per test.
    """

    def __init__(self, facade: ShortJobs | AsyncShortJobs, loop: asyncio.AbstractEventLoop) -> None:
        object.__setattr__(self, "_facade", facade)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._facade, name)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._loop.run_until_complete(value(*args, **kwargs))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._facade, name, value)

    def __enter__(self) -> Surface:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Make = Callable[..., Surface]


def assert_signed(request: httpx.Request) -> None:
    """The request carries a valid SDK-HMAC-SHA256 signature for AK/SK and the project header."""
    ak = verify_request(
        request.method,
        request.url.raw_path.split(b"?")[0],
        request.url.query,
        list(request.headers.raw),
        request.content,
        {AK: SK}.get,
        datetime.now(UTC),
    )
    assert ak == AK
    assert request.headers["X-Project-Id"] == PROJECT


def stored_zip(path: Path, content: bytes) -> Path:
    """A real zip holding ``content`` uncompressed (uploads refuse what is not a zip)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("take.wav", content)
    return path


def write_wav(path: Path, seconds: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x01\x00" * int(16000 * seconds))
    return path


SECURITY_TOKEN = "gQtemporary-security-token"


INVISIBLE_CHARACTERS = st.sampled_from(
    ["\n", "\r\n", " ", "\t", "\u00a0", "\u200b", "\x7f", "é", "密"]
)


INVISIBLE = INVISIBLE_CHARACTERS


def recordings(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    write_wav(root / "a.wav")
    write_wav(root / "day2" / "b.WAV")
    write_wav(root / "day3" / "a.wav")  # same name, another folder: kept apart
    (root / "notes.txt").write_text("not audio")
    return root


def uploaded_names(route: respx.Route) -> list[str]:
    content = route.calls.last.request.content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.namelist()


def assess_routes(mock: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "create": mock.post(COLLECTION).respond(200, json=CREATED),
        "upload": mock.put(UPLOAD_URL).respond(200),
        "commit": mock.post(ITEM).respond(200),
        "show": mock.get(ITEM).mock(
            side_effect=[
                httpx.Response(200, json=job_body("PROCESSING")),
                httpx.Response(200, json=job_body("SUCCEED")),
            ]
        ),
    }
