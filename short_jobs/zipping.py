"""Recordings on disk: find the WAV files, zip them, and read a file back in chunks for upload.

The service takes one zip of WAV files. ``assess`` accepts what people actually have: a ready
``.zip``, a directory of recordings (searched recursively, as recordings are often grouped in
sub-folders), or a list of WAV paths. Zips are written to a temporary file, not to memory, and
uploads read the file chunk by chunk, so a large set of recordings never has to fit in RAM.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

__all__ = [
    "CHUNK_SIZE",
    "Progress",
    "Source",
    "afile_chunks",
    "aprepared_zip",
    "collect_wavs",
    "file_chunks",
    "prepared_zip",
    "zip_recordings",
]

CHUNK_SIZE = 256 * 1024
"""Bytes read and sent at a time: large enough for throughput, small enough to bound memory."""

Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
"""A ``.zip`` file, a directory, one WAV file, or a list of WAV files."""

Progress = Callable[[int, int], None]
"""Called as ``progress(bytes_sent, total_bytes)`` while uploading (restarts at 0 on a retry)."""

_WAV_SUFFIX = ".wav"


def _is_wav(path: Path) -> bool:
    return path.suffix.lower() == _WAV_SUFFIX


def collect_wavs(source: Source) -> list[tuple[Path, str]]:
    """The WAV files of ``source`` with the name each gets in the zip.

    A directory gives every ``*.wav`` below it (case-insensitive suffix, sorted, named by their
    path relative to the directory, so sub-folders keep recordings with the same name apart); a
    file or list gives those files named by their file name. Raises ``FileNotFoundError`` for a
    missing path and ``ValueError`` when there is no WAV file, a listed file is not a WAV, or two
    listed files would get the same name.
    """
    if isinstance(source, str | os.PathLike):
        root = Path(source)
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and _is_wav(p))
            if not found:
                raise ValueError(f"no .wav files in directory {root}")
            return [(p, p.relative_to(root).as_posix()) for p in found]
        paths = [root]
    else:
        paths = [Path(p) for p in source]
    if not paths:
        raise ValueError("no recordings given")
    entries: list[tuple[Path, str]] = []
    names: set[str] = set()
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        if not _is_wav(path):
            raise ValueError(f"{path} is not a .wav file")
        if path.name in names:
            raise ValueError(f"two recordings are named {path.name!r}; rename one or zip them")
        names.add(path.name)
        entries.append((path, path.name))
    return entries


def zip_recordings(source: Source, destination: str | os.PathLike[str]) -> Path:
    """Write the WAV files of ``source`` into the zip ``destination`` (streamed file by file)."""
    entries = collect_wavs(source)
    target = Path(destination)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, name in entries:
            archive.write(path, arcname=name)
    return target


def _given_zip(source: Source) -> Path | None:
    """``source`` as a path if it names a ``.zip`` file (which must exist), else ``None``."""
    if not isinstance(source, str | os.PathLike) or Path(source).suffix.lower() != ".zip":
        return None
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


@contextmanager
def prepared_zip(source: Source) -> Iterator[Path]:
    """A zip of ``source`` for the duration of the ``with``: the file itself if it is a ``.zip``,
    else a temporary zip of its WAV files, deleted afterwards."""
    given = _given_zip(source)
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="short-jobs-") as tmp:
        yield zip_recordings(source, Path(tmp) / "recordings.zip")


@asynccontextmanager
async def aprepared_zip(source: Source) -> AsyncIterator[Path]:
    """The ``async`` twin of :func:`prepared_zip`; the zipping runs in a thread."""
    given = _given_zip(source)
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="short-jobs-") as tmp:
        yield await asyncio.to_thread(zip_recordings, source, Path(tmp) / "recordings.zip")


def file_chunks(
    path: str | os.PathLike[str], progress: Progress | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The bytes of ``path``, ``chunk_size`` at a time, reporting progress after each chunk.

    A generator, so the file is opened when the upload starts and each retry gets a fresh one.
    """
    total = os.path.getsize(path)
    sent = 0
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            yield chunk
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)


async def afile_chunks(
    path: str | os.PathLike[str], progress: Progress | None = None, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """The ``async`` twin of :func:`file_chunks`; reads run in a thread to keep the loop free."""
    total = os.path.getsize(path)
    sent = 0
    file = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, chunk_size):
            yield chunk
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)
    finally:
        file.close()
