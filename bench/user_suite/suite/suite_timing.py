"""A pytest plugin (`-p suite_timing`): every test phase's duration, one JSON line each, into the
file `USER_SUITE_TIMES` names; with xdist, written by the controller, tagged with the worker.
Session fixtures' setups are lines of their own (`when`: `fixture`), written by the process that
ran them."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from typing import Any

import pytest

_config: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _config.append(config)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    target = os.environ.get("USER_SUITE_TIMES")
    if not target or (_config and hasattr(_config[0], "workerinput")):
        return  # an xdist worker: its controller writes the line
    node = getattr(report, "node", None)
    worker = node.gateway.id if node is not None else "main"
    line = {
        "test": report.nodeid,
        "when": report.when,
        "duration": report.duration,
        "worker": worker,
        "outcome": report.outcome,
    }
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        target = os.environ.get("USER_SUITE_TIMES")
        if target and fixturedef.scope == "session":
            line = {
                "test": fixturedef.argname,
                "when": "fixture",
                "duration": time.perf_counter() - started,
                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            }
            with open(target, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
