"""`short-jobs-mock assess`'s per-file report: every name and every metric stays whole and
readable at any width from 40 columns (80 is the usual terminal), whatever the names."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from mock_server.assessment.result import METRIC_NAMES
from mock_server.faces.assess_cli import _print
from short_jobs.terminal import clean


def metric(actual: str, status: int) -> dict[str, Any]:
    return {
        "expected": "x",
        "actual": actual,
        "suggestion": "好",
        "suggestion_en": "ok",
        "status": status,
    }


def answer(names: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {n: metric("-21.7 LUFS", 0) for n in METRIC_NAMES}
    result["snr"] = metric("12.3 dB", 1)
    result["suggestion"] = "2 file(s), 4.0 s in total."
    files: list[dict[str, Any]] = [
        {"name": name, "seconds": 2.0, "sample_rate": 16000, "assess_result": result}
        for name in names
    ]
    files.append(
        {"name": "silent.wav", "seconds": 1.0, "sample_rate": 16000, "no_speech": "digital silence"}
    )
    return {"state": "SUCCEED", "assess_result": result, "files": files}


def render(data: dict[str, Any], width: int) -> str:
    console = Console(width=width, color_system=None, emoji=False, record=False)
    with console.capture() as captured:
        _print(data, console, "EN")
    return captured.get()


def squeezed(text: str) -> str:
    return "".join(text.split())


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=120).map(lambda s: s + ".wav")


@settings(deadline=None)
@given(st.lists(names, min_size=1, max_size=3, unique=True), st.integers(40, 200))
@example(["recordings/session-2024-05-01/take_001_final.wav"], 80)
def test_names_and_metrics_stay_readable(file_names: list[str], width: int) -> None:
    text = render(answer(file_names), width)
    block = text.split("Each file on its own:")[1]
    assert all(cell_len(line) <= width for line in text.splitlines())
    for name in file_names:
        assert squeezed(clean(name)) in squeezed(block)
    # each metric's reading is on a line of its own, whole
    for line in ("  sound        -21.7 LUFS", "  snr          12.3 dB  (out of range)"):
        assert block.count(line + "\n") == len(file_names)
    assert "silent.wav" in block and "digital silence" in block


def test_a_long_name_at_80_columns_is_not_cut() -> None:
    name = "recordings/session-2024-05-01/take_001_final.wav"
    text = render(answer([name]), 80)
    assert f"\n{name}\n" in text
