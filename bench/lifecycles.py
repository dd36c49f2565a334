"""Whole lifecycles per second: `AsyncShortJobs.assess` (create, upload, commit, wait) at
concurrency C, N lifecycles in all; prints one JSON line with the outcome of every one.

    python bench/lifecycles.py --url http://127.0.0.1:8000 --zip recordings.zip

Token auth (the facade's AK/SK signing is measured by client_cpu.py). Polling starts at
`--poll-interval` and backs off to `--poll-cap`, so the figure is the mock's and the client's
throughput, not the default 0.2 s first poll.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from pathlib import Path
from typing import Any

from benchlib import PROJECT_ID, TOKEN


async def run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from short_jobs import AsyncShortJobs
    except ImportError:
        return {"missing": True}

    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(args.lifecycles):
        queue.put_nowait(n)
    states: collections.Counter[str] = collections.Counter()
    job_ids: set[str] = set()
    failures: list[str] = []

    async with AsyncShortJobs(
        args.url,
        project_id=PROJECT_ID,
        token=TOKEN,
        poll_interval=args.poll_interval,
        poll_cap=args.poll_cap,
    ) as sj:

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    detail = await sj.assess(args.zip, timeout=args.timeout)
                except Exception as failure:  # counted, reported, never lost
                    states["error"] += 1
                    failures.append(f"{type(failure).__name__}: {failure}")
                    continue
                states[detail.state.value] += 1
                job_ids.add(detail.job_id)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        seconds = time.perf_counter() - started

    return {
        "lifecycles": args.lifecycles,
        "concurrency": args.concurrency,
        "seconds": seconds,
        "per_second": args.lifecycles / seconds,
        "states": dict(states),
        "distinct_job_ids": len(job_ids),
        "failures": failures[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--zip", type=Path, required=True)
    parser.add_argument("--lifecycles", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    parser.add_argument("--poll-cap", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
