"""The streaming WAV decoder, against the standard library's `wave` and our own encoder."""

from __future__ import annotations

import io
import wave

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server.assessment import AssessmentFailed
from mock_server.assessment.wav import WavReader
from mock_server.samples import encode_wav

FloatArray = npt.NDArray[np.float64]


class BytesStream:
    """A ByteStream over bytes, read in small pieces to exercise the chunk boundaries."""

    def __init__(self, data: bytes, piece: int = 4097) -> None:
        self._buf = io.BytesIO(data)
        self._size = len(data)
        self._piece = piece

    def read(self, n: int) -> bytes:
        return self._buf.read(min(n, self._piece) if n > 64 else n)

    @property
    def remaining(self) -> int:
        return self._size - self._buf.tell()


def decode(data: bytes) -> tuple[FloatArray, WavReader]:
    reader = WavReader("a.wav", BytesStream(data), max_seconds=3600.0)
    chunks = list(reader.chunks())
    return np.concatenate(chunks), reader


def stdlib_mono(data: bytes) -> tuple[FloatArray, int]:
    """PCM read by `wave` (an independent reader), scaled and mixed as documented."""
    with wave.open(io.BytesIO(data), "rb") as w:
        width, channels = w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
        rate = w.getframerate()
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int64)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(ints >= 1 << 23, ints - (1 << 24), ints).astype(np.float64) / (1 << 23)
    else:
        x = np.frombuffer(raw, {2: "<i2", 4: "<i4"}[width]).astype(np.float64)
        x /= float(1 << (8 * width - 1))
    return x.reshape(-1, channels).mean(axis=1), rate


@settings(max_examples=40, deadline=None)
@example(bits=16, channels=1, rate=11025, extra=0, seed=0)  # 1102 frames is 99.95 ms: too short
@given(
    bits=st.sampled_from([8, 16, 24, 32]),
    channels=st.integers(1, 4),
    rate=st.sampled_from([8000, 11025, 16000, 44100, 48000]),
    extra=st.integers(0, 30000),
    seed=st.integers(0, 2**16),
)
def test_pcm_matches_the_standard_library(
    bits: int, channels: int, rate: int, extra: int, seed: int
) -> None:
    frames = -(-rate // 10) + extra  # at least the 0.1 s the reader requires (11025 Hz: 1103)
    rng = np.random.default_rng(seed)
    samples = np.clip(rng.standard_normal((frames, channels)) * 0.3, -1.0, 1.0)
    data = encode_wav(samples, rate, bits=bits)
    ours, reader = decode(data)
    theirs, their_rate = stdlib_mono(data)
    assert reader.sample_rate == their_rate == rate
    assert reader.frames == frames and reader.values == frames * channels
    np.testing.assert_array_equal(ours, theirs)
    # and against what was encoded, to the format's resolution
    np.testing.assert_allclose(ours, samples.mean(axis=1), atol=2.0 / 2 ** (bits - 1))


@pytest.mark.parametrize("bits", [32, 64])
def test_float_matches_our_encoder(bits: int) -> None:
    rng = np.random.default_rng(bits)
    samples = np.clip(rng.standard_normal((5000, 2)) * 0.3, -1.0, 1.0)
    ours, reader = decode(encode_wav(samples, 16000, bits=bits, float_format=True))
    expected = samples.astype("<f4" if bits == 32 else "<f8").astype(np.float64).mean(axis=1)
    np.testing.assert_array_equal(ours, expected)
    assert reader.clipped == int(np.count_nonzero(np.abs(samples) >= 1.0))


def test_clipping_is_counted_on_every_channel() -> None:
    samples = np.zeros((4000, 2))
    samples[:10, 0] = 1.0  # the largest code, 32767
    samples[:5, 1] = -1.0  # and the most negative one
    _, reader = decode(encode_wav(samples, 16000))
    assert reader.clipped == 15


def test_a_short_read_is_a_truncation() -> None:
    data = encode_wav(np.zeros(16000), 16000)[:-100]
    with pytest.raises(AssessmentFailed, match=r"a\.wav: truncated data chunk"):
        decode(data)
