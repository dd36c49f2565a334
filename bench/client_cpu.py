"""Client CPU per call: one client shows one job N times, AK/SK-signed; prints one JSON line.

Only this process's CPU is counted (`time.process_time`), after a warm-up; the mock runs in its
own process. Run by bench/run.py, one fresh process per client and round:

    python bench/client_cpu.py --url http://127.0.0.1:8000 --job-id ID --client shortjobs

Clients: `shortjobs` (ShortJobs.show), `sdk` (the official huaweicloudsdkmetastudio
show_short_job), `httpx` (a bare httpx.Client with short_jobs.auth.AkSkAuth, JSON decoded),
`generated` (the generated show_short_job.sync_detailed with AkSkAuth).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from benchlib import AK, COLLECTION, PROJECT_ID, SK

Call = Callable[[], Any]


def shortjobs(url: str, job_id: str) -> Call | None:
    try:
        from short_jobs import ShortJobs
    except ImportError:  # the facade is not there yet: the slot stays empty
        return None
    sj = ShortJobs(url, project_id=PROJECT_ID, ak=AK, sk=SK)
    return lambda: sj.show(job_id)


def sdk(url: str, job_id: str) -> Call:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkmetastudio.v1 import MetaStudioClient, ShowShortJobRequest

    client = (
        MetaStudioClient.new_builder()
        .with_credentials(BasicCredentials(AK, SK, PROJECT_ID))
        .with_endpoints([url])
        .build()
    )
    return lambda: client.show_short_job(ShowShortJobRequest(job_id=job_id))


def bare_httpx(url: str, job_id: str) -> Call:
    import httpx

    from short_jobs.auth import AkSkAuth

    client = httpx.Client(base_url=url, auth=AkSkAuth(AK, SK, PROJECT_ID))
    path = f"{COLLECTION}/{job_id}"

    def call() -> Any:
        response = client.get(path)
        response.raise_for_status()
        return response.json()

    return call


def generated(url: str, job_id: str) -> Call:
    from short_jobs.auth import AkSkAuth
    from short_jobs_client import Client
    from short_jobs_client.api.short_jobs import show_short_job

    client = Client(base_url=url, httpx_args={"auth": AkSkAuth(AK, SK, PROJECT_ID)})

    def call() -> Any:
        response = show_short_job.sync_detailed(PROJECT_ID, job_id, client=client)
        if response.status_code != 200:
            raise RuntimeError(f"show answered {response.status_code}")
        return response.parsed

    return call


CLIENTS: dict[str, Callable[[str, str], Call | None]] = {
    "shortjobs": shortjobs,
    "sdk": sdk,
    "httpx": bare_httpx,
    "generated": generated,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--client", choices=sorted(CLIENTS), required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    call = CLIENTS[args.client](args.url, args.job_id)
    if call is None:
        print(json.dumps({"client": args.client, "missing": True}))
        return
    for _ in range(args.warmup):
        call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    result = {
        "client": args.client,
        "calls": args.calls,
        "cpu_us": cpu / args.calls * 1e6,
        "wall_us": wall / args.calls * 1e6,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
