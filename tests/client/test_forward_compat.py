"""Forward compatibility: a newer service (new states, job types, fields) never breaks a client.

Every enum of the generated client keeps a value it does not know (custom generator templates in
``generator-templates/``); the facade's ``wait`` keeps polling through an unknown state; the CLI
shows and emits the raw value. The newer service is ``tests/stub_service.py``, over real HTTP.
"""

from __future__ import annotations

import enum
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stub_service import (
    JOB_ID,
    PROJECT,
    UNKNOWN_JOB_TYPE,
    UNKNOWN_STATE,
    WALK,
    job,
    running_stub,
)

import short_jobs_client.models as models
from mock_server.samples import speech_like_wav
from short_jobs import AsyncShortJobs, JobFailedError, ShortJobs, WaitTimeoutError
from short_jobs_client import Client
from short_jobs_client.api.short_jobs import show_short_job
from short_jobs_client.models import JobState, ShortJobType, ShowShortJobResponse

GENERATED_ENUMS = [
    cls for _, cls in inspect.getmembers(models, inspect.isclass) if issubclass(cls, enum.Enum)
]


def test_every_generated_enum_is_found() -> None:
    assert {cls.__name__ for cls in GENERATED_ENUMS} >= {"JobState", "Language", "ShortJobType"}


@pytest.mark.parametrize("cls", GENERATED_ENUMS, ids=lambda cls: cls.__name__)
@given(raw=st.text())
@example(raw=UNKNOWN_STATE)
@example(raw="")
@example(raw="succeed")  # case matters: not the listed SUCCEED
def test_an_unknown_value_is_kept_raw(cls: type[enum.StrEnum], raw: str) -> None:
    value = cls(raw)
    assert isinstance(value, cls)  # typed as the enum, whatever the service sent
    assert value.value == raw and str(value) == raw and value == raw
    assert getattr(value, "is_known") is (raw in {m.value for m in cls})  # noqa: B009
    assert json.loads(json.dumps({"v": value})) == {"v": raw}


@pytest.mark.parametrize("cls", GENERATED_ENUMS, ids=lambda cls: cls.__name__)
def test_listed_values_are_the_members_themselves(cls: type[enum.StrEnum]) -> None:
    for member in cls:
        assert cls(member.value) is member
        assert getattr(member, "is_known") is True  # noqa: B009


@pytest.mark.parametrize("cls", GENERATED_ENUMS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("raw", [1, None, 2.5, ["A"]])
def test_a_value_of_the_wrong_type_is_still_refused(cls: type[enum.StrEnum], raw: Any) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        cls(raw)


def test_a_newer_answer_parses_and_round_trips() -> None:
    body = job(UNKNOWN_STATE, UNKNOWN_JOB_TYPE, queue_position=3)
    parsed = ShowShortJobResponse.from_dict(body)
    assert parsed.state == UNKNOWN_STATE and not parsed.state.is_known
    assert isinstance(parsed.job_type, ShortJobType) and parsed.job_type.value == UNKNOWN_JOB_TYPE
    assert parsed.additional_properties == {"queue_position": 3}
    assert parsed.to_dict() == body


# --- the generated client against a newer service over HTTP ----------------------------------


def test_generated_client_walks_through_an_unknown_state() -> None:
    script = [job(state, UNKNOWN_JOB_TYPE) for state in WALK]
    with running_stub(script) as stub, Client(base_url=stub.url) as client:
        seen = [show_short_job.sync(PROJECT, JOB_ID, client=client) for _ in WALK]
    states = []
    for detail in seen:
        assert isinstance(detail, ShowShortJobResponse)
        assert detail.job_type == UNKNOWN_JOB_TYPE
        states.append(detail.state.value)
    assert states == list(WALK)
    assert [d.state.is_known for d in seen if isinstance(d, ShowShortJobResponse)] == [
        True,
        False,
        True,
        True,
    ]
    last = seen[-1]
    assert isinstance(last, ShowShortJobResponse) and last.state is JobState.SUCCEED
    assert last.additional_properties == {"gpu_seconds": 1.5}


# --- the facade, sync and async, against a newer service over HTTP ---------------------------


def _no_sleep(_seconds: float) -> None:
    pass


async def _ano_sleep(_seconds: float) -> None:
    pass


def test_sync_facade_waits_through_an_unknown_state(tmp_path: Path) -> None:
    wav = speech_like_wav(tmp_path / "take.wav", seconds=1.0)
    script = [job(state, UNKNOWN_JOB_TYPE) for state in WALK]
    seen: list[str] = []
    with (
        running_stub(script) as stub,
        ShortJobs(stub.url, project_id=PROJECT, token="t", sleep=_no_sleep) as sj,
    ):
        detail = sj.assess(wav, on_poll=lambda d: seen.append(d.state.value))
    assert seen == list(WALK)
    assert detail.state is JobState.SUCCEED
    assert detail.job_type == UNKNOWN_JOB_TYPE and not detail.job_type.is_known
    assert detail.additional_properties == {"gpu_seconds": 1.5}


async def test_async_facade_waits_through_an_unknown_state(tmp_path: Path) -> None:
    wav = speech_like_wav(tmp_path / "take.wav", seconds=1.0)
    script = [job(state, UNKNOWN_JOB_TYPE) for state in WALK]
    seen: list[str] = []
    with running_stub(script) as stub:
        async with AsyncShortJobs(stub.url, project_id=PROJECT, token="t", sleep=_ano_sleep) as sj:
            detail = await sj.assess(wav, on_poll=lambda d: seen.append(d.state.value))
            shown = await sj.show(JOB_ID)
    assert seen == list(WALK)
    assert detail.state is JobState.SUCCEED and shown.state is JobState.SUCCEED
    assert detail.job_type == UNKNOWN_JOB_TYPE


def test_an_unknown_state_is_shown_raw_in_a_timeout() -> None:
    with (
        running_stub([job(UNKNOWN_STATE)]) as stub,
        ShortJobs(stub.url, project_id=PROJECT, token="t", sleep=_no_sleep) as sj,
        pytest.raises(WaitTimeoutError, match=f"still {UNKNOWN_STATE}"),
    ):
        sj.wait(JOB_ID, timeout=0)


FAILURE_STATES = ("FAILED", "SPLIT_FAILED", "AUDIT_FAILED", "USER_REVIEW_REJECT")


@pytest.mark.parametrize("state", FAILURE_STATES)
def test_every_failure_state_ends_wait_at_once(state: str) -> None:
    failed = job(state, job_failed_code="MSS.29999999", job_failed_reason="rejected")
    with (
        running_stub([job("WAITING"), failed, job("SUCCEED")]) as stub,
        ShortJobs(stub.url, project_id=PROJECT, token="t", sleep=_no_sleep) as sj,
        pytest.raises(JobFailedError, match=r"MSS\.29999999: rejected") as raised,
    ):
        sj.wait(JOB_ID, timeout=60)
    assert raised.value.job.state.value == state
    assert stub.states_seen() == ["WAITING", state]


@pytest.mark.parametrize("state", FAILURE_STATES)
async def test_every_failure_state_ends_async_wait_at_once(state: str) -> None:
    with running_stub([job(state), job("SUCCEED")]) as stub:
        async with AsyncShortJobs(stub.url, project_id=PROJECT, token="t", sleep=_ano_sleep) as sj:
            with pytest.raises(JobFailedError):
                await sj.wait(JOB_ID, timeout=60)
    assert stub.states_seen() == [state]
