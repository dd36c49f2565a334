"""Streaming WAV decoding: RIFF/WAVE bytes in, mono float samples out, chunk by chunk.

Accepted: PCM 8-bit (unsigned), 16, 24 and 32-bit signed integers, or WAVE_FORMAT_IEEE_FLOAT
32/64-bit, also inside WAVE_FORMAT_EXTENSIBLE (Microsoft, "Multiple Channel Audio Data and WAVE
Files"); 1 to 32 channels, mixed to mono by averaging; 8000 to 48000 Hz; at least 0.1 s of audio.
A data chunk size of 0xFFFFFFFF means "to the end of the file" (streamed WAVs). Samples are
scaled to full scale = 1.0 (integer codes divided by 2^(bits-1)).

Clipping is counted on the samples before the mix: a sample at the largest integer code (either
sign), or |x| >= 1.0 for float.

Every problem raises AssessmentFailed naming the file: CODE_UNREADABLE_WAV (not RIFF/WAVE,
missing or malformed chunks, truncated data, non-finite floats), CODE_UNSUPPORTED_FORMAT (another
codec, bit depth, rate or channel count), CODE_EMPTY_AUDIO (no samples, or under 0.1 s),
CODE_TOO_LONG (over the caller's limit of seconds).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from mock_server.assessment.failures import (
    CODE_EMPTY_AUDIO,
    CODE_TOO_LONG,
    CODE_UNREADABLE_WAV,
    CODE_UNSUPPORTED_FORMAT,
    AssessmentFailed,
)

__all__ = ["ByteStream", "WavFormat", "WavReader"]

FloatArray = npt.NDArray[np.float64]

FORMAT_PCM: Final = 0x0001
FORMAT_FLOAT: Final = 0x0003
FORMAT_EXTENSIBLE: Final = 0xFFFE
MIN_SECONDS: Final = 0.1
_CHUNK: Final = 1 << 18  # 256 KiB of input: the working arrays stay ~20 MiB
_FORMAT_NAMES: Final = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}


class ByteStream(Protocol):
    """What the reader reads from: a zip entry or a local file."""

    def read(self, n: int, /) -> bytes: ...

    @property
    def remaining(self) -> int: ...


@dataclass(frozen=True)
class WavFormat:
    code: int  # FORMAT_PCM or FORMAT_FLOAT
    channels: int
    sample_rate: int
    bits: int
    block_align: int


def parse_fmt(name: str, body: bytes) -> WavFormat:
    """The fmt chunk's body, checked; raises AssessmentFailed."""
    if len(body) < 16:
        raise AssessmentFailed(
            CODE_UNREADABLE_WAV, f"{name}: fmt chunk too short ({len(body)} bytes)"
        )
    code, channels, rate, _, block_align, bits = struct.unpack("<HHLLHH", body[:16])
    if code == FORMAT_EXTENSIBLE:
        if len(body) < 40:
            raise AssessmentFailed(
                CODE_UNREADABLE_WAV, f"{name}: WAVE_FORMAT_EXTENSIBLE fmt chunk too short"
            )
        code = struct.unpack("<H", body[24:26])[0]
    if code not in (FORMAT_PCM, FORMAT_FLOAT):
        label = _FORMAT_NAMES.get(code, "unknown")
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT,
            f"{name}: unsupported WAV format 0x{code:04x} ({label}); "
            "only PCM and IEEE float are supported",
        )
    if code == FORMAT_PCM and bits not in (8, 16, 24, 32):
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: unsupported PCM bit depth {bits} (8/16/24/32)"
        )
    if code == FORMAT_FLOAT and bits not in (32, 64):
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
    return WavFormat(code, channels, rate, bits, block_align)


def decode_samples(raw: bytes, fmt: WavFormat) -> FloatArray:
    """Interleaved sample values (all channels), full scale = 1.0; `raw` whole sample frames."""
    if fmt.code == FORMAT_FLOAT:
        return np.frombuffer(raw, dtype="<f4" if fmt.bits == 32 else "<f8").astype(np.float64)
    if fmt.bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if fmt.bits == 16:
        return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if fmt.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8  # sign-extend via the top byte
        return (v >> 8).astype(np.float64) / 8388608.0
    return np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0


def too_long(name: str, max_seconds: float) -> AssessmentFailed:
    return AssessmentFailed(
        CODE_TOO_LONG, f"{name}: longer than the limit of {max_seconds:g} s per recording"
    )


class WavReader:
    """Reads the header on construction (raising AssessmentFailed), then `chunks()` streams the
    audio as mono float64 arrays of at most about 1 MiB of input each.

    After `chunks()` is exhausted: `frames` (samples per channel), `values` (samples over all
    channels), `clipped` (values at full scale) and `seconds` are final.
    """

    def __init__(self, name: str, stream: ByteStream, max_seconds: float) -> None:
        self.name = name
        self.max_seconds = max_seconds
        self._stream = stream
        self.format, self._size = self._read_header()
        self.frames = 0
        self.clipped = 0
        if self.format.code == FORMAT_FLOAT:
            self._clip_at = 1.0
        else:
            full = float(2 ** (self.format.bits - 1))
            self._clip_at = (full - 1.0) / full

    @property
    def sample_rate(self) -> int:
        return self.format.sample_rate

    @property
    def values(self) -> int:
        return self.frames * self.format.channels

    @property
    def seconds(self) -> float:
        return self.frames / self.format.sample_rate

    def _read_header(self) -> tuple[WavFormat, int | None]:
        name, entry = self.name, self._stream
        header = entry.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: not a RIFF/WAVE file")
        fmt: WavFormat | None = None
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
                fmt = parse_fmt(name, body[:size])
            elif cid == b"data":
                if fmt is None:
                    raise AssessmentFailed(
                        CODE_UNREADABLE_WAV, f"{name}: data chunk before fmt chunk"
                    )
                return fmt, (None if size == 0xFFFFFFFF else size)
            elif self._skip(size + (size & 1)) < size:
                raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: truncated '{label}' chunk")

    def _skip(self, n: int) -> int:
        skipped = 0
        while skipped < n:
            data = self._stream.read(min(_CHUNK, n - skipped))
            if not data:
                break
            skipped += len(data)
        return skipped

    def chunks(self) -> Iterator[FloatArray]:
        """The data chunk as mono float64 arrays; raises AssessmentFailed (see the module)."""
        name, fmt, size, entry = self.name, self.format, self._size, self._stream
        # Too long by the header alone: fail before reading, unless the entry is shorter than
        # the header claims (then reading reports the truncation, the real problem).
        declared = size if size is not None else entry.remaining
        if (
            declared <= entry.remaining
            and declared // fmt.block_align > self.max_seconds * fmt.sample_rate
        ):
            raise too_long(name, self.max_seconds)
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
            if usable:
                yield self._mono(buf[:usable])
        if size is not None and got < size:
            raise AssessmentFailed(
                CODE_UNREADABLE_WAV,
                f"{name}: truncated data chunk (expected {size} bytes, got {got})",
            )
        if self.frames == 0:
            raise AssessmentFailed(CODE_EMPTY_AUDIO, f"{name}: no audio samples (empty data chunk)")
        if self.frames < MIN_SECONDS * fmt.sample_rate:
            raise AssessmentFailed(
                CODE_EMPTY_AUDIO,
                f"{name}: only {self.seconds * 1000:.1f} ms of audio (at least 100 ms needed)",
            )

    def _mono(self, raw: bytes) -> FloatArray:
        x = decode_samples(raw, self.format)
        if self.format.code == FORMAT_FLOAT and not np.all(np.isfinite(x)):
            raise AssessmentFailed(
                CODE_UNREADABLE_WAV, f"{self.name}: non-finite (NaN or infinite) float samples"
            )
        self.clipped += int(np.count_nonzero(np.abs(x) >= self._clip_at))
        channels = self.format.channels
        mono = x if channels == 1 else x.reshape(-1, channels).mean(axis=1)
        self.frames += mono.size
        if self.frames > self.max_seconds * self.format.sample_rate:
            raise too_long(self.name, self.max_seconds)
        return mono
