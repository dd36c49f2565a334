"""Profile the mock under load: wrk drives create or show while py-spy samples the server.

    .venv/bin/python bench/profile.py create            # or: show
    .venv/bin/python bench/profile.py show --seconds 10 --candidate /path/to/checkout

Prints the functions holding the most samples, inclusive (the function or anything it called
was running) and self (the function itself was running), with the server's throughput while
sampled (py-spy slows it a little). Writes the raw stacks (flamegraph.pl's collapsed format) to
bench/results/. py-spy needs ptrace rights over the server (root, or CAP_SYS_PTRACE).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH,
    COLLECTION,
    CREATE_BODY,
    TOKEN,
    Running,
    WrkResult,
    mock_subject,
    request_json,
    wrk,
)

PY_SPY = Path(sys.executable).parent / "py-spy"
SITE = "/site-packages/"


def frame_name(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `func (package/file.py)`: lines merged, paths shortened."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    if SITE in path:
        path = path.split(SITE, 1)[1]
    elif "/mock_server/" in path:
        path = "mock_server/" + path.split("/mock_server/", 1)[1]
    return f"{name} ({path})" if where else name


def summarize(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame_name(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "inclusive (the function and what it called):"]
    # The event loop and uvicorn's frames hold ~100%: skip what is on every stack.
    for frame, samples in inclusive.most_common():
        if samples < total * 0.97 and len(lines) < top + 3:
            lines.append(f"  {100 * samples / total:5.1f}%  {frame}")
    lines += ["", "self (the function's own code):"]
    for frame, samples in own.most_common(top // 2):
        lines.append(f"  {100 * samples / total:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("operation", choices=["create", "show"])
    parser.add_argument("--seconds", type=float, default=8.0, help="sampling time")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--candidate", type=Path, help="profile the mock of this checkout")
    args = parser.parse_args()
    if not PY_SPY.exists():
        raise SystemExit(f"{PY_SPY} is missing: run bench/setup.sh")

    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as work:
        subject = mock_subject("mock", Path(work) / "data", source=args.candidate)
        server = Running(subject, Path(work) / "mock.log")
        try:
            server.wait_ready()
            headers = {"X-Auth-Token": TOKEN}
            target: dict[str, Any]
            if args.operation == "create":
                target = {
                    "url": server.url + COLLECTION,
                    "method": "POST",
                    "body": CREATE_BODY,
                    "headers": {**headers, "Content-Type": "application/json"},
                }
            else:
                _, job = request_json(server.port, "POST", COLLECTION, CREATE_BODY, headers)
                target = {"url": f"{server.url}{COLLECTION}/{job['job_id']}", "headers": headers}
            wrk(**target, connections=args.connections, seconds=1)  # warm-up
            results: list[WrkResult] = []
            load = threading.Thread(
                target=lambda: results.append(
                    wrk(**target, connections=args.connections, seconds=args.seconds + 2)
                )
            )
            load.start()
            time.sleep(1)
            raw = out / f"profile-{args.operation}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
            subprocess.run(
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(round(args.seconds)),
                    "--rate",
                    str(args.rate),
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                ],
                check=True,
                capture_output=True,
            )
            load.join()
        finally:
            server.stop()
    rate = f"{results[0].rate:,.0f} req/s" if results else "?"
    print(f"{args.operation} at c={args.connections}, {rate} while sampled; raw stacks: {raw}")
    print(summarize(raw, args.top))


if __name__ == "__main__":
    main()
