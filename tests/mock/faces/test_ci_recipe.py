"""The CI recipe of the docs runs as written: its GitHub Actions job, parsed out of the Markdown,
each `run:` step in bash the way the runner runs it, except checkout, setup-python and install.

What the runner does and this test does too: every step's script is a file run with
`bash --noprofile --norc -eo pipefail FILE` (GitHub's default shell on Linux), in the workspace,
with the job's `env:` and the step's own; `RUNNER_TEMP` and `GITHUB_ENV` are set, and each
`NAME=value` line a step appends to `$GITHUB_ENV` is in the environment of the steps after it;
`if: always()` and `if: failure()` steps run when the runner would run them; `timeout-minutes`
bounds a step. The installed toolkit is this checkout's virtualenv, first on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT, WITHOUT_DEV_PLUGINS

# Where the recipe is written (move it with the text when it lands in the README or docs/).
RECIPE_DOC = ROOT / "docs" / "ci.md"
NOT_RUN_USES = ("actions/checkout@", "actions/setup-python@")  # the runner's, not the recipe's
NOT_RUN_NAMES = ("Install",)  # the toolkit is installed here already (this checkout)
DEFAULT_STEP_SECONDS = 300


def recipe_job() -> dict[str, Any]:
    """The one GitHub Actions workflow (a ```yaml block with `jobs:`) in the doc: its one job."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", RECIPE_DOC.read_text(), re.MULTILINE | re.DOTALL)
    workflows = [yaml.safe_load(block) for block in blocks if "\njobs:" in f"\n{block}"]
    assert len(workflows) == 1, f"{RECIPE_DOC} should hold one workflow"
    (job,) = workflows[0]["jobs"].values()
    assert isinstance(job, dict)
    return job


def _github_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        assert sep and "<<" not in name, f"only NAME=value lines are read here: {line!r}"
        values[name] = value
    return values


def _should_run(step: dict[str, Any], failed: bool) -> bool:
    condition = str(step.get("if", "success()")).strip()
    assert condition in ("success()", "always()", "failure()"), condition
    return {"success()": not failed, "always()": True, "failure()": failed}[condition]


def test_the_recipe_has_the_steps_the_issue_asks_for() -> None:
    steps = recipe_job()["steps"]
    scripts = "\n".join(str(step.get("run", "")) for step in steps)
    assert [s["uses"].split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    assert "--ready-file" in scripts and "--port 0" in scripts
    assert "timeout-minutes" in next(s for s in steps if "Wait" in s.get("name", ""))
    assert next(s for s in steps if "Stop" in s.get("name", ""))["if"] == "always()"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("jq") is None, reason="the recipe reads the file with jq")
def test_the_recipe_runs_as_written(tmp_path: Path) -> None:
    job = recipe_job()
    workspace, runner_temp = tmp_path / "workspace", tmp_path / "runner-temp"
    workspace.mkdir()
    runner_temp.mkdir()
    github_env = runner_temp / "github-env"
    github_env.touch()
    venv_bin = str(Path(sys.executable).parent)
    base = {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ENV": str(github_env),
        "GITHUB_WORKSPACE": str(workspace),
        "CI": "true",
        # the runner's venv has the toolkit, not our dev environment's own pytest plugins
        "PYTEST_ADDOPTS": " ".join(WITHOUT_DEV_PLUGINS),
        **{name: str(value) for name, value in job.get("env", {}).items()},
    }
    failed, ran, outputs = False, [], []
    for index, step in enumerate(job["steps"]):
        if "uses" in step:
            assert step["uses"].startswith(NOT_RUN_USES), step
            continue
        if step.get("name") in NOT_RUN_NAMES or not _should_run(step, failed):
            continue
        script = runner_temp / f"step-{index}.sh"
        script.write_text(step["run"])
        env = {**base, **_github_env(github_env)}
        env.update({name: str(value) for name, value in step.get("env", {}).items()})
        seconds = 60 * float(step.get("timeout-minutes", DEFAULT_STEP_SECONDS / 60))
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds,
            check=False,
        )
        ran.append(step.get("name", step["run"].splitlines()[0]))
        outputs.append(f"--- {ran[-1]}: exit {result.returncode}\n{result.stdout}{result.stderr}")
        failed = failed or result.returncode != 0
    log = "\n".join(outputs)
    mock_log = runner_temp / "mock.log"
    log += f"\n--- mock.log\n{mock_log.read_text() if mock_log.exists() else '(none)'}"
    assert not failed, log
    assert ran == [
        "Start the mock",
        "Wait until it answers",
        "Run the tests against it",
        "Stop the mock",
    ], log
    assert "2 passed" in log, log
    # what the steps handed on, and that the mock is gone
    handed = _github_env(github_env)
    assert handed["SHORT_JOBS_ENDPOINT"].startswith("http://127.0.0.1:"), handed
    assert handed["HUAWEICLOUD_SDK_IAM_ENDPOINT"] != handed["SHORT_JOBS_ENDPOINT"]
    assert not Path(handed["MOCK_READY"]).exists(), "the stop step ends with the file removed"
    # The ready file goes as the mock shuts down, a moment before the process ends (its log
    # says "Finished server process" and then the interpreter exits): give that moment.
    pid = int(handed["MOCK_PID"])
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid), log


def _gone(pid: int) -> bool:
    """No such process, or one that exited and waits to be reaped (a zombie: an orphan here is
    reparented to a PID 1 that may not reap, as in containers)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
