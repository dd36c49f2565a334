"""Reading an uploaded zip of recordings safely: never extracted, every size capped.

- The end-of-central-directory record is checked before `zipfile` parses anything: more than
  `ZipLimits.max_entries` entries, or a central directory over `max_central_directory` bytes,
  fails at once, so a zip with millions of tiny entries cannot exhaust memory.
- Entry names are never used as file-system paths. An absolute name (`/x.wav`, `C:x.wav`), a `..`
  component, a NUL byte, a symbolic-link entry or an encrypted entry fails the job all the same.
- Directories, `__MACOSX/...` and dot files (`.DS_Store`, `._a.wav`, `dir/.x.wav`) are ignored;
  so are files that do not end in `.wav`/`.wave` (case-insensitive).
- Only the WAV entries are ever decompressed, so only theirs are checked (the other entries'
  names are checked all the same). Compression: stored, deflate, bzip2 and LZMA are read; any
  other method (Deflate64, PPMd, Zstandard, XZ, implode...) is refused by name as unsupported,
  never called corrupt; encrypted entries (ZipCrypto, strong encryption, WinZip AES) likewise.
- Declared sizes are checked first: the WAV entries' sum against `max_total_uncompressed`. A
  recording's own length is capped by `max_file_seconds` (its own code, from the WAV header,
  before its data is read), not by its bytes; `max_entry_uncompressed` (4 GiB, the most a zip
  without Zip64 can hold; 2 hours of 48 kHz 24-bit stereo is 2.07 GB) is checked on the bytes
  read, after the WAV header's length check. While reading, the bytes that really come out are
  counted against the same limits, so a header that lies cannot get past them either.
- No compression ratio is refused: digital silence deflates about 1000:1 (deflate's own ceiling,
  1032:1), as much as a bomb's zeros, and bzip2 or LZMA go far beyond, so a ratio cannot tell a
  muted take from a bomb. What makes a zip bomb dangerous is the bytes it expands to, and those
  are capped above; the one construction that multiplies them past the caps' intent, entries
  whose data overlap (Fifield, "A better zip bomb", WOOT 2019), is refused as such, the only
  reason that says "zip bomb?".
- Entries are yielded sorted by name, as streams read in bounded pieces; nothing is held beyond
  the piece being read.

Every problem raises `AssessmentFailed` with `CODE_BAD_ZIP` (or `CODE_NO_WAV`), never a zipfile,
zlib or OS error.
"""

from __future__ import annotations

import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import IO, Final

from mock_server.assessment.failures import CODE_BAD_ZIP, CODE_NO_WAV, AssessmentFailed

__all__ = [
    "CHUNK",
    "DEFAULT_LIMITS",
    "EntryStream",
    "ZipLimits",
    "is_ignored",
    "is_wav_name",
    "wav_entries",
]

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB
CHUNK: Final = 1 * MiB
WAV_SUFFIXES: Final = (".wav", ".wave")

# What zipfile, zlib, lzma and the file system raise on a corrupt or hostile zip.
ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
)


@dataclass(frozen=True)
class ZipLimits:
    """Caps on what an upload may hold (zip sizes checked on declared AND on actual bytes).

    `max_file_seconds` caps one recording's length (it bounds the analysis' memory).
    """

    max_entries: int = 1000
    max_total_uncompressed: int = 8 * GiB
    max_entry_uncompressed: int = 4 * GiB
    max_central_directory: int = 16 * MiB
    max_file_seconds: float = 2 * 3600.0


DEFAULT_LIMITS: Final = ZipLimits()

# The compression methods zipfile reads (APPNOTE.TXT 4.4.5), and the names of the others.
READABLE_METHODS: Final = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
}
METHOD_NAMES: Final = {
    1: "Shrink",
    2: "Reduce",
    3: "Reduce",
    4: "Reduce",
    5: "Reduce",
    6: "Implode",
    9: "Deflate64",
    10: "PKWARE DCL Implode",
    16: "IBM z/OS CMPSC",
    18: "IBM TERSE",
    19: "IBM LZ77",
    20: "Zstandard (old id)",
    93: "Zstandard",
    94: "MP3",
    95: "XZ",
    96: "JPEG",
    97: "WavPack",
    98: "PPMd",
}
AES_METHOD: Final = 99  # WinZip AES encryption (AE-1/AE-2)


def is_ignored(name: str) -> bool:
    """Directories, macOS resource forks and dot files are not recordings."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return (
        name.endswith(("/", "\\"))
        or not parts
        or parts[0] == "__MACOSX"
        or any(p.startswith(".") for p in parts)
    )


def is_wav_name(name: str) -> bool:
    """A recording to assess: not ignored, and named *.wav or *.wave (any case)."""
    return not is_ignored(name) and name.lower().endswith(WAV_SUFFIXES)


def unsafe_name(name: str) -> str | None:
    """Why an entry name is unsafe, or None."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "absolute path in the zip (not allowed)"
    if ".." in normal.split("/"):
        return "'..' in an entry name (path traversal, not allowed)"
    if "\0" in normal:
        return "NUL byte in an entry name"
    return None


def central_directory_size(fp: IO[bytes], upload: str) -> tuple[int, int]:
    """(entry count, central directory bytes) from the end records, before zipfile reads them."""
    fp.seek(0, 2)
    size = fp.tell()
    tail_len = min(size, 22 + 0xFFFF)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise AssessmentFailed(CODE_BAD_ZIP, f"{upload}: not a zip file")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        # Zip64: the zip64 end record sits right before its 20-byte locator (as zipfile assumes).
        locator_at = size - tail_len + at - 20
        record_at = locator_at - 56
        if record_at >= 0:
            fp.seek(record_at)
            record = fp.read(56 + 20)
            if record[:4] == b"PK\x06\x06" and record[56:60] == b"PK\x06\x07":
                entries, cd_size = struct.unpack("<QQ", record[32:48])
    return entries, cd_size


class _Budget:
    """Counts the bytes really decompressed, in total over the zip."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.total = 0


class EntryStream:
    """One zip entry read in bounded pieces, with the limits enforced on the bytes that come out.

    `read(n)` returns at most n bytes (b"" at the end) and raises AssessmentFailed(CODE_BAD_ZIP)
    for a corrupt entry or an exceeded limit.
    """

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, budget: _Budget) -> None:
        self._raw = raw
        self._info = info
        self._budget = budget
        self.count = 0

    def read(self, n: int) -> bytes:
        info, limits = self._info, self._budget.limits
        try:
            data = self._raw.read(n)
        except ZIP_ERRORS as exc:
            raise AssessmentFailed(
                CODE_BAD_ZIP, f"{info.filename}: corrupt zip entry ({exc})"
            ) from exc
        self.count += len(data)
        self._budget.total += len(data)
        if self.count > info.file_size:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{info.filename}: expands beyond its declared size of {info.file_size} bytes",
            )
        check_sizes(info.filename, self.count, self._budget.total, limits)
        return data

    @property
    def remaining(self) -> int:
        """Bytes left in the entry, by its declared size."""
        return max(self._info.file_size - self.count, 0)


def check_sizes(
    name: str, size: int, total: int, limits: ZipLimits, declared: bool = False
) -> None:
    """The size limits, on an entry's uncompressed `size` (as declared, or as read so far) and
    the zip's running `total`; raise AssessmentFailed(CODE_BAD_ZIP) naming the entry. One rule
    for the declared sizes and for the bytes that come out: resource limits, said as such
    (overlapping entries are the zip-bomb sign: `check_overlaps`). The per-entry limit is
    checked on the bytes read only (`declared` False): a WAV's length is checked first."""
    said = "declared " if declared else ""
    if not declared and size > limits.max_entry_uncompressed:
        raise AssessmentFailed(
            CODE_BAD_ZIP,
            f"{name}: more than {limits.max_entry_uncompressed} bytes uncompressed, the limit "
            "for one entry",
        )
    if total > limits.max_total_uncompressed:
        raise AssessmentFailed(
            CODE_BAD_ZIP,
            f"{name}: the zip's WAV files total more than {limits.max_total_uncompressed} bytes "
            f"uncompressed ({said}{total}), the limit for one upload: split it into several jobs",
        )


def unsupported(info: zipfile.ZipInfo) -> str | None:
    """Why an entry cannot be decompressed (encryption, a method zipfile does not read), or None."""
    if info.flag_bits & 0x1 or info.compress_type == AES_METHOD:
        kind = (
            "WinZip AES"
            if info.compress_type == AES_METHOD
            else "strong encryption"
            if info.flag_bits & 0x40
            else "ZipCrypto"
        )
        return f"encrypted entry ({kind}; not supported): zip it again without a password"
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, "unknown")
        readable = ", ".join(READABLE_METHODS.values())
        return (
            f"compression method {info.compress_type} ({method}) is not supported "
            f"(only {readable}): zip it again with deflate"
        )
    return None


# A local file header's fixed part (APPNOTE.TXT 4.3.7): an entry's data starts at least this
# far after its header's offset.
_LOCAL_HEADER: Final = 30


def check_overlaps(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entries whose data overlap another entry's: the construction of the zip bombs
    that expand past their size's worth ("A better zip bomb", D. Fifield, WOOT 2019). Each
    entry's extent is taken at its smallest (header, no name, no extra field, its compressed
    bytes), so an ordinary zip is never refused."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for before, after in pairwise(ordered):
        if after.header_offset < before.header_offset + _LOCAL_HEADER + before.compress_size:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{after.filename}: its data overlaps {before.filename}'s in the zip "
                "(overlapping entries: zip bomb?)",
            )


def check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse unsafe names and links (any entry), overlapping entries; encryption, unsupported
    methods and declared sizes over the limits (the WAV entries, the only ones read)."""
    check_overlaps(infos)
    total = 0
    for info in infos:
        name = info.filename
        problem = unsafe_name(name)
        if problem is not None:
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: {problem}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: symbolic link in the zip (not allowed)")
        if info.flag_bits & 0x1:  # any encrypted entry: the upload was made with a password
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: {unsupported(info)}")
        if not is_wav_name(name):
            continue
        problem = unsupported(info)
        if problem is not None:
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: {problem}")
        total += info.file_size
        check_sizes(name, info.file_size, total, limits, declared=True)


def wav_entries(path: Path, limits: ZipLimits) -> Iterator[tuple[str, EntryStream]]:
    """(entry name, stream) for each WAV in the zip at `path`, in name order.

    Raises AssessmentFailed: CODE_BAD_ZIP for anything unsafe or corrupt, CODE_NO_WAV when the
    zip holds no WAV. A stream is valid until the next one is asked for.
    """
    upload = path.name
    try:
        with path.open("rb") as fp:
            entries, cd_size = central_directory_size(fp, upload)
            if entries > limits.max_entries:
                raise AssessmentFailed(
                    CODE_BAD_ZIP,
                    f"{upload}: {entries} entries, more than the limit of {limits.max_entries}",
                )
            if cd_size > limits.max_central_directory:
                raise AssessmentFailed(
                    CODE_BAD_ZIP,
                    f"{upload}: central directory of {cd_size} bytes exceeds the limit of "
                    f"{limits.max_central_directory} bytes",
                )
            fp.seek(0)
            with zipfile.ZipFile(fp) as zf:
                infos = sorted(zf.infolist(), key=lambda i: i.filename)
                if len(infos) > limits.max_entries:
                    raise AssessmentFailed(
                        CODE_BAD_ZIP,
                        f"{upload}: {len(infos)} entries, more than the limit of "
                        f"{limits.max_entries}",
                    )
                check_declared(infos, limits)
                wavs = [i for i in infos if is_wav_name(i.filename)]
                if not wavs:
                    others = [i.filename for i in infos if not i.is_dir()]
                    found = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
                    detail = f"found only: {found}" if others else "the zip is empty"
                    raise AssessmentFailed(CODE_NO_WAV, f"{upload}: no WAV file ({detail})")
                budget = _Budget(limits)
                for info in wavs:
                    try:
                        raw = zf.open(info)
                    except ZIP_ERRORS as exc:
                        raise AssessmentFailed(
                            CODE_BAD_ZIP, f"{info.filename}: corrupt zip entry ({exc})"
                        ) from exc
                    with raw:
                        yield info.filename, EntryStream(raw, info, budget)
    except AssessmentFailed:
        raise
    except ZIP_ERRORS as exc:
        raise AssessmentFailed(CODE_BAD_ZIP, f"{upload}: not a valid zip file ({exc})") from exc
