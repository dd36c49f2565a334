"""A reference point: a trivial connexion app serving the same openapi.yaml.

connexion's default middleware stack less its security middleware (the spec's AK/SK and token
schemes have no handler here), strict request validation, the handlers a dict in memory: no
gateway auth, no SQLite, no upload URL signing. What the mock would cost doing nothing of its own.

    python bench/trivial_connexion.py --port 9003
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.resolver import Resolver
from starlette.types import Receive, Scope, Send

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
_jobs: dict[str, dict[str, Any]] = {}


async def create_short_job(project_id: str, body: dict[str, Any]) -> dict[str, str]:
    job_id = str(uuid.uuid4())
    now = int(time.time())
    _jobs[job_id] = {
        "job_type": body["job_type"],
        "job_id": job_id,
        "state": "CREATING",
        "create_time": now,
        "lastupdate_time": now,
    }
    return {"job_id": job_id, "data_uploading_url": f"http://127.0.0.1/bucket/{job_id}.zip"}


async def commit_short_job(project_id: str, job_id: str) -> tuple[dict[str, Any], int]:
    return {}, 200


async def show_short_job(project_id: str, job_id: str) -> Any:
    job = _jobs.get(job_id)
    if job is None:
        return {"error_code": "MSS.00000003", "error_msg": "no such job"}, 400
    return job


_HANDLERS = {
    "create_short_job": create_short_job,
    "commit_short_job": commit_short_job,
    "show_short_job": show_short_job,
}


def build() -> AsyncApp:
    middlewares = [
        m for m in ConnexionMiddleware.default_middlewares if m is not SecurityMiddleware
    ]
    api = AsyncApp(__name__, middlewares=middlewares)
    api.add_api(SPEC, resolver=Resolver(_HANDLERS.__getitem__), strict_validation=True)
    return api


class Ready:
    """`GET /` answers 200 (the spec has no such path); the rest goes to connexion."""

    def __init__(self, api: AsyncApp) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/":
            headers = [(b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.api(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        Ready(build()), host=args.host, port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
