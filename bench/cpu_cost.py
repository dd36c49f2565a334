"""CPU per request of the mock, by log level: what the access line costs, robust to a busy machine.

    .venv/bin/python bench/cpu_cost.py                       # show and create, warning vs info
    .venv/bin/python bench/cpu_cost.py --rounds 7 --candidate ../other-checkout
    .venv/bin/python bench/cpu_cost.py --levels warning        # the quiet cost alone

Throughput on a shared machine swings by 2-3x between runs; the CPU time the server's process
spends per request moves far less, because it does not count the time the process waited for a
core. For each subject (the mock at `--log-level warning` and `info`, one worker) this runs wrk at
c=16 for a few seconds, reads the server process's user+system CPU time from `/proc/PID/stat`
(all its threads: the access line's writer thread included) before and after, and reports CPU
microseconds per request: median of alternating rounds, and the ratio info/warning from the same
session. The access line's share of a show is then (info - warning) / info.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH,
    COLLECTION,
    CREATE_BODY,
    TOKEN,
    Running,
    median,
    mock_subject,
    request_json,
    wrk,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` (every thread), seconds (proc(5), fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def target(server: Running, operation: str) -> dict[str, Any]:
    headers = {"X-Auth-Token": TOKEN}
    if operation == "create":
        return {
            "url": server.url + COLLECTION,
            "method": "POST",
            "body": CREATE_BODY,
            "headers": {**headers, "Content-Type": "application/json"},
        }
    _, job = request_json(server.port, "POST", COLLECTION, CREATE_BODY, headers)
    return {"url": f"{server.url}{COLLECTION}/{job['job_id']}", "headers": headers}


def measure(server: Running, operation: str, seconds: float) -> float:
    """CPU microseconds per request over one wrk run."""
    load = target(server, operation)
    before = cpu_seconds(server.pid)
    result = wrk(**load, connections=16, seconds=seconds)
    used = cpu_seconds(server.pid) - before
    if result.errors or not result.requests:
        raise SystemExit(f"wrk saw errors against {server.url}: {result}")
    return 1e6 * used / result.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one wrk run")
    parser.add_argument("--operations", default="show,create")
    parser.add_argument("--candidate", type=Path, help="the mock of this checkout as well")
    parser.add_argument(
        "--levels",
        default="warning,info",
        help="log levels to run the mock at (warning alone: the quiet cost, half the time)",
    )
    args = parser.parse_args()
    levels = args.levels.split(",")
    sources: list[tuple[str, Path | None]] = [("mock", None)]
    if args.candidate:
        sources.append((args.candidate.name, args.candidate))
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    figures: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(dir=out) as work:
        servers: dict[tuple[str, str], Running] = {}
        try:
            for name, source in sources:
                for level in levels:
                    subject = mock_subject(
                        f"{name} {level}",
                        Path(work) / f"{name}-{level}",
                        source=source,
                        log_level=level,
                    )
                    server = Running(subject, Path(work) / f"{name}-{level}.log")
                    server.wait_ready()
                    servers[(name, level)] = server
            order = list(servers)
            for operation in args.operations.split(","):
                for key in order:  # warm-up: the first requests import and cache
                    measure(servers[key], operation, 1.0)
                for round_ in range(args.rounds):
                    for key in order if round_ % 2 == 0 else reversed(order):
                        figures.setdefault((operation, *key), []).append(
                            measure(servers[key], operation, args.seconds)
                        )
        finally:
            for server in servers.values():
                server.stop()
    print(f"CPU microseconds per request, one worker, c=16, medians of {args.rounds} rounds")
    for operation in args.operations.split(","):
        for name, _ in sources:
            cost = {level: median(figures[(operation, name, level)]) for level in levels}
            row = "  ".join(
                f"{level} {cost[level]:6,.0f} us (runs "
                + " ".join(f"{v:,.0f}" for v in figures[(operation, name, level)])
                + ")"
                for level in levels
            )
            if "warning" in cost and "info" in cost:
                share = 100 * (cost["info"] - cost["warning"]) / cost["info"]
                row += f"  the line's share {share:4.1f}%"
            print(f"{operation:7} {name:16} {row}")


if __name__ == "__main__":
    main()
