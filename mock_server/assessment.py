# The Chinese advice uses full-width punctuation, as Chinese text should:
# ruff: noqa: RUF001
"""The audio-quality assessment the mock runs when a VOICE_ASSESS job is processed.

`assess_zip(path, language)` reads the uploaded zip of WAV recordings and returns an `Assessment`,
whose `to_json()` is exactly the API's AssessResult: six AssessProperty objects (`speed`, `sound`,
`snr`, `reverb`, `dnsmos_ovrl`, `dnsmos_bak`, each with `expected`, `actual`, `suggestion` in
Chinese, `suggestion_en` in English and `status`: 0 within the expected range, 1 out of it) plus an
overall `suggestion` in the job's language (CN: Chinese, EN: English).

Every number here is an ESTIMATE made by simple, documented signal-processing heuristics. They react
to the same things the cloud's models react to (noise, level, clipping, reverberation, speaking
rate), in the same direction, but they are not Huawei Cloud's algorithms, and the two DNSMOS-style
scores are NOT the DNSMOS neural network: they are a fixed formula over the other measurements.

Reading the zip (never extracted to disk)
-----------------------------------------
- The end-of-central-directory record is checked before `zipfile` parses anything: more than
  `ZipLimits.max_entries` entries, or a central directory over `max_central_directory` bytes,
  fails at once, so a zip with millions of tiny entries cannot exhaust memory.
- Entry names are never used as file-system paths. An absolute name (`/x.wav`, `C:x.wav`), a `..`
  component, a symbolic-link entry or an encrypted entry fails the job all the same.
- Directories, `__MACOSX/...` and dot files (`.DS_Store`, `._a.wav`, `dir/.x.wav`) are ignored;
  so are files that do not end in `.wav`/`.wave` (case-insensitive).
- Declared sizes are checked first: each entry's uncompressed size against
  `max_entry_uncompressed`, their sum against `max_total_uncompressed`, and the compression ratio
  against `max_ratio` (for entries over `ratio_min_size`; a small entry cannot bomb anything, and
  a few KiB of digital silence legitimately compress 1000:1). While reading, the bytes that really
  come out are counted against the same limits, so a header that lies cannot get past them either.
- Entries are read sorted by name, in chunks (1 MiB), and decoded as a stream; each file is analysed
  as soon as it is read and only its summary kept. Memory is the chunk's working set (~10 MiB)
  plus about 100 bytes per 10 ms of the longest file, which `max_file_seconds` caps (2 hours:
  ~70 MiB); it does not grow with the size of the zip or of the data.

WAV files accepted: RIFF/WAVE with PCM 8-bit (unsigned), 16, 24 and 32-bit signed integers, or
WAVE_FORMAT_IEEE_FLOAT 32/64-bit (also inside WAVE_FORMAT_EXTENSIBLE); 1 to 32 channels, mixed to
mono by averaging; sample rates 8000 to 48000 Hz; at least 0.1 s of audio.

Decision: one unreadable WAV fails the whole job, even among good ones (the API reference: "anything
the assessment cannot read fails the job"). The first failing entry in name order is reported.

Failure codes (`AssessmentFailed.code` -> the job's `job_failed_code`; `reason` ->
`job_failed_reason`, which always names the file, `<entry name>: <problem>`, or the upload itself
for zip-level problems):

============  ==================================================================================
MSS.20000001  No WAV file: the zip is empty or holds only directories, ignored or non-WAV files.
MSS.20000002  Unreadable WAV: not RIFF/WAVE, missing or malformed fmt/data chunk, truncated data,
              non-finite float samples.
MSS.20000003  Zip invalid or unsafe: not a zip, corrupt (bad CRC, bad headers), encrypted entry,
              unsupported compression, absolute or `..` name, symbolic link, too many entries, or
              a size or ratio limit exceeded (zip bomb).
MSS.20000004  Unsupported audio format: a codec other than PCM/IEEE float (A-law, ADPCM, MP3...),
              an unsupported bit depth, a sample rate outside 8000-48000 Hz, over 32 channels.
MSS.20000005  No audio: an empty data chunk, or less than 0.1 s of audio.
MSS.20000006  A recording is longer than `ZipLimits.max_file_seconds` (default 2 hours).
============  ==================================================================================

The metrics
-----------
Each file is cut into 10 ms frames; a frame's energy is the variance of its samples (DC removed),
its level `10*log10(energy)` in dBFS (full-scale square wave = 0 dBFS; floor -120 dB). From the
levels: the noise floor N is the mean energy of the quietest 10 % of frames; the active threshold
is max(N + 6 dB, P - 30 dB), where P is the 95th percentile level; frames above it are active
speech. Per-file values are combined weighted by file duration, except the speaking rate (total
syllables over total speaking time) and reverberation (median over all usable decays).

- sound (loudness): active speech level = mean energy of the active frames, in dBFS (the idea of
  ITU-T P.56's active speech level, much simplified). Expected -26 ~ -16 dBFS. Clipping is folded
  in: the share of samples at full scale (the largest integer codes, or |x| >= 1.0 for float), over
  all channels; more than 0.1 % puts `sound` out of range too and is named in `actual`.
- snr: 10*log10((active energy - noise energy) / noise energy), noise energy = the quietest 10 % of
  frames (the pauses). Expected >= 25 dB. It needs pauses; continuous audio reads as lower SNR.
- speed (speaking rate): syllable nuclei are peaks of the 50 ms-smoothed energy envelope, above the
  active threshold, each at least 3 dB above the dip separating it from its neighbour and 100 ms
  apart; speaking time is the active frames with gaps under 250 ms filled in (pauses excluded),
  plus 25 ms at both ends of each stretch for the weak consonants that fall under the threshold.
  Rate = syllables / speaking time, reported in syllables/s and, as one Chinese character is one
  syllable, characters/min for CN, or words/min for EN at 1.5 syllables per word. Expected 2.5 ~
  5.5 syllables/s (150 ~ 330 characters/min, 100 ~ 220 words/min).
- reverb: an RT60-like decay time from free decays. At each phrase end (active speech followed by
  at least 300 ms of pause) the smoothed level falls from its last peak; a line is fitted to the
  fall from 5 dB to 25 dB below that peak (or to 6 dB above the noise floor, needing at least a
  10 dB span) and RT60 = 60 dB / slope. Dry speech falls much faster than a room's tail, so the
  median over all phrase ends tracks the room. Expected <= 0.50 s. Without usable phrase ends
  (too noisy, no pauses), `actual` is "n/a" and the status 0.
- dnsmos_bak (background, 1-5): 1 + 3.4 * sigmoid((SNR - 17 dB) / 5 dB), minus up to 0.3 for a
  noise floor above -45 dBFS and up to 0.3 for reverberation. Expected 3.00 ~ 5.00.
- dnsmos_ovrl (overall, 1-5): 1 + 2.6 * sigmoid((SNR - 15 dB) / 6 dB), minus penalties: up to 1.2
  for RT60 above 0.3 s, up to 1.5 for clipping (0.5 per decade above 0.01 % of samples), and
  0.05 per dB of level outside -26 ~ -16 dBFS (at most 0.8). Clamped to 1-5. Expected 3.00 ~ 5.00.
- Total duration: under 3 s in total is named in the overall suggestion as too short.

Deterministic: entries are processed in name order, nothing is random, and values are rounded for
`actual` before the range checks, so the same zip always gives the same result.
"""

from __future__ import annotations

import itertools
import lzma
import math
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "CODE_BAD_ZIP",
    "CODE_EMPTY_AUDIO",
    "CODE_NO_WAV",
    "CODE_TOO_LONG",
    "CODE_UNREADABLE_WAV",
    "CODE_UNSUPPORTED_FORMAT",
    "FAILURE_CODES",
    "Assessment",
    "AssessmentFailed",
    "Metric",
    "ZipLimits",
    "assess_zip",
]

FloatArray = npt.NDArray[np.float64]

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB

CODE_NO_WAV: Final = "MSS.20000001"
CODE_UNREADABLE_WAV: Final = "MSS.20000002"
CODE_BAD_ZIP: Final = "MSS.20000003"
CODE_UNSUPPORTED_FORMAT: Final = "MSS.20000004"
CODE_EMPTY_AUDIO: Final = "MSS.20000005"
CODE_TOO_LONG: Final = "MSS.20000006"

FAILURE_CODES: Final[dict[str, str]] = {
    CODE_NO_WAV: "the zip holds no WAV file",
    CODE_UNREADABLE_WAV: "a WAV file cannot be read",
    CODE_BAD_ZIP: "the upload is not a valid zip, or is unsafe (zip bomb, unsafe entry name)",
    CODE_UNSUPPORTED_FORMAT: "a WAV file has an unsupported audio format",
    CODE_EMPTY_AUDIO: "a WAV file holds no audio",
    CODE_TOO_LONG: "a recording is longer than the limit",
}

METRIC_NAMES: Final = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")

# Expected ranges and thresholds (documented in the module docstring).
LEVEL_RANGE: Final = (-26.0, -16.0)
CLIP_MAX_FRACTION: Final = 0.001
SNR_MIN: Final = 25.0
SPEED_RANGE: Final = (2.5, 5.5)
REVERB_MAX: Final = 0.5
DNSMOS_MIN: Final = 3.0
MIN_TOTAL_SECONDS: Final = 3.0
SYLLABLES_PER_WORD_EN: Final = 1.5

_FRAME_SECONDS: Final = 0.01
_MIN_FRAMES: Final = 10
_CHUNK: Final = 1 * MiB
_ENERGY_FLOOR: Final = 1e-12
_NOISE_FLOOR: Final = 1e-10
_WAV_SUFFIXES: Final = (".wav", ".wave")
_FORMAT_PCM: Final = 0x0001
_FORMAT_FLOAT: Final = 0x0003
_FORMAT_EXTENSIBLE: Final = 0xFFFE
_FORMAT_NAMES: Final = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}


@dataclass(frozen=True)
class Metric:
    """One AssessProperty: the range as text, the value with its unit, advice in CN and EN."""

    expected: str
    actual: str
    suggestion: str
    suggestion_en: str
    status: int  # 0 within the expected range, 1 out of range

    def to_json(self) -> dict[str, object]:
        return {
            "expected": self.expected,
            "actual": self.actual,
            "suggestion": self.suggestion,
            "suggestion_en": self.suggestion_en,
            "status": self.status,
        }


@dataclass(frozen=True)
class Assessment:
    """An AssessResult: six metrics and the overall suggestion in the job's language."""

    speed: Metric
    sound: Metric
    snr: Metric
    reverb: Metric
    dnsmos_ovrl: Metric
    dnsmos_bak: Metric
    suggestion: str

    def to_json(self) -> dict[str, object]:
        result: dict[str, object] = {name: getattr(self, name).to_json() for name in METRIC_NAMES}
        result["suggestion"] = self.suggestion
        return result


class AssessmentFailed(Exception):
    """The job fails: `code` becomes job_failed_code, `reason` job_failed_reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class ZipLimits:
    """Caps on what an uploaded zip may hold (all checked on declared AND on actual sizes)."""

    max_entries: int = 1000
    max_total_uncompressed: int = 2 * GiB
    max_entry_uncompressed: int = 512 * MiB
    max_ratio: float = 200.0
    ratio_min_size: int = 1 * MiB
    max_central_directory: int = 16 * MiB
    max_file_seconds: float = 2 * 3600.0


# --------------------------------------------------------------------------------------------
# The zip


def _central_directory_size(fp: IO[bytes], upload: str) -> tuple[int, int]:
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


def _unsafe_name(name: str) -> str | None:
    """Why an entry name is unsafe, or None."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "absolute path in the zip (not allowed)"
    if ".." in normal.split("/"):
        return "'..' in an entry name (path traversal, not allowed)"
    if "\0" in normal:
        return "NUL byte in an entry name"
    return None


def _ignored(name: str) -> bool:
    """Directories, macOS resource forks and dot files are not recordings."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return (
        name.endswith(("/", "\\"))
        or not parts
        or parts[0] == "__MACOSX"
        or any(p.startswith(".") for p in parts)
    )


class _Budget:
    """Counts the bytes really decompressed, per entry and in total."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.total = 0


class _EntryStream:
    """Reads one entry in bounded pieces, enforcing the limits on the bytes that come out."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, budget: _Budget) -> None:
        self._raw = raw
        self._info = info
        self._budget = budget
        self.count = 0

    def read(self, n: int) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        self._budget.total += len(data)
        info, limits = self._info, self._budget.limits
        if self.count > info.file_size:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{info.filename}: expands beyond its declared size of {info.file_size} bytes",
            )
        if self.count > limits.max_entry_uncompressed:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{info.filename}: uncompressed size exceeds the limit of "
                f"{limits.max_entry_uncompressed} bytes (zip bomb?)",
            )
        if self._budget.total > limits.max_total_uncompressed:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{info.filename}: the zip's total uncompressed size exceeds the limit of "
                f"{limits.max_total_uncompressed} bytes (zip bomb?)",
            )
        if self.count > limits.ratio_min_size and self.count > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{info.filename}: compression ratio over {limits.max_ratio:g}:1 (zip bomb?)",
            )
        return data

    @property
    def remaining(self) -> int:
        """Bytes left in the entry, by its declared size."""
        return max(self._info.file_size - self.count, 0)

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n:
            data = self.read(min(_CHUNK, n - skipped))
            if not data:
                break
            skipped += len(data)
        return skipped


def _check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits, upload: str) -> None:
    total = 0
    for info in infos:
        name = info.filename
        problem = _unsafe_name(name)
        if problem is not None:
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: {problem}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: symbolic link in the zip (not allowed)")
        if info.flag_bits & 0x1:
            raise AssessmentFailed(CODE_BAD_ZIP, f"{name}: encrypted entry (not supported)")
        if info.file_size > limits.max_entry_uncompressed:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{name}: declared uncompressed size {info.file_size} bytes exceeds the limit "
                f"of {limits.max_entry_uncompressed} bytes (zip bomb?)",
            )
        if info.file_size > limits.ratio_min_size and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{name}: compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
                f"exceeds the limit of {limits.max_ratio:g}:1 (zip bomb?)",
            )
        total += info.file_size
        if total > limits.max_total_uncompressed:
            raise AssessmentFailed(
                CODE_BAD_ZIP,
                f"{upload}: declared total uncompressed size exceeds the limit of "
                f"{limits.max_total_uncompressed} bytes (at {name}; zip bomb?)",
            )


# --------------------------------------------------------------------------------------------
# WAV decoding (streamed)


@dataclass(frozen=True)
class _Format:
    code: int  # _FORMAT_PCM or _FORMAT_FLOAT
    channels: int
    sample_rate: int
    bits: int
    block_align: int


@dataclass(frozen=True)
class _Track:
    """What the analysis needs from one file: 10 ms frame energies and a few counts."""

    name: str
    energies: FloatArray
    frame_seconds: float
    seconds: float
    samples: int  # sample values over all channels
    clipped: int


def _parse_fmt(name: str, body: bytes) -> _Format:
    if len(body) < 16:
        raise AssessmentFailed(
            CODE_UNREADABLE_WAV, f"{name}: fmt chunk too short ({len(body)} bytes)"
        )
    code, channels, rate, _, block_align, bits = struct.unpack("<HHLLHH", body[:16])
    if code == _FORMAT_EXTENSIBLE:
        if len(body) < 40:
            raise AssessmentFailed(
                CODE_UNREADABLE_WAV, f"{name}: WAVE_FORMAT_EXTENSIBLE fmt chunk too short"
            )
        code = struct.unpack("<H", body[24:26])[0]
    if code not in (_FORMAT_PCM, _FORMAT_FLOAT):
        label = _FORMAT_NAMES.get(code, "unknown")
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT,
            f"{name}: unsupported WAV format 0x{code:04x} ({label}); "
            "only PCM and IEEE float are supported",
        )
    if code == _FORMAT_PCM and bits not in (8, 16, 24, 32):
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: unsupported PCM bit depth {bits} (8/16/24/32)"
        )
    if code == _FORMAT_FLOAT and bits not in (32, 64):
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: unsupported float bit depth {bits} (32/64)"
        )
    if channels == 0:
        raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: fmt chunk declares 0 channels")
    if channels > 32:
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: {channels} channels (at most 32 supported)"
        )
    if not 8000 <= rate <= 48000:
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT,
            f"{name}: sample rate {rate} Hz is outside 8000-48000 Hz",
        )
    if block_align != channels * bits // 8:
        raise AssessmentFailed(
            CODE_UNREADABLE_WAV,
            f"{name}: inconsistent fmt chunk (block align {block_align}, "
            f"expected {channels * bits // 8} for {channels} x {bits}-bit)",
        )
    return _Format(code, channels, rate, bits, block_align)


class _Decoder:
    """Turns raw sample bytes into 10 ms frame energies, chunk by chunk."""

    def __init__(self, name: str, fmt: _Format, max_seconds: float) -> None:
        self.name = name
        self.fmt = fmt
        self.max_seconds = max_seconds
        self.hop = max(1, round(fmt.sample_rate * _FRAME_SECONDS))
        self.pending: FloatArray = np.zeros(0)
        self.energies: list[FloatArray] = []
        self.frames = 0  # sample frames (one sample per channel)
        self.clipped = 0
        if fmt.code == _FORMAT_FLOAT:
            self.clip_at = 1.0
        else:
            full = float(2 ** (fmt.bits - 1))
            self.clip_at = (full - 1.0) / full

    def _samples(self, raw: bytes) -> FloatArray:
        fmt = self.fmt
        if fmt.code == _FORMAT_FLOAT:
            x = np.frombuffer(raw, dtype="<f4" if fmt.bits == 32 else "<f8").astype(np.float64)
            if not np.all(np.isfinite(x)):
                raise AssessmentFailed(
                    CODE_UNREADABLE_WAV, f"{self.name}: non-finite (NaN or infinite) float samples"
                )
            return x
        if fmt.bits == 8:
            return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
        if fmt.bits == 16:
            return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
        if fmt.bits == 24:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8  # sign-extend via the top byte
            return (v >> 8).astype(np.float64) / 8388608.0
        return np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0

    def feed(self, raw: bytes) -> None:
        if not raw:
            return
        x = self._samples(raw)
        self.clipped += int(np.count_nonzero(np.abs(x) >= self.clip_at))
        channels = self.fmt.channels
        if channels == 1:
            mono = x
        else:
            mono = x[0::channels].copy()
            for c in range(1, channels):
                mono += x[c::channels]
            mono /= channels
        self.frames += mono.size
        if self.frames > self.max_seconds * self.fmt.sample_rate:
            raise _too_long(self.name, self.max_seconds)
        buf = np.concatenate((self.pending, mono)) if self.pending.size else mono
        full = buf.size // self.hop
        if full:
            frames = buf[: full * self.hop].reshape(full, self.hop)
            mean = frames.sum(axis=1) / self.hop
            power = np.einsum("ij,ij->i", frames, frames) / self.hop
            self.energies.append(np.maximum(power - mean * mean, 0.0))  # the frame's variance
        self.pending = buf[full * self.hop :].copy()

    def track(self) -> _Track:
        energies = np.concatenate(self.energies) if self.energies else np.zeros(0)
        return _Track(
            name=self.name,
            energies=energies,
            frame_seconds=self.hop / self.fmt.sample_rate,
            seconds=self.frames / self.fmt.sample_rate,
            samples=self.frames * self.fmt.channels,
            clipped=self.clipped,
        )


def _too_long(name: str, max_seconds: float) -> AssessmentFailed:
    return AssessmentFailed(
        CODE_TOO_LONG, f"{name}: longer than the limit of {max_seconds:g} s per recording"
    )


def _read_wav(name: str, entry: _EntryStream, max_seconds: float) -> _Track:
    header = entry.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: not a RIFF/WAVE file")
    fmt: _Format | None = None
    while True:
        chunk = entry.read(8)
        if len(chunk) < 8:
            missing = "fmt and data chunks" if fmt is None else "data chunk"
            raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: no {missing}")
        cid, size = chunk[:4], struct.unpack("<L", chunk[4:])[0]
        label = cid.decode("latin-1").strip() or "?"
        if cid == b"fmt ":
            if size > 4096:
                raise AssessmentFailed(
                    CODE_UNREADABLE_WAV, f"{name}: malformed fmt chunk ({size} bytes)"
                )
            body = entry.read(size + (size & 1))
            if len(body) < size:
                raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: truncated fmt chunk")
            fmt = _parse_fmt(name, body[:size])
        elif cid == b"data":
            if fmt is None:
                raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: data chunk before fmt chunk")
            length = None if size == 0xFFFFFFFF else size
            return _read_data(name, entry, fmt, length, max_seconds)
        else:
            want = size + (size & 1)
            if entry.skip(want) < size:
                raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: truncated '{label}' chunk")


def _read_data(
    name: str, entry: _EntryStream, fmt: _Format, size: int | None, max_seconds: float
) -> _Track:
    """Stream the data chunk; `size` None means 'to the end of the file' (streamed WAVs)."""
    # Too long by the header alone: fail before reading, unless the entry is shorter than the
    # header claims (then reading reports the truncation, the real problem).
    declared = size if size is not None else entry.remaining
    if declared <= entry.remaining and declared // fmt.block_align > max_seconds * fmt.sample_rate:
        raise _too_long(name, max_seconds)
    decoder = _Decoder(name, fmt, max_seconds)
    step = _CHUNK - _CHUNK % fmt.block_align
    carry = b""
    got = 0
    while size is None or got < size:
        data = entry.read(step if size is None else min(step, size - got))
        if not data:
            break
        got += len(data)
        buf = carry + data if carry else data
        usable = len(buf) - len(buf) % fmt.block_align
        carry = buf[usable:]
        decoder.feed(buf[:usable])
    if size is not None and got < size:
        raise AssessmentFailed(
            CODE_UNREADABLE_WAV,
            f"{name}: truncated data chunk (expected {size} bytes, got {got})",
        )
    track = decoder.track()
    if track.samples == 0:
        raise AssessmentFailed(CODE_EMPTY_AUDIO, f"{name}: no audio samples (empty data chunk)")
    if track.energies.size < _MIN_FRAMES:
        raise AssessmentFailed(
            CODE_EMPTY_AUDIO,
            f"{name}: only {track.seconds * 1000:.0f} ms of audio (at least 100 ms needed)",
        )
    return track


# --------------------------------------------------------------------------------------------
# Analysis


def _db(power: float | FloatArray) -> FloatArray:
    return np.asarray(10.0 * np.log10(np.maximum(power, _ENERGY_FLOOR)), dtype=np.float64)


def _smooth(x: FloatArray, frames: int) -> FloatArray:
    if frames <= 1 or x.size == 0:
        return x
    kernel = np.ones(frames) / frames
    out: FloatArray = np.convolve(x, kernel, mode="same")
    return out


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _fill_gaps(mask: npt.NDArray[np.bool_], max_gap: int) -> npt.NDArray[np.bool_]:
    out = mask.copy()
    runs = _runs(mask)
    for (_, end), (start, _) in itertools.pairwise(runs):
        if start - end < max_gap:
            out[end:start] = True
    return out


def _syllable_peaks(level: FloatArray, threshold: float, min_gap: int, dip_db: float) -> int:
    """Count prominent envelope peaks: local maxima above the threshold, separated by dips."""
    if level.size < 3:
        return 0
    inner = level[1:-1]
    is_peak = (inner > level[:-2]) & (inner >= level[2:]) & (inner > threshold)
    candidates = (np.flatnonzero(is_peak) + 1).tolist()
    kept: list[int] = []
    for idx in candidates:
        if not kept:
            kept.append(idx)
            continue
        last = kept[-1]
        dip = float(level[last : idx + 1].min())
        separated = idx - last >= min_gap
        if separated and dip <= level[last] - dip_db and dip <= level[idx] - dip_db:
            kept.append(idx)
        elif level[idx] > level[last]:
            kept[-1] = idx  # same syllable: keep the higher peak
    return len(kept)


def _decay_times(
    level: FloatArray, active: npt.NDArray[np.bool_], noise_db: float, frame_seconds: float
) -> list[float]:
    """RT60-like times of the free decays at phrase ends."""
    min_pause = round(0.3 / frame_seconds)
    look_back = round(0.2 / frame_seconds)
    times: list[float] = []
    runs = _runs(active)
    for i, (start, end) in enumerate(runs):
        next_start = runs[i + 1][0] if i + 1 < len(runs) else level.size
        if next_start - end < min_pause:
            continue
        first = max(start, end - look_back)
        peak_at = first + int(np.argmax(level[first:end]))
        peak = float(level[peak_at])
        floor = max(peak - 25.0, noise_db + 6.0)
        if floor > peak - 15.0:
            continue
        fall = level[peak_at:next_start]
        below_top = np.flatnonzero(fall <= peak - 5.0)
        if below_top.size == 0:
            continue
        i1 = int(below_top[0])
        below_floor = np.flatnonzero(fall[i1:] <= floor)
        if below_floor.size == 0:
            continue
        i2 = i1 + int(below_floor[0])
        if i2 - i1 < 2:
            # Faster than the frame rate can follow: a dry offset.
            times.append(60.0 / ((peak - 5.0 - floor) / ((i2 - i1 + 1) * frame_seconds)))
            continue
        t = np.arange(i1, i2 + 1) * frame_seconds
        slope = float(np.polyfit(t, fall[i1 : i2 + 1], 1)[0])
        if slope < 0:
            times.append(-60.0 / slope)
    return times


@dataclass(frozen=True)
class _FileStats:
    seconds: float
    level_db: float
    snr_db: float
    noise_db: float
    syllables: int
    speaking_seconds: float
    decays: list[float]
    samples: int
    clipped: int


def _analyse(track: _Track) -> _FileStats:
    energies = track.energies
    levels = _db(energies)
    dt = track.frame_seconds
    quiet_cut = float(np.percentile(levels, 10.0))
    noise = max(float(np.mean(energies[levels <= quiet_cut])), _NOISE_FLOOR)
    noise_db = float(_db(noise))
    top = float(np.percentile(levels, 95.0))
    threshold = max(noise_db + 6.0, top - 30.0)
    active = levels > threshold
    speech = float(np.mean(energies[active])) if active.any() else float(np.mean(energies))
    snr = float(_db(max(speech - noise, _ENERGY_FLOOR) / noise))
    smooth_level = _db(_smooth(energies, max(1, round(0.05 / dt))))
    syllables = _syllable_peaks(
        smooth_level, threshold, min_gap=max(1, round(0.1 / dt)), dip_db=3.0
    )
    speaking = _fill_gaps(active, max(1, round(0.25 / dt)))
    decay_level = _db(_smooth(energies, 3))
    decays = _decay_times(decay_level, decay_level > threshold, noise_db, dt)
    return _FileStats(
        seconds=track.seconds,
        level_db=float(_db(speech)),
        snr_db=max(snr, -20.0),
        noise_db=noise_db,
        syllables=syllables,
        # + 25 ms at each end of each stretch: weak edge consonants fall under the threshold.
        speaking_seconds=float(np.count_nonzero(speaking)) * dt + 0.05 * len(_runs(speaking)),
        decays=decays,
        samples=track.samples,
        clipped=track.clipped,
    )


# --------------------------------------------------------------------------------------------
# Scores and wording


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _dnsmos_bak(snr: float, noise_db: float, rt60: float | None) -> float:
    score = 1.0 + 3.4 * _sigmoid((snr - 17.0) / 5.0)
    score -= 0.3 * _clamp((noise_db + 45.0) / 15.0, 0.0, 1.0)
    if rt60 is not None:
        score -= 0.3 * _clamp((rt60 - 0.3) / 0.9, 0.0, 1.0)
    return _clamp(score, 1.0, 5.0)


def _dnsmos_ovrl(snr: float, level: float, clip_fraction: float, rt60: float | None) -> float:
    score = 1.0 + 2.6 * _sigmoid((snr - 15.0) / 6.0)
    if rt60 is not None:
        score -= 1.2 * _clamp((rt60 - 0.3) / 0.9, 0.0, 1.0)
    if clip_fraction > 1e-4:
        score -= _clamp(0.5 * math.log10(clip_fraction / 1e-4), 0.0, 1.5)
    outside = max(LEVEL_RANGE[0] - level, level - LEVEL_RANGE[1], 0.0)
    score -= min(0.05 * outside, 0.8)
    return _clamp(score, 1.0, 5.0)


def _speed_metric(rate: float, english: bool) -> Metric:
    rate = round(rate, 1)
    low, high = SPEED_RANGE
    if english:
        unit = "words/min"
        per_min = rate * 60.0 / SYLLABLES_PER_WORD_EN
        lo_min, hi_min = low * 60.0 / SYLLABLES_PER_WORD_EN, high * 60.0 / SYLLABLES_PER_WORD_EN
    else:
        unit = "characters/min"
        per_min, lo_min, hi_min = rate * 60.0, low * 60.0, high * 60.0
    expected = f"{low:.1f} ~ {high:.1f} syllables/s ({lo_min:.0f} ~ {hi_min:.0f} {unit})"
    actual = f"{rate:.1f} syllables/s ({per_min:.0f} {unit})"
    if rate < low:
        return Metric(
            expected,
            actual,
            "语速偏慢，请以自然、连贯的语速朗读，减少拖音和不必要的停顿。",
            "Speaking rate is too slow: read at a natural, fluent pace without drawling or "
            "needless pauses.",
            1,
        )
    if rate > high:
        return Metric(
            expected,
            actual,
            "语速偏快，请放慢语速，吐字清晰。",
            "Speaking rate is too fast: slow down and articulate clearly.",
            1,
        )
    return Metric(
        expected,
        actual,
        "语速正常。",
        "Speaking rate is OK.",
        0,
    )


def _sound_metric(level: float, clip_fraction: float) -> Metric:
    level = round(level, 1)
    clip_pct = round(clip_fraction * 100.0, 2)
    low, high = LEVEL_RANGE
    expected = f"{low:.0f} ~ {high:.0f} dBFS, clipping <= {CLIP_MAX_FRACTION * 100:g}%"
    clipped = clip_pct > CLIP_MAX_FRACTION * 100.0
    actual = f"{level:.1f} dBFS" + (f", {clip_pct:.2f}% samples clipped" if clipped else "")
    cn: list[str] = []
    en: list[str] = []
    if level < low:
        cn.append("音量偏小，请靠近麦克风或调高录音增益。")
        en.append("Too quiet: move closer to the microphone or raise the recording gain.")
    elif level > high:
        cn.append("音量偏大，请远离麦克风或调低录音增益。")
        en.append("Too loud: move away from the microphone or lower the recording gain.")
    if clipped:
        cn.append(f"有 {clip_pct:.2f}% 的采样削波（爆音），请降低录音增益后重新录制。")
        en.append(
            f"{clip_pct:.2f}% of the samples are clipped at full scale: lower the input gain "
            "and record again."
        )
    if not cn:
        return Metric(expected, actual, "音量适中，无削波。", "Loudness is OK, no clipping.", 0)
    return Metric(expected, actual, "".join(cn), " ".join(en), 1)


def _snr_metric(snr: float) -> Metric:
    snr = round(snr, 1)
    expected = f">= {SNR_MIN:.0f} dB"
    actual = f"{snr:.1f} dB"
    if snr < SNR_MIN:
        return Metric(
            expected,
            actual,
            "信噪比偏低，背景噪声较大，请在安静的环境中录音，远离风扇、空调等噪声源。",
            "Signal-to-noise ratio is too low: record in a quiet room, away from fans, air "
            "conditioning and other noise sources.",
            1,
        )
    return Metric(expected, actual, "信噪比良好。", "Signal-to-noise ratio is OK.", 0)


def _reverb_metric(rt60: float | None) -> Metric:
    expected = f"<= {REVERB_MAX:.2f} s"
    if rt60 is None:
        return Metric(
            expected,
            "n/a",
            "无法估计混响（缺少清晰的句间停顿或噪声过大）。",
            "Reverberation could not be estimated (no clear pauses after phrases, or too much "
            "noise).",
            0,
        )
    rt60 = round(rt60, 2)
    actual = f"{rt60:.2f} s"
    if rt60 > REVERB_MAX:
        return Metric(
            expected,
            actual,
            "混响偏大，请在较小、有软装（窗帘、地毯）的房间录音，并靠近麦克风。",
            "Too much reverberation: record in a smaller room with soft furnishings (curtains, "
            "carpet) and stay close to the microphone.",
            1,
        )
    return Metric(expected, actual, "混响较小。", "Reverberation is OK.", 0)


def _dnsmos_metric(
    score: float, what_cn: str, what_en: str, advice_cn: str, advice_en: str
) -> Metric:
    score = round(score, 2)
    expected = f"{DNSMOS_MIN:.2f} ~ 5.00"
    actual = f"{score:.2f}"
    if score < DNSMOS_MIN:
        return Metric(
            expected,
            actual,
            f"{what_cn}偏低（估计值），{advice_cn}",
            f"{what_en} is low (estimate): {advice_en}",
            1,
        )
    return Metric(expected, actual, f"{what_cn}良好（估计值）。", f"{what_en} is OK (estimate).", 0)


_LABELS: Final = {
    "speed": ("语速", "speaking rate (speed)"),
    "sound": ("音量", "loudness (sound)"),
    "snr": ("信噪比", "signal-to-noise ratio (snr)"),
    "reverb": ("混响", "reverberation (reverb)"),
    "dnsmos_ovrl": ("整体音质", "overall quality (dnsmos_ovrl)"),
    "dnsmos_bak": ("背景噪声评分", "background noise score (dnsmos_bak)"),
}


def _overall(metrics: dict[str, Metric], files: int, seconds: float, english: bool) -> str:
    bad = [name for name in METRIC_NAMES if metrics[name].status]
    too_short = round(seconds, 1) < MIN_TOTAL_SECONDS
    if english:
        head = f"{files} file(s), {seconds:.1f} s in total: "
        parts: list[str] = []
        if bad:
            names = ", ".join(_LABELS[n][1] for n in bad)
            parts.append(f"{len(bad)} metric(s) out of range: {names}; see each metric's advice.")
        if too_short:
            parts.append(
                f"The recordings are too short: record at least {MIN_TOTAL_SECONDS:.0f} s."
            )
        if not parts:
            return (
                head + "all metrics are within the expected range; the recordings are fit for use."
            )
        return head + " ".join(parts) + " Fix these and record again."
    head = f"共 {files} 个文件，总时长 {seconds:.1f} 秒："
    cn: list[str] = []
    if bad:
        names_cn = "、".join(_LABELS[n][0] for n in bad)
        cn.append(f"{len(bad)} 项指标不在期望范围内：{names_cn}，请参考各项建议。")
    if too_short:
        cn.append(f"录音时长过短，请至少录制 {MIN_TOTAL_SECONDS:.0f} 秒。")
    if not cn:
        return head + "各项指标均在期望范围内，录音可以使用。"
    return head + "".join(cn) + "请改善后重新录制。"


# --------------------------------------------------------------------------------------------
# Entry point

_ZIP_ERRORS: Final = (
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


def _read_and_analyse(path: Path, limits: ZipLimits) -> list[_FileStats]:
    """Each WAV's statistics; each file is analysed as soon as it is read, then let go."""
    upload = path.name
    try:
        with path.open("rb") as fp:
            entries, cd_size = _central_directory_size(fp, upload)
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
                _check_declared(infos, limits, upload)
                wavs = [
                    i
                    for i in infos
                    if not _ignored(i.filename) and i.filename.lower().endswith(_WAV_SUFFIXES)
                ]
                if not wavs:
                    others = [i.filename for i in infos if not i.is_dir()]
                    found = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
                    detail = f"found only: {found}" if others else "the zip is empty"
                    raise AssessmentFailed(CODE_NO_WAV, f"{upload}: no WAV file ({detail})")
                budget = _Budget(limits)
                stats: list[_FileStats] = []
                for info in wavs:
                    try:
                        with zf.open(info) as raw:
                            entry = _EntryStream(raw, info, budget)
                            track = _read_wav(info.filename, entry, limits.max_file_seconds)
                    except AssessmentFailed:
                        raise
                    except _ZIP_ERRORS as exc:
                        raise AssessmentFailed(
                            CODE_BAD_ZIP, f"{info.filename}: corrupt zip entry ({exc})"
                        ) from exc
                    stats.append(_analyse(track))
                    del track
                return stats
    except AssessmentFailed:
        raise
    except _ZIP_ERRORS as exc:
        raise AssessmentFailed(CODE_BAD_ZIP, f"{upload}: not a valid zip file ({exc})") from exc


def assess_zip(path: Path, language: str = "CN", limits: ZipLimits = ZipLimits()) -> Assessment:
    """Assess the recordings in the zip at `path`; the overall suggestion in `language` (CN/EN).

    Raises AssessmentFailed (and nothing else for any content of the file) when the zip or a WAV
    in it cannot be assessed; ValueError for a language other than CN or EN.
    """
    lang = language.upper()
    if lang not in ("CN", "EN"):
        raise ValueError(f"language must be CN or EN, not {language!r}")
    stats = _read_and_analyse(path, limits)
    weights = np.array([s.seconds for s in stats])
    seconds = float(weights.sum())

    def weighted(values: list[float]) -> float:
        return float(np.average(np.array(values), weights=weights))

    level = weighted([s.level_db for s in stats])
    snr = weighted([s.snr_db for s in stats])
    noise_db = weighted([s.noise_db for s in stats])
    clip_fraction = sum(s.clipped for s in stats) / sum(s.samples for s in stats)
    speaking = sum(s.speaking_seconds for s in stats)
    rate = sum(s.syllables for s in stats) / speaking if speaking > 0 else 0.0
    decays = [d for s in stats for d in s.decays]
    rt60 = float(np.median(decays)) if decays else None
    metrics = {
        "speed": _speed_metric(rate, english=lang == "EN"),
        "sound": _sound_metric(level, clip_fraction),
        "snr": _snr_metric(snr),
        "reverb": _reverb_metric(rt60),
        "dnsmos_ovrl": _dnsmos_metric(
            _dnsmos_ovrl(snr, level, clip_fraction, rt60),
            "整体音质评分",
            "Overall quality score",
            "请降低噪声和混响，避免削波，并保持合适的音量。",
            "reduce noise and reverberation, avoid clipping and keep a moderate level.",
        ),
        "dnsmos_bak": _dnsmos_metric(
            _dnsmos_bak(snr, noise_db, rt60),
            "背景噪声评分",
            "Background noise score",
            "背景噪声明显，请在安静的环境中录音。",
            "the background is noisy; record in a quiet place.",
        ),
    }
    return Assessment(
        speed=metrics["speed"],
        sound=metrics["sound"],
        snr=metrics["snr"],
        reverb=metrics["reverb"],
        dnsmos_ovrl=metrics["dnsmos_ovrl"],
        dnsmos_bak=metrics["dnsmos_bak"],
        suggestion=_overall(metrics, len(stats), seconds, english=lang == "EN"),
    )
