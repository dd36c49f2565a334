"""Where uploaded objects live: one file per job in the data directory, written atomically.

`data_uploading_url` is an OBS V2 pre-signed PUT URL pointing at the mock itself:
`{base}/{BUCKET}/{project_id}/{job_id}/recordings.zip?AccessKeyId=&Expires=&Signature=`.
An upload streams to a temporary file, which is renamed over the job's object only once complete
(`install`), so a reader (the assessment) never sees half an upload and a restart finds either the
previous object or the new one. Whether a job has data is whether its object exists.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO

from mock_server.core.config import Settings
from mock_server.obs import presign

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

    def open_incoming(self, temporary: Path) -> BinaryIO:
        """The temporary file an upload streams into (unbuffered: each chunk is written as it
        comes, so a full disk shows at the write that found it full)."""
        return open(temporary, "wb", buffering=0)

    def install(self, temporary: Path, job_id: str) -> None:
        """Make a complete upload the job's object, atomically (a rename)."""
        os.replace(temporary, self.path(job_id))

    def reset(self) -> int:
        """Remove every object (and upload in progress); answer how many files there were.

        Runs inside the database's reset transaction (`Service` registers it), under the write
        lock an upload's install takes: an upload either installed before the reset (and is
        removed) or finds its job gone (404 NoSuchKey); none lands in between."""
        removed = 0
        for entry in self.root.iterdir():
            entry.unlink(missing_ok=True)
            removed += 1
        return removed

    def presigned_url(
        self, base: str, project_id: str, job_id: str, settings: Settings, expires: int
    ) -> str:
        """The object's pre-signed PUT URL on `base`, valid until `expires` (Unix seconds)."""
        key = f"{project_id}/{job_id}{_KEY_SUFFIX}"
        return presign.presign_put(
            f"{base}", BUCKET, key, settings.ak, settings.sk, expires, CONTENT_TYPE
        )

    def _discard_partial_uploads(self) -> None:
        """Uploads cut off by a crash never became objects; their temporary files are litter."""
        for entry in self.root.glob(".incoming-*"):
            entry.unlink(missing_ok=True)


def job_id_from_key(key: str) -> str | None:
    """The job an object key names (`{project_id}/{job_id}/recordings.zip`), or None."""
    parts = key.split("/")
    if len(parts) != 3 or not key.endswith(_KEY_SUFFIX) or not all(parts[:2]):
        return None
    return parts[1]
