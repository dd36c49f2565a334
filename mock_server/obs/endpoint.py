"""The OBS-style pre-signed upload endpoint and the files it writes.

Checks the pre-signature (`presign.py`), asks the service whether the job takes data (`UploadGate`),
streams the body to a temporary file of the upload area (`area.py`) and hands the complete file
to the service to install: the job's state is checked again, and the file renamed, under the
database's write lock, so a commit sees exactly the uploads complete when it arrived.

Every answer here is OBS': a success is `200` with the object's MD5 as a quoted hex `ETag` and
`x-obs-request-id`, `x-obs-id-2` (OBS API reference, "Uploading Objects - PUT", response
headers); every failure, the mock's own included (a full disk, a locked database, a bug), is
OBS XML (`errors.py`), never the service's JSON, and leaves no partial object behind.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl

from mock_server.core.asgi import Receive, Scope, Send
from mock_server.core.config import Settings
from mock_server.core.state import note_signature_check, state_of
from mock_server.core.text import Printable, same_secret
from mock_server.obs import presign
from mock_server.obs.area import UploadArea, job_id_from_key
from mock_server.obs.errors import (
    HOST_ID,
    ObsCodes,
    ObsError,
    internal_error,
    no_such_key,
    render_obs,
)

log = logging.getLogger("mock_server.obs")


class UploadGate(Protocol):
    """What the upload endpoint asks the service that owns the jobs (the lifecycle's rule)."""

    def upload_refusal(self, job_id: str) -> ObsError | None:
        """Why the job takes no upload now (no such job, or committed), or None."""

    def install_upload(self, job_id: str, temporary: Path) -> ObsError | None:
        """Make `temporary` the job's object if it still takes one; else why not."""


class UploadEndpoint:
    """ASGI app for `/{BUCKET}/...`: checks the pre-signature, then streams the body to disk."""

    def __init__(
        self,
        settings: Settings,
        gate: UploadGate,
        area: UploadArea,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock  # Unix seconds: the mock's one clock (core.clock)
        self.gate = gate
        self.area = area

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = state_of(scope).request_id or ""
        try:
            etag = await self._handle(scope, receive)
        except ObsError as error:
            await self._refuse(error, request_id, scope, receive, send)
            return
        except Exception as exc:  # the mock's own failure: still OBS' answer, never JSON
            log.exception("upload %s failed", Printable(scope["path"]))
            await self._refuse(internal_error(exc, scope["path"]), request_id, scope, receive, send)
            return
        headers = [
            (b"etag", f'"{etag}"'.encode()),
            (b"x-obs-request-id", request_id.encode()),
            (b"x-obs-id-2", HOST_ID.encode()),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _refuse(
        error: ObsError, request_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        state_of(scope).error_code = error.code.code
        await render_obs(error, request_id)(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive) -> str:
        """Check, receive and install the upload; answer its MD5 (hex) or raise `ObsError`."""
        path: str = scope["path"]  # ASGI has already percent-decoded it
        bucket, _, key = path.lstrip("/").partition("/")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        try:
            presign.check_presigned(
                scope["method"], bucket, key, query, headers, self._secret_for, int(self.clock())
            )
        except presign.PresignError as error:
            error.resource = path
            # for the journal and the debug log: the forensics (the SK is never in them)
            note_signature_check(scope, error.signature_check)
            raise
        operation = presign.sub_resource_refusal(query, path)
        if operation is not None:
            raise operation
        job_id = job_id_from_key(key)
        if job_id is None:
            raise no_such_key(path)
        refusal = self.gate.upload_refusal(job_id)
        if refusal is not None:
            refusal.resource = path
            raise refusal
        length = headers.get("content-length", "")
        declared = int(length) if length.isdigit() else None
        limit = self.settings.max_upload_bytes
        if declared is not None and declared > limit:
            raise ObsError(ObsCodes.ENTITY_TOO_LARGE, _too_large(limit), path)
        return await self._receive_to_file(job_id, receive, limit, declared, path)

    async def _receive_to_file(
        self, job_id: str, receive: Receive, limit: int, declared: int | None, path: str
    ) -> str:
        temporary = self.area.incoming()
        size = 0
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with self.area.open_incoming(temporary) as out:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ObsError(ObsCodes.INCOMPLETE_BODY, "The client went away", path)
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise ObsError(ObsCodes.ENTITY_TOO_LARGE, _too_large(limit), path)
                    if chunk:
                        out.write(chunk)
                        digest.update(chunk)
                    if not message.get("more_body", False):
                        break
            if declared is not None and size != declared:
                raise ObsError(
                    ObsCodes.INCOMPLETE_BODY,
                    f"Received {size} bytes of the {declared} declared in Content-Length",
                    path,
                )
            refusal = self.gate.install_upload(job_id, temporary)
            if refusal is not None:  # committed (or reset) while the body was on its way
                refusal.resource = path
                raise refusal
        except OSError as exc:  # a full disk (ENOSPC, EDQUOT, EFBIG), an I/O error
            raise internal_error(exc, path) from exc
        finally:
            temporary.unlink(missing_ok=True)  # a refused or failed upload leaves nothing
        return digest.hexdigest()

    def _secret_for(self, ak: str) -> str | None:
        return self.settings.sk if same_secret(ak, self.settings.ak) else None


def _too_large(limit: int) -> str:
    return f"Your proposed upload exceeds the maximum allowed object size ({limit} bytes)."
