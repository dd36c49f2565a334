"""The assessment as a person reads it: compact and honest at 80 columns and in a pipe.

Once-failing inputs: at 80 columns the table was ~72 lines and split words; piped it was 200
columns wide with hard-wrapped sentences; ``--language EN`` printed the Chinese advice; a metric
the service could not measure (``n/a``) was marked ok.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from mock_server.faces.inprocess import RunningMock
from short_jobs.cli import app
from short_jobs.report import METRICS, render_job, verdict
from short_jobs_client.models import AssessProperty, Language, ShowShortJobResponse

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

LONG_EXPECTED = "2.5 ~ 5.5 syllables/s (100 ~ 220 words/min)"
ADVICE_EN = (
    "The background noise is high: record in a quieter room, away from fans and traffic, "
    "and keep the microphone close to the speaker's mouth."
)


def metric(status: int, actual: str = "41.3 dB", **extra: Any) -> dict[str, Any]:
    return {
        "expected": LONG_EXPECTED,
        "actual": actual,
        "suggestion": "背景噪声较大,请在安静的房间录音。",
        "suggestion_en": ADVICE_EN if status else "OK.",
        "status": status,
        **extra,
    }


def detail(**metrics: dict[str, Any]) -> ShowShortJobResponse:
    result: dict[str, Any] = {key: metric(0) for key, _ in METRICS}
    result.update(metrics)
    result["suggestion"] = "3 file(s), 9.0 s in total: " + "one metric is out of range; " * 3
    return ShowShortJobResponse.from_dict(
        {
            "job_id": "26f06524-4f75-4b3a-a853-b649a21aaf66",
            "state": "SUCCEED",
            "assess_result": result,
        }
    )


def rendered(job: ShowShortJobResponse, language: Language, width: int) -> str:
    out = io.StringIO()
    render_job(job, Console(file=out, width=width, color_system=None), language)
    return out.getvalue()


def test_at_80_columns_the_report_is_compact_and_splits_no_word() -> None:
    text = rendered(detail(snr=metric(1, "12.0 dB"), reverb=metric(0, "n/a")), Language.EN, 80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= 25, text
    words = set(text.split())
    for word in [*LONG_EXPECTED.split(), *ADVICE_EN.split()]:
        assert word in words, f"{word!r} was split"


def test_english_advice_for_english_chinese_for_chinese() -> None:
    job = detail(snr=metric(1, "12.0 dB"))
    english = rendered(job, Language.EN, 80)
    assert "record in a quieter room" in " ".join(english.split())
    assert not CJK.search(english)
    chinese = rendered(job, Language.CN, 80)
    assert "背景噪声较大" in chinese


def test_advice_is_listed_only_for_metrics_that_need_attention() -> None:
    text = rendered(detail(snr=metric(1, "12.0 dB")), Language.EN, 10_000)
    advice = [line for line in text.splitlines() if line.startswith("- ")]
    assert advice == [f"- signal-to-noise: {ADVICE_EN}"]


@given(
    actual=st.sampled_from(["n/a", "N/A", "", " ", "-", "41.3 dB", "3.57"]),
    status=st.sampled_from([0, 1, 2]),
)
@example(actual="n/a", status=0)  # the trial's: not measured, marked ok
def test_ok_only_for_a_measured_value_within_range(actual: str, status: int) -> None:
    shown = verdict(AssessProperty(expected="x", actual=actual, status=status))
    measured = actual.strip().lower() not in {"", "n/a", "-"}
    assert (shown == "ok") == (measured and status == 0)
    if not measured:
        assert shown == "not measured"
    elif status not in (0, 1):
        assert shown == f"status {status}"  # a status this client does not know, as it is


def test_piped_output_keeps_sentences_whole_and_its_natural_width(
    mock: RunningMock, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "SHORT_JOBS_ENDPOINT": mock.url,
        "HUAWEICLOUD_SDK_PROJECT_ID": mock.project_id,
        "HUAWEICLOUD_SDK_TOKEN": mock.token,
        "COLUMNS": "80",
    }
    result = CliRunner().invoke(app, ["assess", str(recordings), "--language", "EN"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 20, result.stdout
    assert all(line == line.rstrip() for line in lines)  # no padding to a guessed width
    overall = [line for line in lines if line.startswith("overall: ")]
    assert len(overall) == 1 and overall[0].endswith(".")  # one sentence, one line
    assert not CJK.search(result.stdout)
    assert "DNSMOS background" in result.stdout
