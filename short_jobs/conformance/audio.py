"""The recordings the conformance run uploads: a few seconds of generated, speech-like audio.

No numpy and no sample files: a tone with harmonics (a 140 Hz voice-like pitch) cut into
syllable-sized bursts under Hann envelopes, about 4 per second, over faint noise. Loud and clean
enough for a quality assessment to read, small enough to cost nothing (4 s of 16 kHz mono
16-bit PCM is 128 KB). Seeded, so every run uploads the same bytes.
"""

from __future__ import annotations

import functools
import math
import random
import wave
from array import array
from pathlib import Path

from short_jobs.zipping import zip_recordings

__all__ = ["SAMPLE_RATE", "SECONDS", "recordings_zip", "write_wav"]

SAMPLE_RATE = 16_000
"""Hz; a rate every speech service accepts."""
SECONDS = 4.0
"""Length of the recording: above the 3 s the reference's assessment wants, and no more."""
_PITCH_HZ = 140.0
_SYLLABLES_PER_SECOND = 4.0
_LEVEL = 0.25
"""Peak amplitude of the voiced bursts, as a fraction of full scale (about -15 dBFS RMS)."""
_NOISE = 0.002
_SEED = 12


@functools.lru_cache(maxsize=4)
def _pcm(seconds: float, sample_rate: int) -> bytes:
    """The samples as 16-bit PCM bytes; made once per process (pure Python takes ~0.5 s)."""
    return _samples(seconds, sample_rate).tobytes()


def _samples(seconds: float, sample_rate: int) -> array[int]:
    rng = random.Random(_SEED)
    total = round(seconds * sample_rate)
    slot = round(sample_rate / _SYLLABLES_PER_SECOND)
    burst = round(slot * 0.75)
    out = array("h")
    for n in range(total):
        t = n / sample_rate
        k = n % slot
        envelope = math.sin(math.pi * k / burst) ** 2 if k < burst else 0.0
        # A slightly falling pitch with three harmonics, like a voiced vowel.
        phase = 2 * math.pi * _PITCH_HZ * (t - 0.02 * t * t)
        voiced = math.sin(phase) + 0.5 * math.sin(2 * phase) + 0.25 * math.sin(3 * phase)
        value = _LEVEL * envelope * voiced / 1.75 + rng.gauss(0.0, _NOISE)
        out.append(max(-32768, min(32767, round(value * 32767))))
    return out


def write_wav(path: Path, seconds: float = SECONDS, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write ``seconds`` of generated speech-like audio as a mono 16-bit PCM WAV at ``path``."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(_pcm(seconds, sample_rate))
    return path


def recordings_zip(directory: Path, seconds: float = SECONDS) -> Path:
    """A zip holding one generated WAV (``conformance.wav``), written in ``directory``."""
    wav = write_wav(directory / "conformance.wav", seconds)
    return zip_recordings([wav], directory / "conformance.zip")
