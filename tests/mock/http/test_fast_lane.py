"""The fast lane is an accelerator only: with it on and off, every request gets the same answer.

The whole corpus - the contract's requests, the bad inputs, and requests drawn from the front
door's fuzz strategies - goes through two apps that differ only in `fast_lane`, in-process. Status,
headers (but Date and X-Request-Id) and body must be equal (the request id in a body is masked).
Job ids and times are made deterministic so that the two apps' creates answer the same bytes.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from asgi import Answer, call
from front_door_strategies import PROJECT, requests
from hypothesis import HealthCheck, given, settings

from mock_server.app import Frontdoor, create_app
from mock_server.core.config import Settings
from short_jobs.signing import format_sdk_date, sign_request

BASE = f"/v1/{PROJECT}/voice-training-manage/user/short-jobs"
TOKEN = (b"x-auth-token", Settings().token.encode())
JSON_TYPE = (b"content-type", b"application/json")
Request = tuple[str, bytes, list[tuple[bytes, bytes]], list[bytes]]


class _Twins:
    """Two apps, fast lane on and off, each with its own store, fed identical sequences."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.apps: list[Frontdoor] = []
        for name, fast in (("on", True), ("off", False)):
            app = create_app(
                Settings(
                    data_dir=root / name, project_id=PROJECT, validate_responses=True
                ).with_overrides(fast_lane=fast)
            )
            assert isinstance(app, Frontdoor)
            self.apps.append(app)
        self._counters = [itertools.count(1), itertools.count(1)]
        self._current = 0
        fake_uuid = SimpleNamespace(
            uuid4=lambda: uuid.UUID(int=next(self._counters[self._current]))
        )
        monkeypatch.setattr("mock_server.service.handlers.uuid", fake_uuid)
        # one instant for both apps: an upload URL's Expires is the clock's second plus its TTL
        # (the service reads the clock through mock_server.core.clock; a patch of the handlers'
        # own `time` left the two apps a second apart now and then, and their URLs differed)
        frozen = float(int(time.time()))  # now, so that signed requests' X-Sdk-Date holds
        monkeypatch.setattr("mock_server.core.clock.time", SimpleNamespace(time=lambda: frozen))

    def answers(self, request: Request) -> tuple[Answer, Answer]:
        method, target, headers, chunks = request
        results = []
        for index, app in enumerate(self.apps):
            self._current = index
            results.append(call(app, method, target, headers, chunks))
        return results[0], results[1]

    def close(self) -> None:
        for app in self.apps:
            app.service.store.close()


@pytest.fixture
def twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Twins]:
    made = _Twins(tmp_path, monkeypatch)
    yield made
    made.close()


def _comparable(answer: Answer) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    rid = answer.header("x-request-id") or ""
    headers = sorted(
        (name.lower(), value.replace(rid.encode(), b"RID") if rid else value)
        for name, value in answer.headers
        if name.lower() not in (b"date", b"x-request-id")
    )
    body = answer.body.replace(rid.encode(), b"RID") if rid else answer.body
    return answer.status, headers, body


def assert_same(twins: _Twins, request: Request) -> Answer:
    on, off = twins.answers(request)
    assert _comparable(on) == _comparable(off), request
    return on


def _signed(method: str, path: str, body: bytes = b"", **extra: str) -> list[tuple[bytes, bytes]]:
    settings = Settings()
    headers = {
        "Content-Type": "application/json",
        "Host": "127.0.0.1:8000",
        "X-Project-Id": PROJECT,
    }
    headers.update(extra)
    headers.update(sign_request(method, path, headers, body, settings.ak, settings.sk))
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


CREATE = b'{"job_type": "VOICE_ASSESS"}'


def create_first_job(twins: _Twins) -> str:
    """Create a job in both apps (the same id in each); its id."""
    request: Request = ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [CREATE])
    job_id: str = json.loads(assert_same(twins, request).body)["job_id"]
    return job_id


def corpus(job_id: str) -> list[Request]:
    """The contract's requests, the bad inputs of tests/mock/core/test_mock_errors.py and the
    issue's."""
    show_1 = f"{BASE}/{job_id}"
    date = format_sdk_date(datetime.now(UTC)).encode()
    requests_: list[Request] = [
        # the contract: create (token, AK/SK, chunked, media type with parameters), show, commit
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE, (b"host", b"127.0.0.1:8000")], [CREATE]),
        (
            "POST",
            BASE.encode(),
            [*_signed("POST", BASE, CREATE), (b"content-length", b"28")],
            [CREATE],
        ),
        (
            "POST",
            BASE.encode(),
            [TOKEN, JSON_TYPE, (b"transfer-encoding", b"chunked")],
            [CREATE[:5], CREATE[5:]],
        ),
        (
            "POST",
            BASE.encode(),
            [TOKEN, (b"content-type", b"Application/JSON ; charset=UTF-8")],
            [CREATE],
        ),
        (
            "POST",
            BASE.encode(),
            [TOKEN, JSON_TYPE],
            [b'{"job_type": "VOICE_ASSESS", "language": "EN"}'],
        ),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE, (b"x-app-userid", b"user-001")], [CREATE]),
        ("GET", show_1.encode(), [TOKEN], []),
        ("GET", show_1.encode(), [TOKEN, JSON_TYPE], []),
        ("GET", show_1.encode(), _signed("GET", show_1), []),
        ("GET", show_1.encode(), [TOKEN, (b"content-type", b"text/plain")], [b"hello"]),
        ("GET", show_1.encode(), [TOKEN, (b"x-app-userid", b"user-001")], []),
        ("POST", show_1.encode(), [TOKEN, JSON_TYPE], []),
        ("GET", show_1.encode(), [TOKEN], []),
        # bad inputs: bodies
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"job_type": "VOICE_CLONE"}']),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"language": "CN"}']),
        (
            "POST",
            BASE.encode(),
            [TOKEN, JSON_TYPE],
            [b'{"job_type": "VOICE_ASSESS", "language": "FR"}'],
        ),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"job_type": 1']),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b"\xff\xfe"]),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b"[]"]),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b"null"]),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b""]),
        ("POST", BASE.encode(), [TOKEN], [CREATE]),
        ("POST", BASE.encode(), [TOKEN, (b"content-type", b"text/plain")], [CREATE]),
        ("POST", BASE.encode(), [TOKEN, (b"content-type", b"application/json garbage")], [CREATE]),
        (
            "POST",
            BASE.encode(),
            [TOKEN, JSON_TYPE],
            [b'{"job_type":"VOICE_ASSESS","n":' + b"1" * 5000 + b"}"],
        ),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"job_type":"VOICE_ASSESS","n":NaN}']),
        (
            "POST",
            BASE.encode(),
            [TOKEN, JSON_TYPE],
            [b'{"job_type":"VOICE_ASSESS","job_type":"VOICE_ASSESS"}'],
        ),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b"\xef\xbb\xbf" + CREATE]),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"job_type":"\\ud800"}']),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"a":' * 2000 + b"1" + b"}" * 2000]),
        *[
            (
                "POST",
                BASE.encode(),
                [TOKEN, JSON_TYPE],
                [b'{"job_type":"VOICE_ASSESS","n":' + b"[" * n + b"]" * n + b"}"],
            )
            for n in (126, 127, 128, 490, 511)
        ],
        # bad inputs: parameters and query
        ("GET", show_1.encode(), [TOKEN, (b"x-app-userid", "用户".encode())], []),
        ("GET", show_1.encode(), [TOKEN, (b"x-app-userid", "café".encode())], []),
        ("GET", show_1.encode(), [TOKEN, (b"x-app-userid", b"has space")], []),
        ("GET", show_1.encode(), [TOKEN, (b"x-sdk-date", b"yesterday")], []),
        ("GET", show_1.encode() + b"?unexpected=1", [TOKEN], []),
        ("POST", BASE.encode() + b"?unexpected=1", [TOKEN, JSON_TYPE], [CREATE]),
        ("GET", f"{BASE}/{'x' * 65}".encode(), [TOKEN], []),
        ("GET", f"{BASE}/ghost".encode(), [TOKEN], []),
        ("GET", f"{BASE}/x%0AFORGED%1B%5B31m".encode(), [TOKEN], []),
        # bad inputs: the gateway
        ("GET", show_1.encode(), [], []),
        ("GET", show_1.encode(), [(b"x-auth-token", b"nope")], []),
        ("GET", show_1.encode(), [TOKEN, TOKEN], []),
        (
            "GET",
            show_1.encode(),
            [
                (
                    b"authorization",
                    "SDK-HMAC-SHA256 Access=é, SignedHeaders=host, Signature=ab".encode(),
                ),
                (b"x-sdk-date", date),
            ],
            [],
        ),
        ("GET", f"/v1/other/voice-training-manage/user/short-jobs/{job_id}".encode(), [TOKEN], []),
        ("GET", show_1.encode(), [TOKEN, (b"x-project-id", b"other")], []),
        ("GET", f"{show_1}/".encode(), [TOKEN], []),
        ("DELETE", show_1.encode(), [TOKEN], []),
        ("GET", BASE.encode(), [TOKEN], []),
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE, (b"content-length", b"99999999")], [CREATE]),
    ]
    return requests_


def test_the_corpus_gets_the_same_answers_with_the_fast_lane_on_and_off(twins: _Twins) -> None:
    job_id = create_first_job(twins)
    answers = [assert_same(twins, request) for request in corpus(job_id)]
    statuses = [answer.status for answer in answers]
    assert statuses[:13] == [200] * 11 + [400, 200], statuses  # commit before upload: 400
    assert json.loads(answers[6].body)["job_id"] == job_id
    assert twins.apps[0].fast is not None and twins.apps[1].fast is None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_fuzzed_requests_get_the_same_answers_with_the_fast_lane_on_and_off(
    twins: _Twins, request: Request
) -> None:
    assert_same(twins, request)


def test_the_fast_lane_answers_the_requests_it_exists_for(twins: _Twins) -> None:
    """Create and show, token or AK/SK, are answered by the fast lane; the rest is not."""
    fast = twins.apps[0].fast
    assert fast is not None
    job_id = create_first_job(twins)
    engaged: list[Request] = [
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [CREATE]),
        ("POST", BASE.encode(), [*_signed("POST", BASE, CREATE)], [CREATE]),
        ("GET", f"{BASE}/{job_id}".encode(), [TOKEN], []),
        ("GET", f"{BASE}/{job_id}".encode(), _signed("GET", f"{BASE}/{job_id}"), []),
    ]
    for request in engaged:
        before = fast.answered
        answer = twins.answers(request)[0]
        assert answer.status == 200 and fast.answered == before + 1, request
    passed_on: list[Request] = [
        ("POST", f"{BASE}/{job_id}".encode(), [TOKEN], []),  # commit
        ("GET", f"{BASE}/ghost".encode(), [TOKEN], []),  # refused by the handler
        ("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b"{}"]),  # refused by validation
    ]
    for request in passed_on:
        before = fast.answered
        twins.answers(request)
        assert fast.answered == before, request


def test_the_setting_turns_the_fast_lane_off(twins: _Twins, tmp_path: Path) -> None:
    off = Settings.from_environ({"SHORT_JOBS_MOCK_FAST_LANE": "false"})
    assert off.fast_lane is False and Settings().fast_lane is True
    assert twins.apps[1].fast is None
