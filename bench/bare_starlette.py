"""The Python ceiling: a bare Starlette app with the mock's create and show routes.

No auth, no validation, no durable state: a dict in memory. Served by uvicorn exactly as the mock
is (httptools and uvloop when installed, no access log), so the difference is the mock's work.

    python bench/bare_starlette.py --port 9001
"""

from __future__ import annotations

import argparse
import time
import uuid

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

COLLECTION = "/v1/{project_id}/voice-training-manage/user/short-jobs"
_jobs: dict[str, dict[str, object]] = {}


async def ready(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    job_id = str(uuid.uuid4())
    now = int(time.time())
    _jobs[job_id] = {
        "job_type": body["job_type"],
        "job_id": job_id,
        "state": "CREATING",
        "create_time": now,
        "lastupdate_time": now,
    }
    url = f"http://{request.headers.get('host', '')}/bucket/{job_id}/recordings.zip"
    return JSONResponse({"job_id": job_id, "data_uploading_url": url})


async def show(request: Request) -> JSONResponse:
    job = _jobs.get(request.path_params["job_id"])
    if job is None:
        return JSONResponse({"error_code": "MSS.00000003"}, status_code=400)
    return JSONResponse(job)


app = Starlette(
    routes=[
        Route("/", ready),
        Route(COLLECTION, create, methods=["POST"]),
        Route(COLLECTION + "/{job_id}", show, methods=["GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
