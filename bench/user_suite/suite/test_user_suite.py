"""A user's suite through the `short_jobs_mock` fixture: 50 tests, as bench/user_suite/run.py runs
them (per-test times: `suite_timing.py`).

Half are whole lifecycles of a 4 s take (create, upload, commit, wait for SUCCEED: the default
`timed` progress with 0 processing seconds, so the time is the mock's and the assessment's);
half are canned: a job in SUCCEED or FAILED with a given result, in one call (`make_job`), or, on
a mock that has no `make_job` (the "before" checkout), `set_state` on a created job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server.faces.fixture import MockHandle
from mock_server.samples import sample_zip

PROPERTY = {"expected": "x", "actual": "y", "suggestion": "", "suggestion_en": "", "status": 0}
RESULT: dict[str, Any] = {
    **dict.fromkeys(("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak"), PROPERTY),
    "suggestion": "canned by the test",
}
REAL = 25
CANNED = 25


@pytest.fixture(scope="session")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 4 s take, as a user keeps one recording among their test data."""
    return sample_zip(tmp_path_factory.mktemp("take") / "take.zip", count=1, seconds=4.0)


def canned(m: MockHandle, state: str, **fields: Any) -> str:
    if hasattr(m, "make_job"):
        job_id: str = m.make_job(state, **fields)
        return job_id
    job = m.client.create()
    m.set_state(job.job_id, state, **fields)
    return job.job_id


@pytest.mark.parametrize("n", range(REAL))
def test_real_lifecycle(short_jobs_mock: MockHandle, take: Path, n: int) -> None:
    sj = short_jobs_mock.client
    job = sj.create(language="EN" if n % 2 else "CN")
    sj.upload(job, take)
    sj.commit(job.job_id)
    done = sj.wait(job.job_id, timeout=60)
    assert done.state.value == "SUCCEED"
    assert done.to_dict()["assess_result"]["dnsmos_ovrl"]["actual"]


@pytest.mark.parametrize("n", range(CANNED))
def test_canned_lifecycle(short_jobs_mock: MockHandle, n: int) -> None:
    m = short_jobs_mock
    if n % 5 == 4:
        job_id = canned(m, "FAILED", job_failed_code="MSS.20000002", job_failed_reason="bad.wav")
        assert m.client.show(job_id).job_failed_code == "MSS.20000002"
        return
    job_id = canned(m, "SUCCEED", assess_result=RESULT)
    done = m.client.wait(job_id, timeout=5)
    assert done.to_dict()["assess_result"]["suggestion"] == "canned by the test"
