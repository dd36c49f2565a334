"""Synthetic, deterministic test and demo recordings: speech-like WAV files and zips of them.

The signal is not speech, but it has what the assessment (`mock_server.assessment`) measures:

- syllables: harmonic voiced bursts (a pitch with a slight fall, harmonics shaped by one of five
  vowel-like formant patterns) under a Hann envelope covering 75 % of each syllable slot, so
  the energy envelope has one peak per syllable and a dip between syllables;
- phrases of 3 to 7 syllables at exactly `syllables_per_second` (syllables per second of phrase
  time), separated by pauses of 0.35 to 0.65 s, with a little leading and trailing silence;
- optional reverberation: the dry signal plus its convolution with an exponentially decaying
  noise tail whose decay reaches -60 dB after `reverb_seconds` (direct-to-reverberant ratio 0 dB);
- `level_dbfs`: the RMS level over the voiced samples, in dB relative to full scale;
- `noise_db`: white Gaussian noise at that RMS level in dBFS (`-inf` for none);
- `clip=True`: after noise, the signal is amplified until 1 % of its voiced samples reach full
  scale and hard-clipped there (so the level rises well above `level_dbfs`).

Everything is drawn from `numpy.random.default_rng(seed)`: the same arguments give the same bytes.
"""

from __future__ import annotations

import io
import wave
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "encode_wav",
    "make_zip",
    "sample_zip",
    "speech_like_signal",
    "speech_like_wav",
    "speech_like_wav_bytes",
]

FloatArray = npt.NDArray[np.float64]

# (F1, F2, F3) in Hz of five vowel-like sounds.
_VOWELS: tuple[tuple[float, float, float], ...] = (
    (800.0, 1200.0, 2500.0),
    (300.0, 2300.0, 3000.0),
    (350.0, 800.0, 2300.0),
    (500.0, 1900.0, 2600.0),
    (500.0, 900.0, 2500.0),
)
_FORMANT_GAINS = np.array([1.0, 0.6, 0.3])
_FORMANT_WIDTHS = np.array([90.0, 120.0, 160.0])
_VOICED_FRACTION = 0.75


def _syllable(rng: np.random.Generator, n: int, sample_rate: int, f0_base: float) -> FloatArray:
    """One voiced burst of `n` samples with unit RMS before its Hann envelope."""
    t = np.arange(n) / sample_rate
    duration = n / sample_rate
    f0_start = f0_base * (1.0 + 0.1 * rng.uniform(-1.0, 1.0))
    f0 = f0_start * (1.0 - 0.12 * t / duration)
    phase = 2.0 * np.pi * np.cumsum(f0) / sample_rate
    top = min(4000.0, 0.45 * sample_rate)
    k = np.arange(1, max(2, int(top // f0_start)) + 1, dtype=np.float64)
    formants = np.array(_VOWELS[int(rng.integers(len(_VOWELS)))])
    freqs = k * float(np.mean(f0))
    amps = (
        _FORMANT_GAINS[None, :]
        * np.exp(-0.5 * ((freqs[:, None] - formants[None, :]) / _FORMANT_WIDTHS[None, :]) ** 2)
    ).sum(axis=1) + 0.03 / k
    offsets = rng.uniform(0.0, 2.0 * np.pi, size=k.size)
    voiced: FloatArray = amps @ np.cos(np.outer(k, phase) + offsets[:, None])
    rms = float(np.sqrt(np.mean(voiced**2)))
    return voiced / rms * np.hanning(n)


def _reverberate(
    rng: np.random.Generator, x: FloatArray, sample_rate: int, rt60: float
) -> FloatArray:
    n_tail = round(1.5 * rt60 * sample_rate)
    t = np.arange(n_tail) / sample_rate
    tail = rng.standard_normal(n_tail) * np.exp(-3.0 * np.log(10.0) * t / rt60)
    tail /= np.sqrt(np.sum(tail**2))  # the tail carries as much energy as the direct sound
    delay = round(0.002 * sample_rate)
    size = 1 << int(np.ceil(np.log2(x.size + n_tail + delay)))
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(tail, size), size)[: x.size]
    out = x.copy()
    out[delay:] += wet[: x.size - delay]
    return out


def speech_like_signal(
    seconds: float = 4.0,
    sample_rate: int = 16000,
    *,
    noise_db: float = -60.0,
    level_dbfs: float = -20.0,
    clip: bool = False,
    seed: int = 0,
    syllables_per_second: float = 4.0,
    reverb_seconds: float = 0.0,
) -> FloatArray:
    """The speech-like signal as floats in [-1, 1] (see the module docstring)."""
    if seconds <= 0 or sample_rate <= 0 or syllables_per_second <= 0:
        raise ValueError("seconds, sample_rate and syllables_per_second must be positive")
    rng = np.random.default_rng(seed)
    n_total = round(seconds * sample_rate)
    x = np.zeros(n_total)
    voiced = np.zeros(n_total, dtype=bool)
    slot = 1.0 / syllables_per_second
    f0_base = rng.uniform(100.0, 200.0)
    t = 0.2 + rng.uniform(0.0, 0.1)
    tail_room = 0.3 + reverb_seconds / 2.0
    done = False
    while not done:
        for _ in range(int(rng.integers(3, 8))):
            if t + slot > seconds - tail_room:
                done = True
                break
            start = round(t * sample_rate)
            n = round(_VOICED_FRACTION * slot * sample_rate)
            x[start : start + n] += rng.uniform(0.6, 1.0) * _syllable(rng, n, sample_rate, f0_base)
            voiced[start : start + n] = True
            t += slot
        t += rng.uniform(0.35, 0.65)
    if not voiced.any():
        raise ValueError(f"{seconds} s is too short for one syllable at this rate")
    if reverb_seconds > 0:
        x = _reverberate(rng, x, sample_rate, reverb_seconds)
    x *= 10.0 ** (level_dbfs / 20.0) / np.sqrt(np.mean(x[voiced] ** 2))
    if np.isfinite(noise_db):
        x += rng.standard_normal(n_total) * 10.0 ** (noise_db / 20.0)
    if clip:
        x /= np.percentile(np.abs(x[voiced]), 99.0)
    result: FloatArray = np.clip(x, -1.0, 1.0)
    return result


def encode_wav(
    samples: npt.ArrayLike, sample_rate: int, *, bits: int = 16, float_format: bool = False
) -> bytes:
    """WAV bytes for `samples` (floats in [-1, 1], shape (n,) or (n, channels)).

    PCM with `bits` in 8, 16, 24, 32 is written with the standard library's `wave`;
    `float_format=True` writes WAVE_FORMAT_IEEE_FLOAT (bits 32 or 64) with a hand-made header.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    channels = int(data.shape[1])
    if float_format:
        if bits not in (32, 64):
            raise ValueError("float WAV needs bits 32 or 64")
        payload: bytes = data.astype("<f4" if bits == 32 else "<f8").tobytes()
        block_align = channels * bits // 8
        fmt = (
            b"fmt "
            + (18).to_bytes(4, "little")
            + (3).to_bytes(2, "little")
            + channels.to_bytes(2, "little")
            + sample_rate.to_bytes(4, "little")
            + (sample_rate * block_align).to_bytes(4, "little")
            + block_align.to_bytes(2, "little")
            + bits.to_bytes(2, "little")
            + (0).to_bytes(2, "little")
        )
        body = (
            b"WAVE"
            + fmt
            + b"data"
            + len(payload).to_bytes(4, "little")
            + payload
            + (b"\0" if len(payload) % 2 else b"")
        )
        return b"RIFF" + len(body).to_bytes(4, "little") + body
    if bits not in (8, 16, 24, 32):
        raise ValueError("PCM WAV needs bits 8, 16, 24 or 32")
    full = float(2 ** (bits - 1))
    ints = np.clip(np.round(np.clip(data, -1.0, 1.0) * (full - 1)), -full, full - 1).astype("<i8")
    if bits == 8:
        raw = (ints + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        raw = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = ints.astype("<i2" if bits == 16 else "<i4").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bits // 8)
        w.setframerate(sample_rate)
        w.writeframes(raw)
    return out.getvalue()


def speech_like_wav_bytes(seconds: float = 4.0, sample_rate: int = 16000, **kw: Any) -> bytes:
    """A 16-bit mono WAV of `speech_like_signal(seconds, sample_rate, **kw)`, as bytes."""
    return encode_wav(speech_like_signal(seconds, sample_rate, **kw), sample_rate)


def speech_like_wav(
    path: Path,
    seconds: float = 4.0,
    sample_rate: int = 16000,
    *,
    noise_db: float = -60.0,
    level_dbfs: float = -20.0,
    clip: bool = False,
    seed: int = 0,
    syllables_per_second: float = 4.0,
    reverb_seconds: float = 0.0,
) -> Path:
    """Write a 16-bit mono speech-like WAV to `path` and return `path`."""
    path.write_bytes(
        speech_like_wav_bytes(
            seconds,
            sample_rate,
            noise_db=noise_db,
            level_dbfs=level_dbfs,
            clip=clip,
            seed=seed,
            syllables_per_second=syllables_per_second,
            reverb_seconds=reverb_seconds,
        )
    )
    return path


def make_zip(
    path: Path,
    wavs: Iterable[Path] | Mapping[str, bytes],
    *,
    prefix: str = "",
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a zip to `path`: files (stored as `prefix + file name`) or `{entry name: bytes}`.

    Entry names from a mapping are written exactly as given after `prefix` (so tests can make
    unsafe names such as `../evil.wav`). Timestamps are fixed, so the bytes are reproducible.
    """
    items = wavs.items() if isinstance(wavs, Mapping) else ((w.name, w.read_bytes()) for w in wavs)
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in items:
            # A fixed timestamp: the same entries always give the same zip bytes.
            info = zipfile.ZipInfo(prefix + name, date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, data, compress_type=compression)
    return path


def sample_zip(path: Path, count: int = 3, **kw: Any) -> Path:
    """A zip of `count` speech-like WAVs named `recordings/sample_NN.wav`.

    `kw` goes to `speech_like_signal` (seconds, sample_rate, noise_db, level_dbfs, ...);
    file i uses `seed + i`, so the files differ but the zip is the same on every call.
    """
    seed = int(kw.pop("seed", 0))
    entries = {
        f"sample_{i + 1:02d}.wav": speech_like_wav_bytes(seed=seed + i, **kw) for i in range(count)
    }
    return make_zip(path, entries, prefix="recordings/")
