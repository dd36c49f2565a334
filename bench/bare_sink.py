"""The upload ceiling: a bare ASGI app that streams a PUT body to a file, as the mock does.

Every PUT streams its body to a temporary file in `--dir` (unbuffered writes of the chunks the
server hands over, like `mock_server.obs.endpoint`), renames it to a new name and answers 200. No
signature check, no store. `GET /` answers 200 once ready.

    python bench/bare_sink.py --port 9002 --dir /some/dir
"""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path

import uvicorn
from starlette.types import Receive, Scope, Send


class Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        status = 200
        if scope["method"] == "PUT":
            status = await self._store(receive)
        elif scope["method"] not in ("GET", "HEAD"):
            status = 405
        headers: list[tuple[bytes, bytes]] = [(b"content-length", b"0")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _store(self, receive: Receive) -> int:
        name = uuid.uuid4().hex  # a new object each time, as the mock's are one per job
        temporary = self.directory / f".incoming-{name}"
        try:
            with open(temporary, "wb", buffering=0) as out:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return 400
                    chunk = message.get("body", b"")
                    if chunk:
                        out.write(chunk)
                    if not message.get("more_body", False):
                        break
            os.replace(temporary, self.directory / f"{name}.bin")
            return 200
        finally:
            temporary.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        Sink(args.dir), host=args.host, port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
