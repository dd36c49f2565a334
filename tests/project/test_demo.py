"""`make demo` (scripts/demo.sh) ends on a passing assessment, and says so in its last line.

Run with this environment's .venv (the dev one, which the script reuses), as `make demo` runs
after `make setup`. The recordings are `mock_server.samples.voice_zip`: voice-like enough for the
mock's assessment, DNSMOS included, to find every metric within range.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from mock_server.assessment import assess_zip
from mock_server.samples import voice_zip


def test_the_demo_recordings_pass_every_metric(tmp_path: Path) -> None:
    assessment = assess_zip(voice_zip(tmp_path / "recordings.zip", count=3), "EN")
    statuses = {
        name: getattr(assessment, name).status
        for name in ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
    }
    assert statuses == dict.fromkeys(statuses, 0), assessment


def test_the_demo_recordings_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = voice_zip(tmp_path / "a.zip", count=1, seconds=3).read_bytes()
    assert voice_zip(tmp_path / "b.zip", count=1, seconds=3).read_bytes() == first


@pytest.mark.slow
def test_make_demo_ends_on_a_passing_assessment() -> None:
    if Path(sys.prefix) != ROOT / ".venv":
        pytest.skip("demo.sh uses the checkout's .venv; this test runs in another environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_SDK_", "SHORT_"))}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Using the dev environment in .venv", lines[0]  # nothing installed
    assert lines[-1] == "Demo: the job SUCCEEDED and every metric is within the expected range."
