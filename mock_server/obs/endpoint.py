"""The OBS-style pre-signed upload endpoint and the files it writes.

`data_uploading_url` is an OBS V2 pre-signed PUT URL pointing at this same server:
`{base}/{BUCKET}/{project_id}/{job_id}/recordings.zip?AccessKeyId=&Expires=&Signature=`.
The body streams to a temporary file in the data directory, which is renamed over the job's object
only once complete, so a reader (the assessment) never sees half an upload and a restart finds
either the previous object or the new one. Whether a job has data is whether its object exists.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

from mock_server.core.asgi import Receive, Scope, Send
from mock_server.core.config import Settings
from mock_server.obs import presign
from mock_server.obs.errors import ObsCodes, ObsError, render_obs
from mock_server.service.store import Job, Store

BUCKET = "metastudio-short-jobs"
CONTENT_TYPE = "application/zip"
_KEY_SUFFIX = "/recordings.zip"


class UploadArea:
    """Where uploaded objects live: one file per job, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._discard_partial_uploads()

    def path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.zip"

    def has(self, job_id: str) -> bool:
        return self.path(job_id).is_file()

    def incoming(self) -> Path:
        return self.root / f".incoming-{uuid.uuid4().hex}"

    def reset(self) -> None:
        for entry in self.root.iterdir():
            entry.unlink(missing_ok=True)

    def presigned_url(self, base: str, job: Job, settings: Settings, expires: int) -> str:
        key = f"{job.project_id}/{job.job_id}{_KEY_SUFFIX}"
        return presign.presign_put(
            f"{base}", BUCKET, key, settings.ak, settings.sk, expires, CONTENT_TYPE
        )

    def _discard_partial_uploads(self) -> None:
        """Uploads cut off by a crash never became objects; their temporary files are litter."""
        for entry in self.root.glob(".incoming-*"):
            entry.unlink(missing_ok=True)


def job_id_from_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) != 3 or not key.endswith(_KEY_SUFFIX) or not all(parts[:2]):
        return None
    return parts[1]


class UploadEndpoint:
    """ASGI app for `/{BUCKET}/...`: checks the pre-signature, then streams the body to disk."""

    def __init__(self, settings: Settings, store: Store, area: UploadArea) -> None:
        self.settings = settings
        self.store = store
        self.area = area

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope["state"]["request_id"]
        try:
            size = await self._handle(scope, receive)
        except ObsError as error:
            scope["state"]["error_code"] = error.code.code
            await render_obs(error, request_id)(scope, receive, send)
            return
        headers = [(b"x-obs-request-id", request_id.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        scope["state"]["upload_bytes"] = size

    async def _handle(self, scope: Scope, receive: Receive) -> int:
        path: str = scope["path"]  # ASGI has already percent-decoded it
        bucket, _, key = path.lstrip("/").partition("/")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        try:
            presign.check_presigned(
                scope["method"], bucket, key, query, headers, self._secret_for, int(time.time())
            )
        except presign.PresignError as error:
            error.resource = path
            raise
        job_id = job_id_from_key(key)
        job = self.store.get(job_id) if job_id else None
        if job is None:
            raise ObsError(ObsCodes.NO_SUCH_KEY, "The specified key does not exist.", path)
        if job.state != "CREATING":
            raise ObsError(
                ObsCodes.ACCESS_DENIED,
                f"job {job.job_id} is committed (state {job.state}); its upload is closed",
                path,
            )
        length = headers.get("content-length", "")
        declared = int(length) if length.isdigit() else None
        limit = self.settings.max_upload_bytes
        if declared is not None and declared > limit:
            raise ObsError(ObsCodes.ENTITY_TOO_LARGE, _too_large(limit), path)
        return await self._receive_to_file(job.job_id, receive, limit, declared, path)

    async def _receive_to_file(
        self, job_id: str, receive: Receive, limit: int, declared: int | None, path: str
    ) -> int:
        temporary = self.area.incoming()
        size = 0
        try:
            with open(temporary, "wb", buffering=0) as out:
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
                    if not message.get("more_body", False):
                        break
            if declared is not None and size != declared:
                raise ObsError(
                    ObsCodes.INCOMPLETE_BODY,
                    f"Received {size} bytes of the {declared} declared in Content-Length",
                    path,
                )
            os.replace(temporary, self.area.path(job_id))
            return size
        finally:
            temporary.unlink(missing_ok=True)

    def _secret_for(self, ak: str) -> str | None:
        return self.settings.sk if ak == self.settings.ak else None


def _too_large(limit: int) -> str:
    return f"Your proposed upload exceeds the maximum allowed object size ({limit} bytes)."
