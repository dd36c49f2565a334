"""The one check of every option that names an output file: opened for writing before the first
request, so whatever the kernel would refuse is refused then (a usage error, exit 2).

Asking ``os.access`` or ``Path.is_dir`` was not the kernel's answer: root passes every access
check, ``/proc`` and ``/sys`` refuse the file only when it is created, a dangling symlink's target
directory was never looked at, and a 300-character name made ``is_dir`` itself raise. So the file
is opened (created if absent, never truncated) and the handle kept: the results are written
through that same handle, which also serves a pipe such as ``--record >(gzip > run.har.gz)``. A
file created by the check and never written is removed again (:meth:`OutputFile.discard`), so a
run cut short leaves no empty file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from short_jobs.errors import UsageError, literal

__all__ = ["OutputFile"]


@dataclass
class OutputFile:
    """An output file opened at preflight: :meth:`open`, then :meth:`write` once, or
    :meth:`discard`."""

    path: Path
    option: str
    descriptor: int
    created: Path | None
    """The file the check created (a symlink's target), removed unless written."""
    written: bool = field(default=False)

    @classmethod
    def open(cls, path: Path, option: str) -> OutputFile:
        """Open ``path`` for writing or raise :class:`UsageError` saying why it cannot be."""
        flags = os.O_WRONLY | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
        try:
            return cls(path, option, os.open(path, flags), created=None)
        except FileNotFoundError:
            pass  # absent, or a dangling symlink: created below, where its target points
        except OSError as error:
            raise UsageError(_refusal(path, option, error)) from None
        try:
            # realpath first: a symlink's target is what gets created, and removed by discard().
            target = Path(os.path.realpath(path))
            return cls(path, option, os.open(path, flags | os.O_CREAT, 0o666), created=target)
        except (OSError, ValueError) as error:
            if isinstance(error, ValueError):  # a NUL in the name: no kernel call takes it
                raise UsageError(f"{option} {literal(repr(str(path)))}: {error}") from None
            raise UsageError(_refusal(path, option, error)) from None

    def same_file(self, other: OutputFile) -> bool:
        """Whether both name one file (a link, a relative and an absolute spelling)."""
        return os.path.samestat(os.fstat(self.descriptor), os.fstat(other.descriptor))

    def write(self, content: bytes) -> None:
        """Replace the file's content with ``content`` (a pipe or a device just gets it)."""
        try:
            if stat.S_ISREG(os.fstat(self.descriptor).st_mode):
                os.ftruncate(self.descriptor, 0)
                os.lseek(self.descriptor, 0, os.SEEK_SET)
            view = memoryview(content)
            while view:
                view = view[os.write(self.descriptor, view) :]
            self.written = True
        finally:
            os.close(self.descriptor)
            self.descriptor = -1

    def discard(self) -> None:
        """Close the file, unwritten; remove it if the check created it."""
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1
        if self.created is not None and not self.written:
            # Gone already, or its directory changed: nothing of ours is left to clean.
            with contextlib.suppress(OSError):
                self.created.unlink()


def _refusal(path: Path, option: str, error: OSError) -> str:
    """The usage error's text: the option, the path, and the kernel's reason in words."""
    where = literal(repr(str(path)))
    if error.errno == errno.EISDIR:
        return f"{option} {where} is a directory: name a file in it"
    parent = path.parent if str(path.parent) else Path(".")
    if error.errno == errno.ENOENT and not os.path.isdir(parent):  # isdir: False, never raises
        return f"{option} {where}: directory {literal(repr(str(parent)))} does not exist"
    reason = error.strerror or errno.errorcode.get(error.errno or 0, type(error).__name__)
    return f"{option} {where} cannot be written: {literal(reason)}"
