"""Recordings on disk: find the WAV files, zip them, and read a file back in chunks for upload.

The service takes one zip of WAV files. ``assess`` and ``upload`` accept what people actually
have: a ready ``.zip`` (sent as it is), a directory of recordings (searched recursively, as
recordings are often grouped in sub-folders), WAV files, or several of these (merged into one
zip). Anything else is refused before a job is created or a byte is sent. Zips are written to a
temporary file, not to memory, and uploads read the file chunk by chunk, so a large set of
recordings never has to fit in RAM.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from short_jobs.errors import UsageError, literal

__all__ = [
    "CHUNK_SIZE",
    "Digest",
    "Entry",
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
"""A ``.zip`` file, a directory, one WAV file, or a list of any of these."""


class Digest(Protocol):
    """What ``hashlib.md5()`` is to the chunk readers: fed every chunk sent."""

    def update(self, data: bytes, /) -> None: ...


Progress = Callable[[int, int], None]
"""``progress(done, total)``: bytes while uploading (restarts at 0 on a retry), files while
zipping."""

_WAV_SUFFIX = ".wav"
_ZIP_SUFFIX = ".zip"


def _is_wav(path: Path | str) -> bool:
    return str(path).lower().endswith(_WAV_SUFFIX)


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == _ZIP_SUFFIX or zipfile.is_zipfile(path)


@dataclass(frozen=True)
class Entry:
    """One recording to zip: a file on disk, or a member of a zip given as a source."""

    name: str
    """Its name in the zip the service gets."""
    path: Path
    member: str | None = None
    """Set when the recording is inside the zip ``path``."""


def _directory(root: Path, prefix: str) -> list[Entry]:
    found = sorted(p for p in root.rglob("*") if p.is_file() and _is_wav(p))
    if not found:
        raise UsageError(f"no .wav files in directory {literal(str(root))}")
    return [Entry(prefix + p.relative_to(root).as_posix(), p) for p in found]


def _zip_members(path: Path, prefix: str) -> list[Entry]:
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{literal(str(path))} is not a zip file")
    with zipfile.ZipFile(path) as archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir() and _is_wav(i.filename)]
    if not names:
        raise UsageError(f"no .wav files in {literal(str(path))}")
    return [Entry(prefix + name, path, name) for name in names]


def _entries(path: Path, alone: bool) -> list[Entry]:
    """The recordings of one path; named as they are when it is the only source, else under
    the directory's or zip's own name, so two folders of ``take1.wav`` stay apart."""
    if path.is_dir():
        return _directory(path, "" if alone else f"{path.name}/")
    if not path.is_file():
        raise UsageError(f"no such file or directory: {literal(str(path))}")
    if _is_wav(path):
        return [Entry(path.name, path)]
    if _is_zip(path):
        return _zip_members(path, "" if alone else f"{path.stem}/")
    raise UsageError(f"{literal(str(path))} is not a .wav file, a .zip or a directory")


def collect_wavs(source: Source) -> list[Entry]:
    """The WAV recordings of ``source``, each with the name it gets in the zip.

    ``source`` is a path or a list of paths, each a directory (every ``*.wav`` below it,
    case-insensitive suffix, sorted, named by its path relative to the directory), a WAV file
    (named by its file name) or a zip (its WAV members). Raises :class:`UsageError` for a
    missing path, a file that is none of these, a source without WAV files, or two recordings
    that would get the same name.
    """
    paths = [Path(source)] if isinstance(source, str | os.PathLike) else [Path(p) for p in source]
    if not paths:
        raise UsageError("no recordings given")
    entries: list[Entry] = []
    names: set[str] = set()
    for path in paths:
        for entry in _entries(path, alone=len(paths) == 1):
            if entry.name in names:
                raise UsageError(
                    f"two recordings would be named {literal(repr(entry.name))} in the zip; "
                    "rename one"
                )
            names.add(entry.name)
            entries.append(entry)
    return entries


def zip_recordings(
    source: Source, destination: str | os.PathLike[str], progress: Progress | None = None
) -> Path:
    """Write the WAV files of ``source`` into the zip ``destination`` (streamed file by file).

    ``progress(files_done, files_total)`` is called after each file.
    """
    entries = collect_wavs(source)
    target = Path(destination)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, entry in enumerate(entries, 1):
            if entry.member is None:
                archive.write(entry.path, arcname=entry.name)
            else:
                with (
                    zipfile.ZipFile(entry.path) as given,
                    given.open(entry.member) as data,
                    archive.open(entry.name, "w") as out,
                ):
                    shutil.copyfileobj(data, out, CHUNK_SIZE)
            if progress is not None:
                progress(done, len(entries))
    return target


def _given_zip(source: Source) -> Path | None:
    """``source`` as a path if it is one zip file, to send as it is; else ``None``."""
    if not isinstance(source, str | os.PathLike):
        if len(source) != 1:
            return None
        source = source[0]
    path = Path(source)
    if path.suffix.lower() == _ZIP_SUFFIX and not path.is_file():
        raise UsageError(f"no such file: {literal(str(path))}")
    if not path.is_file() or not _is_zip(path):
        return None
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{literal(str(path))} is not a zip file")
    return path


@contextmanager
def prepared_zip(source: Source, progress: Progress | None = None) -> Iterator[Path]:
    """A zip of ``source`` for the duration of the ``with``: the file itself if it is one zip,
    else a temporary zip of its WAV files (``progress`` as in :func:`zip_recordings`), deleted
    afterwards."""
    given = _given_zip(source)
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="short-jobs-") as tmp:
        yield zip_recordings(source, Path(tmp) / "recordings.zip", progress)


@asynccontextmanager
async def aprepared_zip(source: Source, progress: Progress | None = None) -> AsyncIterator[Path]:
    """The ``async`` twin of :func:`prepared_zip`; the zipping runs in a thread."""
    given = await asyncio.to_thread(_given_zip, source)
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="short-jobs-") as tmp:
        target = Path(tmp) / "recordings.zip"
        yield await asyncio.to_thread(zip_recordings, source, target, progress)


def file_chunks(
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    digest: Digest | None = None,
) -> Iterator[bytes]:
    """The bytes of ``path``, ``chunk_size`` at a time, reporting progress after each chunk
    (and feeding ``digest``, if given, what was sent: the upload's ETag is checked against it).

    A generator, so the file is opened when the upload starts and each retry gets a fresh one.
    """
    total = os.path.getsize(path)
    sent = 0
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            if digest is not None:
                digest.update(chunk)
            yield chunk
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)


async def afile_chunks(
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    digest: Digest | None = None,
) -> AsyncIterator[bytes]:
    """The ``async`` twin of :func:`file_chunks`; reads run in a thread to keep the loop free."""
    total = os.path.getsize(path)
    sent = 0
    file = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, chunk_size):
            if digest is not None:
                digest.update(chunk)
            yield chunk
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)
    finally:
        file.close()
