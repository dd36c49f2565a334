"""`pytest -n 2` in a user's project: each xdist worker has a mock of its own (issue 20, item 3).

The fixture's server is session-scoped, and each xdist worker is a pytest session in a process of
its own, so each worker starts its own mock (own port, data dir, journal, faults, clock). The
proof: a user's project of two files (`--dist loadfile`: one per worker), whose tests run at the
same time (a barrier of files between them), send different numbers of requests while the other
sends too, and assert exact journal counts. Each worker's first test, in its fresh process with
the model still loading, checks the exact `polls:2` sequence.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from user_project import INI_WARNINGS_ARE_ERRORS

pytest_plugins = ["pytester"]

# {name}, {creates}: each file differs only in those. The barrier: each test writes its mark
# and waits (bounded) for the other's, so both run their middle part at the same time.
WORKER_FILE = textwrap.dedent(
    """
    import os
    import time
    from pathlib import Path

    from mock_server.samples import sample_zip

    SHARED = Path(os.environ["XDIST_ISOLATION_DIR"])
    OTHER = {{"one": "two", "two": "one"}}["{name}"]


    def meet(step):
        (SHARED / f"{name}.{{step}}").write_text(os.environ.get("PYTEST_XDIST_WORKER", "none"))
        deadline = time.monotonic() + 120
        while not (SHARED / f"{{OTHER}}.{{step}}").exists():
            assert time.monotonic() < deadline, f"the other worker never reached {{step}}"
            time.sleep(0.01)


    def test_polls_is_exact_in_a_fresh_process(short_jobs_mock, tmp_path):
        m = short_jobs_mock
        m.set_progress("polls:2")
        sj = m.client
        job = sj.create()
        sj.upload(job, sample_zip(tmp_path / "take.zip", count=1, seconds=1.0))
        sj.commit(job.job_id)
        seen = [sj.show(job.job_id).state.value for _ in range(5)]
        assert seen == ["WAITING", "WAITING", "PROCESSING", "PROCESSING", "SUCCEED"]


    def test_exact_journal_counts_while_the_other_worker_calls_too(short_jobs_mock):
        m = short_jobs_mock
        (SHARED / "{name}.url").write_text(m.url)
        meet("start")
        assert (SHARED / f"{{OTHER}}.url").read_text() != m.url  # a mock of its own
        assert (SHARED / f"{{OTHER}}.start").read_text() != os.environ["PYTEST_XDIST_WORKER"]
        for _ in range({creates}):
            m.client.create()
        m.make_job("FAILED")
        meet("sent")
        m.assert_called("create_short_job", times={creates})
        assert len(m.requests("show_short_job")) == 0
        assert [r["status"] for r in m.requests(method="POST", path_contains="short-jobs")] == (
            [200] * {creates}
        )
        assert len(m.requests()) == {creates}
        assert m.reset() == {creates} + 1  # its own jobs only
        meet("reset")
        assert m.requests() == []
    """
)


@pytest.mark.slow
def test_two_xdist_workers_each_see_only_their_own_traffic(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("XDIST_ISOLATION_DIR", str(shared))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini(INI_WARNINGS_ARE_ERRORS)
    pytester.makepyfile(
        test_worker_one=WORKER_FILE.format(name="one", creates=3),
        test_worker_two=WORKER_FILE.format(name="two", creates=7),
    )
    result = pytester.runpytest_subprocess(
        *("-p", "xdist.plugin", "-p", "short_jobs_mock", "-p", "no:cacheprovider"),
        *("-n", "2", "--dist", "loadfile"),
    )
    result.assert_outcomes(passed=4)
    workers = {(shared / f"{name}.start").read_text() for name in ("one", "two")}
    assert workers == {"gw0", "gw1"}
