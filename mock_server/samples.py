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

These bursts are not speech, and the DNSMOS network hears it: their `dnsmos_ovrl` is about 2, out
of the expected 3-5. `voice_like_signal` (and `voice_zip`, which `make demo` uploads) is a
source-filter synthesis closer to a voice, which the network scores at about 3.1:

- the source: a Rosenberg glottal pulse (40 % opening, 16 % closing of each period), derived once
  for the lip radiation, at a low male pitch (85 Hz by default) with a falling contour over each
  phrase, a slow vibrato and a little jitter;
- the filter: five formant resonators (second-order, bandwidths 60-250 Hz) whose frequencies glide
  from one vowel-like target to the next across each syllable, updated every 5 ms;
- syllables and phrases timed as above, each syllable under a smooth envelope with a soft onset.
"""

from __future__ import annotations

import io
import wave
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

try:
    import numpy as np
    import numpy.typing as npt
except ModuleNotFoundError as _missing:  # a user's test importing samples without the extra
    from mock_server.faces.extra import missing_extra

    raise missing_extra(_missing, needed_by="mock_server.samples") from _missing

__all__ = [
    "encode_wav",
    "make_zip",
    "sample_zip",
    "speech_like_signal",
    "speech_like_wav",
    "speech_like_wav_bytes",
    "voice_like_signal",
    "voice_zip",
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


# (F1..F5) in Hz of seven vowel-like targets (after Peterson & Barney's male averages, with
# F4/F5 near their usual places) and the five formants' bandwidths in Hz.
_VOICE_VOWELS = np.array(
    [
        (730.0, 1090.0, 2440.0, 3400.0, 4200.0),
        (270.0, 2290.0, 3010.0, 3500.0, 4300.0),
        (300.0, 870.0, 2240.0, 3300.0, 4100.0),
        (530.0, 1840.0, 2480.0, 3500.0, 4200.0),
        (570.0, 840.0, 2410.0, 3300.0, 4100.0),
        (440.0, 1020.0, 2240.0, 3300.0, 4100.0),
        (660.0, 1720.0, 2410.0, 3400.0, 4200.0),
    ]
)
_VOICE_BANDWIDTHS = np.array([60.0, 90.0, 120.0, 180.0, 250.0])
_FILTER_HOP_SECONDS = 0.005


def voice_like_signal(
    seconds: float = 10.0,
    sample_rate: int = 16000,
    *,
    seed: int = 0,
    pitch_hz: float = 85.0,
    syllables_per_second: float = 4.5,
    level_dbfs: float = -18.0,
    noise_db: float = -90.0,
) -> FloatArray:
    """A source-filter voice-like signal as floats in [-1, 1] (see the module docstring).

    `level_dbfs` is the RMS level over the syllables, `noise_db` the level of added white noise,
    both in dB relative to full scale. The same arguments give the same samples.
    """
    from scipy.signal import lfilter

    if seconds <= 0 or sample_rate <= 0 or syllables_per_second <= 0 or pitch_hz <= 0:
        raise ValueError("seconds, sample_rate, pitch_hz and syllables_per_second must be positive")
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    formants = np.tile(_VOICE_VOWELS[0], (n, 1))
    envelope = np.zeros(n)
    pitch = np.full(n, pitch_hz)
    t, current = 0.25, _VOICE_VOWELS[0]
    while t < seconds - 0.6:
        count = int(rng.integers(3, 8))
        for k in range(count):
            length = rng.uniform(0.85, 1.15) / syllables_per_second
            if t + length > seconds - 0.5:
                break
            a, b = round(t * sample_rate), round((t + length) * sample_rate)
            target = _VOICE_VOWELS[int(rng.integers(len(_VOICE_VOWELS)))]
            glide = np.linspace(0.0, 1.0, b - a)[:, None]
            formants[a:b] = current * (1.0 - glide) + target * glide
            current = target
            shape = np.sin(np.pi * np.linspace(0.0, 1.0, b - a)) ** 0.6
            onset = (b - a) // 6
            shape[:onset] *= np.linspace(0.2, 1.0, onset)
            envelope[a:b] = shape * rng.uniform(0.7, 1.0)
            contour = 1.2 - 0.35 * k / max(1, count - 1)  # the pitch falls over a phrase
            vibrato = 1.0 + 0.04 * np.sin(2.0 * np.pi * np.linspace(0.0, 1.0, b - a))
            pitch[a:b] = pitch_hz * contour * vibrato
            t += length
        t += rng.uniform(0.3, 0.6)
    if not envelope.any():
        raise ValueError(f"{seconds} s is too short for one syllable")
    jitter = lfilter([0.02], [1.0, -0.98], rng.standard_normal(n))
    phase = np.cumsum(pitch * (1.0 + 0.003 * jitter)) / sample_rate % 1.0
    opening, closing = 0.4, 0.16
    flow = np.where(
        phase < opening,
        0.5 * (1.0 - np.cos(np.pi * phase / opening)),
        np.where(
            phase < opening + closing, np.cos(np.pi * (phase - opening) / (2.0 * closing)), 0.0
        ),
    )
    x = (np.diff(flow, prepend=0.0) + 0.003 * rng.standard_normal(n) * flow) * envelope
    hop = max(1, round(_FILTER_HOP_SECONDS * sample_rate))
    for j, bandwidth in enumerate(_VOICE_BANDWIDTHS):
        r = np.exp(-np.pi * bandwidth / sample_rate)
        state = np.zeros(2)
        y = np.empty(n)
        for start in range(0, n, hop):
            theta = 2.0 * np.pi * formants[start, j] / sample_rate
            y[start : start + hop], state = lfilter(
                [1.0 - r], [1.0, -2.0 * r * np.cos(theta), r * r], x[start : start + hop], zi=state
            )
        x = y
    x = lfilter([1.0], [1.0, -0.9], x)  # the spectral tilt of a voice
    x -= np.mean(x)
    x *= 10.0 ** (level_dbfs / 20.0) / np.sqrt(np.mean(x[envelope > 0.05] ** 2))
    if np.isfinite(noise_db):
        x += rng.standard_normal(n) * 10.0 ** (noise_db / 20.0)
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


def voice_zip(path: Path, count: int = 3, seconds: float = 10.0, seed: int = 0) -> Path:
    """A zip of `count` voice-like WAVs (`voice_like_signal`, file i with `seed + i`) named
    `recordings/voice_NN.wav`: what `make demo` uploads. The same arguments give the same bytes."""
    entries = {
        f"voice_{i + 1:02d}.wav": encode_wav(voice_like_signal(seconds, seed=seed + i), 16000)
        for i in range(count)
    }
    return make_zip(path, entries, prefix="recordings/")
