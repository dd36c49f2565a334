"""Every refused upload names its real cause, and every readable variant of WAV is read: property
tests over generated WAV files (containers, codecs, bit depths, odd chunks, sizes, rates) and zip
files (compression methods, encryption), plus one example per input of issue 19, item 10."""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server.assessment import (
    CODE_BAD_ZIP,
    CODE_EMPTY_AUDIO,
    CODE_TOO_LONG,
    CODE_UNSUPPORTED_FORMAT,
    AssessmentFailed,
    measure_zip,
)
from mock_server.assessment.wav import WavReader
from mock_server.assessment.zipsafe import DEFAULT_LIMITS, METHOD_NAMES, check_declared
from mock_server.samples import make_zip

GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def pcm(frames: int, channels: int, bits: int, is_float: bool, seed: int = 0) -> bytes:
    x = np.random.default_rng(seed).uniform(-0.5, 0.5, frames * channels)
    if is_float:
        return x.astype("<f4" if bits == 32 else "<f8").tobytes()
    if bits == 8:
        return (x * 127 + 128).astype(np.uint8).tobytes()
    ints = (x * (2 ** (bits - 1) - 1)).astype("<i4")
    if bits == 24:
        return bytes(ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return bytes(ints.astype("<i2" if bits == 16 else "<i4").tobytes())


def chunk(cid: bytes, body: bytes, pad: bool = True) -> bytes:
    return cid + struct.pack("<L", len(body)) + body + (b"\0" if len(body) % 2 and pad else b"")


def wav(
    data: bytes,
    channels: int,
    rate: int,
    bits: int,
    *,
    code: int = 1,
    extensible: bool = False,
    container: bytes = b"RIFF",
    extra: bytes = b"",
    pad: bool = True,
) -> bytes:
    """A WAV file; `extra` is a chunk body (odd sizes allowed) put before `fmt `."""
    align = channels * -(-bits // 8)
    head = struct.pack(
        "<HHLLHH", 0xFFFE if extensible else code, channels, rate, rate * align, align, bits
    )
    if extensible:
        head += struct.pack("<HHL", 22, bits, 0) + struct.pack("<H", code) + GUID_TAIL
    body = b"WAVE"
    size = len(data)
    if container != b"RIFF":
        body += chunk(b"ds64", struct.pack("<QQQL", 0, size, 0, 0))
        size = 0xFFFFFFFF
    if extra:
        body += chunk(b"LIST", extra, pad)
    body += chunk(b"fmt ", head) + b"data" + struct.pack("<L", size) + data
    riff_size = 0xFFFFFFFF if container != b"RIFF" else len(body)
    return container + struct.pack("<L", riff_size) + body


def measured_seconds(entries: dict[str, bytes]) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        return [s.seconds for s in measure_zip(make_zip(Path(tmp) / "u.zip", entries))]


def failure(entries: dict[str, bytes] | bytes) -> AssessmentFailed:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u.zip"
        if isinstance(entries, bytes):
            path.write_bytes(entries)
        else:
            make_zip(path, entries)
        with pytest.raises(AssessmentFailed) as caught:
            measure_zip(path)
        return caught.value


formats = st.sampled_from(
    [(8, False), (16, False), (24, False), (32, False), (32, True), (64, True)]
)


@pytest.mark.slow  # seconds of its own: 40 WAV variants, nearly each its own DNSMOS window
@settings(max_examples=40, deadline=None)
@given(
    fmt=formats,
    channels=st.integers(1, 3),
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]),
    extensible=st.booleans(),
    container=st.sampled_from([b"RIFF", b"RF64", b"BW64"]),
    extra=st.binary(max_size=9),
    pad=st.booleans(),
)
def test_every_readable_variant_is_read(
    fmt: tuple[int, bool],
    channels: int,
    rate: int,
    extensible: bool,
    container: bytes,
    extra: bytes,
    pad: bool,
) -> None:
    bits, is_float = fmt
    frames = rate // 4  # 0.25 s
    data = pcm(frames, channels, bits, is_float)
    file = wav(
        data,
        channels,
        rate,
        bits,
        code=3 if is_float else 1,
        extensible=extensible,
        container=container,
        extra=extra,
        pad=pad,
    )
    assert measured_seconds({"a.wav": file}) == [pytest.approx(frames / rate)]


@settings(max_examples=40, deadline=None)
@given(
    case=st.one_of(
        st.tuples(
            st.just("rate"), st.sampled_from([0, 4000, 7999, 48001, 96000, 192000, 2**31 - 1])
        ),
        st.tuples(st.just("codec"), st.sampled_from([2, 6, 7, 0x11, 0x55, 0x1234])),
        st.tuples(st.just("bits"), st.sampled_from([1, 4, 40, 48, 64])),
        st.tuples(
            st.just("container"),
            st.sampled_from([b"RIFX", b"FORM", b"fLaC", b"OggS", b"ID3\x04", b"caff", b"\xff\xfb"]),
        ),
    ),
    extensible=st.booleans(),
)
def test_every_unsupported_variant_is_named(case: tuple[str, object], extensible: bool) -> None:
    kind, value = case
    data = pcm(4000, 1, 16, False)
    if kind == "rate":
        assert isinstance(value, int)
        file = wav(data, 1, value, 16, extensible=extensible)
        words = [f"sample rate {value} Hz"]
    elif kind == "codec":
        assert isinstance(value, int)
        file = wav(data, 1, 16000, 16, code=value, extensible=extensible)
        words = [f"unsupported WAV format 0x{value:04x}"]
    elif kind == "bits":
        assert isinstance(value, int)
        file = wav(data, 1, 16000, value, extensible=extensible)
        words = [f"bit depth {value}"]
    else:
        assert isinstance(value, bytes)
        file = value + b"\0" * 60
        words = [" file", "convert it to PCM WAV"]
    caught = failure({"a.wav": file})
    assert caught.code == CODE_UNSUPPORTED_FORMAT, caught.reason
    assert caught.reason.startswith("a.wav: ")
    for word in words:
        assert word in caught.reason
    assert "truncated" not in caught.reason and "corrupt" not in caught.reason


def with_method(method: int, flags: int = 0) -> bytes:
    """A one-WAV zip whose entry claims compression `method` and general-purpose `flags`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.wav", wav(pcm(4000, 1, 16, False), 1, 16000, 16))
    data = bytearray(buffer.getvalue())
    central = data.rindex(b"PK\x01\x02")
    for at, off in ((0, 6), (central, 8)):  # local header, central header
        data[at + off : at + off + 4] = struct.pack("<HH", flags, method)
    return bytes(data)


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(sorted(METHOD_NAMES)) | st.integers(21, 92) | st.integers(100, 65535))
def test_every_unsupported_compression_method_is_named(method: int) -> None:
    caught = failure(with_method(method))
    assert caught.code == CODE_BAD_ZIP
    assert f"compression method {method} (" in caught.reason
    assert "not supported" in caught.reason and "corrupt" not in caught.reason
    if method in METHOD_NAMES:
        assert METHOD_NAMES[method] in caught.reason


@pytest.mark.parametrize(
    ("method", "flags", "kind"),
    [(0, 1, "ZipCrypto"), (8, 0x41, "strong encryption"), (99, 1, "WinZip AES")],
)
def test_encrypted_entries_are_named(method: int, flags: int, kind: str) -> None:
    caught = failure(with_method(method, flags))
    assert caught.code == CODE_BAD_ZIP
    assert caught.reason.startswith(f"a.wav: encrypted entry ({kind}")


# The named inputs of issue 19, item 10.


def test_deflate64_is_unsupported_not_corrupt() -> None:
    caught = failure(with_method(9))
    assert caught.reason == (
        "a.wav: compression method 9 (Deflate64) is not supported "
        "(only stored, deflate, bzip2, LZMA): zip it again with deflate"
    )


def test_a_chunk_without_its_pad_byte_is_read() -> None:
    data = pcm(8000, 1, 16, False)
    padded = wav(data, 1, 16000, 16, extra=b"abc")
    unpadded = wav(data, 1, 16000, 16, extra=b"abc", pad=False)
    assert measured_seconds({"a.wav": unpadded}) == measured_seconds({"a.wav": padded}) == [0.5]


def test_rf64_is_read() -> None:
    data = pcm(8000, 2, 24, False)
    assert measured_seconds({"a.wav": wav(data, 2, 16000, 24, container=b"RF64")}) == [0.5]


def test_zero_length_data_with_audio_after_it_names_the_header() -> None:
    file = bytearray(wav(pcm(8000, 1, 16, False), 1, 16000, 16))
    at = file.index(b"data")
    file[at + 4 : at + 8] = b"\0\0\0\0"
    caught = failure({"a.wav": bytes(file)})
    assert caught.code == CODE_EMPTY_AUDIO
    assert "declares 0 bytes, yet 16000 bytes follow" in caught.reason


class Endless:
    """A zip entry of `size` bytes: a WAV header, then noise made as it is read."""

    def __init__(self, header: bytes, size: int) -> None:
        self._header = header
        self._left = size

    def read(self, n: int, /) -> bytes:
        if self._header:
            out, self._header = self._header[:n], self._header[n:]
        else:
            out = np.random.default_rng(self._left).bytes(min(n, self._left))
        self._left -= len(out)
        return out

    @property
    def remaining(self) -> int:
        return self._left


def long_take(minutes: int) -> tuple[bytes, int]:
    """The header of a 48 kHz 16-bit stereo take `minutes` long, and the file's size."""
    data_size = minutes * 60 * 48000 * 4
    header = wav(b"", 2, 48000, 16)
    header = header[:-4] + struct.pack("<L", data_size)
    return header, data_size


@given(minutes=st.integers(1, 119), ratio=st.floats(1.0, 1e6))
@example(minutes=50, ratio=1 / 0.9)  # the named take, deflated as a real recording is
@example(minutes=50, ratio=1029.0)  # the same take muted: digital silence deflates ~1000:1
def test_a_take_under_2_hours_is_never_a_zip_bomb_however_it_compresses(
    minutes: int, ratio: float
) -> None:
    header, data_size = long_take(minutes)
    info = zipfile.ZipInfo("take.wav")
    info.header_offset = 0
    info.file_size = len(header) + data_size
    info.compress_size = max(1, int(info.file_size / ratio))
    check_declared([info], DEFAULT_LIMITS)
    reader = WavReader(
        "take.wav", Endless(header, len(header) + data_size), DEFAULT_LIMITS.max_file_seconds
    )
    first = next(reader.chunks())  # not refused by its header: it is under 2 hours
    assert first.size > 0


def test_a_3_hour_take_is_too_long_by_its_own_code() -> None:
    header, data_size = long_take(180)
    reader = WavReader(
        "take.wav", Endless(header, len(header) + data_size), DEFAULT_LIMITS.max_file_seconds
    )
    with pytest.raises(AssessmentFailed) as caught:
        next(reader.chunks())
    assert caught.value.code == CODE_TOO_LONG
    assert caught.value.reason == "take.wav: longer than the limit of 7200 s per recording"
