# Chinese wording with its full-width punctuation, as the service writes it.
# ruff: noqa: RUF001
"""A canned job: committed, in any state after CREATING, with an outcome given by the test.

What `POST /_mock/jobs` (`short_jobs_mock.make_job`) makes in one call, without an upload or an
assessment: the most common thing a user's test needs ("a job in state X with result Y"). The
job belongs to the mock's one project, is pinned (progress `manual`), and its outcome is stored
with it, so no worker ever assesses it and shows answer exactly what the service would:

- SUCCEED shows `assess_result` (the test's, or `CANNED_RESULT`);
- a failure state (steering.FAILURE_STATES) shows `job_failed_code` and `job_failed_reason`
  (defaults as `set_state`'s: `steering.failure_outcome`);
- WAITING and PROCESSING show neither; their outcome is SUCCEED with `assess_result`, or FAILED
  with `job_failed_code` / `job_failed_reason` when those are given, reached with `advance`;
- any other state shows neither, and takes neither.
"""

from __future__ import annotations

from typing import Any

from mock_server.core.errors import ApiError, Codes
from mock_server.service import lifecycle, steering
from mock_server.service.store import Job, Outcome


def _ok(expected: str, actual: str, zh: str, en: str) -> dict[str, Any]:
    return {
        "expected": expected,
        "actual": actual,
        "suggestion": zh,
        "suggestion_en": en,
        "status": 0,
    }


# A plausible AssessResult with every value in range (the shape of openapi.yaml's AssessResult;
# the wording is the assessment's own for in-range values: mock_server/assessment/advice.py).
CANNED_RESULT: dict[str, Any] = {
    "speed": _ok(
        "2.5 ~ 5.5 syllables/s (150 ~ 330 characters/min)",
        "4.3 syllables/s (258 characters/min)",
        "语速正常。",
        "Speaking rate is OK.",
    ),
    "sound": _ok(
        "-26 ~ -16 LUFS, clipping <= 0.1%",
        "-21.7 LUFS",
        "音量适中，无削波。",
        "Loudness is OK, no clipping.",
    ),
    "snr": _ok(">= 25 dB", "42.0 dB", "信噪比良好。", "Signal-to-noise ratio is OK."),
    "reverb": _ok("<= 0.50 s", "0.10 s", "混响较小。", "Reverberation is OK."),
    "dnsmos_ovrl": _ok(
        "3.00 ~ 5.00", "3.41", "整体音质评分良好。", "Overall quality score (DNSMOS OVRL) is OK."
    ),
    "dnsmos_bak": _ok(
        "3.00 ~ 5.00", "3.86", "背景噪声评分良好。", "Background noise score (DNSMOS BAK) is OK."
    ),
    "suggestion": "canned result of the mock (short_jobs_mock.make_job): no recording was assessed",
}

# States whose outcome is reached later with `advance`: either a result or a failure may be given.
ENDED_BY_ADVANCE = frozenset({lifecycle.WAITING, lifecycle.PROCESSING})


def plan(job_id: str, project_id: str, body: dict[str, Any], now: float) -> tuple[Job, Outcome]:
    """The canned job `body` asks for (`state`, default SUCCEED; `assess_result`,
    `job_failed_code`, `job_failed_reason`, `language` default CN, `app_user_id`) and its outcome.

    Raises `ApiError` 400 MSS.00000002 for a state that is no JobState, CREATING, a field the
    state cannot show or reach, or both a result and a failure. `assess_result` is checked
    against the spec by the caller (the control plane's validator).
    """
    state = body.get("state", lifecycle.SUCCEED)
    fields = steering.fields_in(state)
    if fields is None or state == lifecycle.CREATING:
        raise ApiError(
            Codes.INVALID_BODY,
            f"state {state!r} is not a JobState after the upload: one of "
            + ", ".join(s for s in steering.job_states() if s != lifecycle.CREATING),
        )
    failure_given = sorted(k for k in ("job_failed_code", "job_failed_reason") if k in body)
    result_given = "assess_result" in body
    if failure_given and result_given:
        raise ApiError(Codes.INVALID_BODY, "give an assess_result or a failure, not both")
    reaches_both = state in ENDED_BY_ADVANCE
    if failure_given and not (fields.failure or reaches_both):
        raise ApiError(Codes.INVALID_BODY, f"{state} shows no {', '.join(failure_given)}")
    if result_given and not (fields.result or reaches_both):
        raise ApiError(Codes.INVALID_BODY, f"{state} shows no assess_result")
    if fields.failure or failure_given:
        outcome = steering.failure_outcome(state if fields.failure else lifecycle.FAILED, body)
    else:
        outcome = Outcome(
            state=lifecycle.SUCCEED, assess_result=body.get("assess_result", CANNED_RESULT)
        )
    user = body.get("app_user_id")
    job = Job(
        job_id=job_id,
        project_id=project_id,
        job_type="VOICE_ASSESS",
        language=body.get("language", "CN"),
        app_user_id=user,
        state=state,
        create_time=int(now),
        lastupdate_time=int(now),
        progress=lifecycle.MANUAL,
        committed_at=now,
        processing_seconds=0.0,
    )
    return job, outcome
