"""A user's suite through the fixture (bench/user_suite/suite: 25 whole lifecycles of a 4 s take,
25 canned), timed: per-test medians and the session's fixed cost, single process and `-n 2`.

    .venv/bin/python bench/user_suite/run.py                       # this checkout
    .venv/bin/python bench/user_suite/run.py --before /tmp/before  # and another, same session

`--before DIR`: a checkout (or `git archive` of one: mock_server, short_jobs, generated) whose
mock runs the same suite, first on `PYTHONPATH`. Runs alternate (before, after; then the reverse
order), `--rounds` of each. Every pytest runs with `-p no:randomly`, plugin autoload off and only
the fixture's plugin, xdist (for `-n`) and the timing plugin loaded.

Figures (medians over every run of a subject):
- `canned`: a canned test's setup + call + teardown, ms;
- `real`: a whole lifecycle's, ms, each worker's first real test left out (it pays the
  session's first assessment); `first real`: that one;
- `fixed`: the run's wall time minus the per-test times of its busiest worker (each worker's
  first setup and last teardown counted as an ordinary test's) and minus the synthesis of the
  suite's own take: interpreter start, collection, the mock's start and the session's teardown;
  `pytest alone`: the same pytest on one empty test (measured in each round), and `fixed -
  pytest` what the mock adds; `mock start`: the `short_jobs_mock_server` fixture's setup;
  `teardown`: the last teardown's extra time (the session's end, the mock's stop).
Nothing here asserts a time. Results (JSON) go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUITE = HERE / "suite"
RESULTS = HERE.parent / "results"
AIMS = {"canned": 50.0, "real": 600.0, "fixed": 1500.0, "fixed - pytest": 1500.0}


def run_suite(tree: Path | None, workers: int, times: Path) -> float:
    """One pytest run of the suite with `tree`'s mock (None: this checkout's); its wall time, s."""
    env = dict(os.environ, USER_SUITE_TIMES=str(times), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    paths = [str(SUITE)]
    if tree is not None:
        paths += [str(tree), str(tree / "generated")]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    args += ["-p", "short_jobs_mock", "-p", "suite_timing"]
    if workers > 1:
        args += ["-p", "xdist.plugin", "-n", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=SUITE, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the suite failed ({tree or 'this checkout'}):\n{done.stdout[-3000:]}")
    return wall


def figures(times: Path, wall: float) -> dict[str, float]:
    """The run's figures, ms, from its timing lines (see the module's docstring)."""
    phases: dict[str, dict[str, float]] = defaultdict(dict)
    order: dict[str, list[str]] = defaultdict(list)
    session: dict[str, list[float]] = defaultdict(list)  # session fixtures' setups, by name
    for line in times.read_text().splitlines():
        entry = json.loads(line)
        if entry["when"] == "fixture":
            session[entry["test"]].append(entry["duration"] * 1000)
            continue
        if entry["test"] not in phases:
            order[entry["worker"]].append(entry["test"])
        phases[entry["test"]][entry["when"]] = entry["duration"] * 1000
    setups = statistics.median(p["setup"] for p in phases.values())
    teardowns = statistics.median(p["teardown"] for p in phases.values())
    start = max(phases[tests[0]]["setup"] - setups for tests in order.values())
    end = max(phases[tests[-1]]["teardown"] - teardowns for tests in order.values())
    totals: dict[str, float] = {}
    for tests in order.values():
        for test in tests:
            p = phases[test]
            setup = setups if test == tests[0] else p["setup"]
            teardown = teardowns if test == tests[-1] else p["teardown"]
            totals[test] = setup + p["call"] + teardown
    busiest = max(sum(totals[t] for t in tests) for tests in order.values())
    firsts = [next(t for t in tests if "real" in t) for tests in order.values()]
    real = [v for t, v in totals.items() if "real" in t and t not in firsts]
    canned = [v for t, v in totals.items() if "canned" in t]
    take = max(session.get("take", [0.0]))  # the user's own test data, not the mock's cost
    return {
        "canned": statistics.median(canned),
        "real": statistics.median(real),
        "first real": statistics.median(totals[t] for t in firsts),
        "fixed": wall * 1000 - busiest - take,
        "mock start": max(session.get("short_jobs_mock_server", [float("nan")])),
        "start": start - take,
        "teardown": end,
        "wall": wall * 1000,
    }


def pytest_alone(workers: int) -> float:
    """The wall time, ms, of pytest (the same options) on one empty test and no fixture (in a
    temporary directory: a test file under bench/ would be type-checked by `make lint`)."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    if workers > 1:
        args += ["-p", "xdist.plugin", "-n", str(workers)]
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "pytest.ini").write_text("[pytest]\n")
        (Path(directory) / "test_empty.py").write_text("def test_nothing():\n    pass\n")
        started = time.perf_counter()
        subprocess.run(args, cwd=directory, env=env, capture_output=True, check=True)
        return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="another checkout's tree, run the same way")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    subjects: list[tuple[str, Path | None]] = [("after", None)]
    if args.before is not None:
        subjects.insert(0, ("before", args.before.resolve()))
    runs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for round_ in range(args.rounds):
        ordered = subjects if round_ % 2 == 0 else subjects[::-1]
        for workers in args.workers:
            alone = pytest_alone(workers)
            for name, tree in ordered:
                times = RESULTS / f"user_suite-{stamp}-{name}-n{workers}-{round_}.jsonl"
                wall = run_suite(tree, workers, times)
                result = figures(times, wall)
                result["pytest alone"] = alone
                result["fixed - pytest"] = result["fixed"] - alone
                runs[f"{name} -n {workers}" if workers > 1 else name].append(result)
                print(f"round {round_ + 1} {name} workers={workers}: " + _row(result), flush=True)
    keys = ["canned", "real", "first real", "fixed", "fixed - pytest", "mock start", "teardown"]
    keys += ["pytest alone", "wall"]
    print("\n| subject | " + " | ".join(f"{k} ms" for k in keys) + " |")
    print("|---|" + "---|" * len(keys))
    summary: dict[str, dict[str, Any]] = {}
    for subject, results in runs.items():
        medians = {k: statistics.median(r[k] for r in results) for k in keys}
        summary[subject] = {"median": medians, "runs": results}
        cells = []
        for k in keys:
            met = "" if k not in AIMS else (" (met)" if medians[k] < AIMS[k] else " (NOT met)")
            cells.append(f"{medians[k]:.0f}{met}")
        print(f"| {subject} | " + " | ".join(cells) + " |")
    out = RESULTS / f"user_suite-{stamp}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"\nraw: {out}")


def _row(result: dict[str, float]) -> str:
    return ", ".join(f"{key} {value:.0f} ms" for key, value in result.items())


if __name__ == "__main__":
    main()
