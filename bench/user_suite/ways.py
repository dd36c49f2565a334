"""What each way to drive a job to SUCCEED costs a test, through the fixture's handle: median ms
over `--repeat` jobs in one session (the model warm, the take's windows scored once before).

    .venv/bin/python bench/user_suite/ways.py

Each way starts from a reset mock, as every test does (the reset is included):
- `make_job`: one call (no upload, no assessment), then one show;
- `set_state`: create, then `set_state(SUCCEED, assess_result=...)`, then one show;
- `polls:2`: create, upload a 4 s take, commit, 5 shows (the 5th waits for the assessment);
- `manual`: the same upload and commit, `advance` twice (the second waits for it), one show;
- `timed`: the same upload and commit with 0 processing seconds, `wait` polling every 0.05 s.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mock_server.faces.fixture import MockHandle
from mock_server.faces.inprocess import running_mock
from mock_server.samples import sample_zip

PROPERTY = {"expected": "x", "actual": "y", "suggestion": "", "suggestion_en": "", "status": 0}
RESULT: dict[str, Any] = {
    **dict.fromkeys(("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak"), PROPERTY),
    "suggestion": "canned",
}


def ways(m: MockHandle, take: Path) -> dict[str, Callable[[], str]]:
    sj = m.client

    def committed() -> str:
        job = sj.create()
        sj.upload(job, take)
        sj.commit(job.job_id)
        return job.job_id

    def canned() -> str:
        return sj.show(m.make_job(assess_result=RESULT)).state.value

    def set_state() -> str:
        job = sj.create()
        m.set_state(job.job_id, "SUCCEED", assess_result=RESULT)
        return sj.show(job.job_id).state.value

    def polls() -> str:
        m.set_progress("polls:2")
        job_id = committed()
        return [sj.show(job_id).state.value for _ in range(5)][-1]

    def manual() -> str:
        m.set_progress("manual")
        job_id = committed()
        m.advance(job_id)
        m.advance(job_id)
        return sj.show(job_id).state.value

    def timed() -> str:
        return sj.wait(committed(), timeout=60).state.value

    return {
        "make_job": canned,
        "set_state": set_state,
        "polls:2": polls,
        "manual": manual,
        "timed": timed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        take = sample_zip(Path(work) / "take.zip", count=1, seconds=4.0)
        with running_mock(Path(work) / "data", control=True, processing_seconds=0) as server:
            m = MockHandle(server)
            drive = ways(m, take)
            m.reset()
            drive["timed"]()  # the take's first assessment: its windows scored once
            times: dict[str, list[float]] = {name: [] for name in drive}
            for _ in range(args.repeat):
                for name, way in drive.items():
                    started = time.perf_counter()
                    m.reset()
                    assert way() == "SUCCEED", name
                    times[name].append((time.perf_counter() - started) * 1000)
            m.close()
    print("| way | median ms | min ms | max ms |\n|---|---|---|---|")
    for name, values in times.items():
        print(
            f"| {name} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |"
        )


if __name__ == "__main__":
    main()
