"""Streaming WAV decoding: RIFF/WAVE bytes in, mono float samples out, chunk by chunk.

Accepted: PCM 8-bit (unsigned), 16, 24 and 32-bit signed integers, or WAVE_FORMAT_IEEE_FLOAT
32/64-bit, also inside WAVE_FORMAT_EXTENSIBLE (Microsoft, "Multiple Channel Audio Data and WAVE
Files"); 1 to 32 channels, mixed to mono by averaging; 8000 to 48000 Hz; at least 0.1 s of audio.
A data chunk size of 0xFFFFFFFF means "to the end of the file" (streamed WAVs). Samples are
scaled to full scale = 1.0 (integer codes divided by 2^(bits-1)). Also read: RF64 and BW64 (EBU
Tech 3306, ITU-R BS.2088: 64-bit sizes in a `ds64` chunk); PCM whose bit depth is not a multiple
of 8 (12 or 20 valid bits in 16 or 24-bit containers, as block align says); an odd-sized chunk
written without its pad byte (RIFF pads odd chunks to even; some writers do not, and the byte
taken for the pad is then the next chunk id's first: a real pad byte is 0, so a non-zero "pad"
followed by a chunk id that reads as one is put back).

Other containers (AIFF, FLAC, Ogg, MP3, MP4, CAF, Matroska, Wave64, big-endian RIFX...) are named
as such, with CODE_UNSUPPORTED_FORMAT.

Clipping is counted on the samples before the mix: a sample at the largest integer code (either
sign), or |x| >= 1.0 for float.

Every problem raises AssessmentFailed naming the file and the real cause: CODE_UNREADABLE_WAV
(not RIFF/WAVE, missing or malformed chunks, truncated data, non-finite floats),
CODE_UNSUPPORTED_FORMAT (another container or codec, bit depth, rate or channel count),
CODE_EMPTY_AUDIO (no samples, or under 0.1 s),
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
    0x0092: "Dolby AC-3",
    0x00FF: "AAC",
    0x0161: "Windows Media Audio",
    0x1610: "AAC (HE-AAC)",
    0xF1AC: "FLAC",
}
# The first bytes of containers that are not WAV (the files' own published signatures).
_CONTAINERS: Final = (
    (b"RIFX", "a big-endian RIFX file (only little-endian RIFF/WAVE is supported)"),
    (b"FORM", "an AIFF file, not WAV"),
    (b"fLaC", "a FLAC file, not WAV"),
    (b"OggS", "an Ogg file (Vorbis or Opus), not WAV"),
    (b"ID3", "an MP3 file, not WAV"),
    (b"caff", "a Core Audio (CAF) file, not WAV"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM file, not WAV"),
    (b"riff.\x91\xcf\x11", "a Sony Wave64 file, not WAV"),
    (b"#!AMR", "an AMR file, not WAV"),
    (b".snd", "a Sun/NeXT AU file, not WAV"),
)
# Chunk ids seen in WAV files (Microsoft's RIFF spec, EBU BWF, RF64, common tools): after an
# odd chunk without its pad byte, a shifted read that gives one of these wins.
_KNOWN_IDS: Final = frozenset(
    {
        b"fmt ",
        b"data",
        b"LIST",
        b"fact",
        b"cue ",
        b"bext",
        b"iXML",
        b"JUNK",
        b"PAD ",
        b"smpl",
        b"inst",
        b"id3 ",
        b"ID3 ",
        b"ds64",
        b"acid",
        b"PEAK",
        b"cart",
        b"umid",
        b"axml",
        b"FLLR",
    }
)
# WAVE_FORMAT_EXTENSIBLE sub-formats are GUIDs: the format code, then this fixed tail.
_GUID_TAIL: Final = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_CONVERT: Final = "convert it to PCM WAV (16-bit, 16-48 kHz)"


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
        if body[26:40] != _GUID_TAIL:
            raise AssessmentFailed(
                CODE_UNSUPPORTED_FORMAT,
                f"{name}: WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID "
                f"({body[24:40].hex()}); only PCM and IEEE float are supported",
            )
    if (
        code == FORMAT_PCM
        and 8 < bits < 32
        and bits % 8
        and block_align == channels * -(-bits // 8)
    ):
        bits = -(-bits // 8) * 8  # e.g. 12 valid bits in a 16-bit container: read the container
    if code not in (FORMAT_PCM, FORMAT_FLOAT):
        label = _FORMAT_NAMES.get(code, "unknown")
        raise AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT,
            f"{name}: unsupported WAV format 0x{code:04x} ({label}); "
            f"only PCM and IEEE float are supported: {_CONVERT}",
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
            f"{name}: sample rate {rate} Hz is outside 8000-48000 Hz (resample it)",
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


def _is_id(cid: bytes) -> bool:
    """A RIFF chunk id: four printable ASCII characters (spaces pad short ones)."""
    return len(cid) == 4 and all(0x20 <= c <= 0x7E for c in cid)


def _label(cid: bytes) -> str:
    """A chunk id as printed: quoted, every byte outside printable ASCII as \\xNN."""
    return "'" + "".join(chr(c) if 0x20 <= c <= 0x7E else f"\\x{c:02x}" for c in cid) + "'"


def not_wave(name: str, header: bytes) -> AssessmentFailed:
    """Why a file that does not start as RIFF/WAVE (or RF64/BW64) is refused: another
    container, named; an empty or truncated file; or not a WAV at all."""
    if not header:
        return AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: empty file (0 bytes)")
    for magic, what in _CONTAINERS:
        if header.startswith(magic) or (magic[:4] == b"riff" and header[:4] == b"riff"):
            return AssessmentFailed(CODE_UNSUPPORTED_FORMAT, f"{name}: {what}; {_CONVERT}")
    if header[4:8] == b"ftyp":
        return AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: an MP4/M4A file, not WAV; {_CONVERT}"
        )
    if len(header) >= 2 and header[0] == 0xFF and header[1] & 0xE0 == 0xE0:
        return AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT, f"{name}: an MPEG audio (MP3/AAC) file, not WAV; {_CONVERT}"
        )
    if header[:4] in (b"RIFF", b"RF64", b"BW64"):
        if len(header) < 12:
            return AssessmentFailed(
                CODE_UNREADABLE_WAV, f"{name}: truncated WAV header ({len(header)} bytes)"
            )
        return AssessmentFailed(
            CODE_UNSUPPORTED_FORMAT,
            f"{name}: a RIFF file of form {_label(header[8:12])}, not WAVE; {_CONVERT}",
        )
    return AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: not a RIFF/WAVE file")


class _Unread:
    """A ByteStream that can put bytes back (the header reader's one byte of look-ahead)."""

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream
        self._back = b""

    def read(self, n: int, /) -> bytes:
        if not self._back:
            return self._stream.read(n)
        head, self._back = self._back[:n], self._back[n:]
        return head + (self._stream.read(n - len(head)) if len(head) < n else b"")

    def unread(self, data: bytes) -> None:
        self._back = data + self._back

    @property
    def remaining(self) -> int:
        return len(self._back) + self._stream.remaining


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
        self._stream = _Unread(stream)
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
        wide = header[:4] in (b"RF64", b"BW64")  # 64-bit sizes in ds64 (EBU Tech 3306)
        if len(header) < 12 or header[8:12] != b"WAVE" or not (wide or header[:4] == b"RIFF"):
            raise not_wave(name, header)
        fmt: WavFormat | None = None
        data64: int | None = None
        pad = b""  # the pad byte read after the last odd-sized chunk
        while True:
            chunk = entry.read(8)
            odd_before = pad != b""
            shifted = pad + chunk[:3]
            if (
                pad not in (b"", b"\0")
                and _is_id(shifted)
                and (shifted in _KNOWN_IDS or not _is_id(chunk[:4]))
            ):
                # No pad byte was written: the byte taken for it starts this chunk's id.
                entry.unread(chunk[3:])
                chunk = pad + chunk[:3] + entry.read(4)
            pad = b""
            if len(chunk) < 8:
                missing = "fmt and data chunks" if fmt is None else "data chunk"
                raise AssessmentFailed(CODE_UNREADABLE_WAV, f"{name}: no {missing}")
            cid, size = chunk[:4], struct.unpack("<L", chunk[4:])[0]
            if not _is_id(cid):
                raise AssessmentFailed(
                    CODE_UNREADABLE_WAV,
                    f"{name}: invalid chunk id {_label(cid)} (a chunk id is 4 ASCII characters)"
                    + (" after an odd-sized chunk" if odd_before else ""),
                )
            if cid == b"data":
                if fmt is None:
                    raise AssessmentFailed(
                        CODE_UNREADABLE_WAV, f"{name}: data chunk before fmt chunk"
                    )
                if size == 0xFFFFFFFF:
                    return fmt, data64  # RF64's size, or None: to the end (streamed)
                return fmt, size
            if cid in (b"fmt ", b"ds64"):
                if size > 4096:
                    raise AssessmentFailed(
                        CODE_UNREADABLE_WAV,
                        f"{name}: malformed {_label(cid)} chunk ({size} bytes)",
                    )
                body = entry.read(size)
                if len(body) < size:
                    raise AssessmentFailed(
                        CODE_UNREADABLE_WAV, f"{name}: truncated {_label(cid)} chunk"
                    )
                if cid == b"fmt ":
                    fmt = parse_fmt(name, body)
                elif wide and size >= 16:
                    data64 = struct.unpack("<Q", body[8:16])[0]
            elif self._skip(size) < size:
                raise AssessmentFailed(
                    CODE_UNREADABLE_WAV,
                    f"{name}: truncated {_label(cid)} chunk (declares {size} bytes)",
                )
            if size & 1:
                pad = entry.read(1)

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
        if self.frames == 0 and size == 0 and entry.remaining > 0:
            raise AssessmentFailed(
                CODE_EMPTY_AUDIO,
                f"{name}: the data chunk declares 0 bytes, yet {entry.remaining} bytes follow "
                "(a header the recorder never finalised?)",
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
