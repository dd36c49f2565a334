"""One recording, measured: the WAV decoded once, as a stream, into every analysis.

Memory per file: the decoder's chunk (256 KiB of input; the analyses' working arrays for it stay
under ~20 MiB), about 100 bytes per 10 ms frame of the recording (which
`ZipLimits.max_file_seconds` caps: 2 hours, ~70 MiB) and DNSMOS' last ~10 s at 16 kHz (1.3 MiB);
the DNSMOS network itself (and onnxruntime, scipy) are loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.assessment.analysis import analyse_frames
from mock_server.assessment.dnsmos import DnsmosStream
from mock_server.assessment.frames import ENERGY_FLOOR, FrameEnergies
from mock_server.assessment.loudness import LoudnessStream
from mock_server.assessment.voicing import FrameVoicing
from mock_server.assessment.wada import WadaSnr
from mock_server.assessment.wav import ByteStream, WavReader

__all__ = ["DIGITAL_SILENCE", "NOISE_ONLY", "FileStats", "measure", "no_speech"]

# Why a take holds no speech (FileStats.no_speech), in the words the suggestions use.
DIGITAL_SILENCE = "digital silence"
NOISE_ONLY = "no speech, noise only"


@dataclass(frozen=True)
class FileStats:
    """Everything the job's result needs from one recording."""

    name: str
    seconds: float
    sample_rate: int
    loudness_lufs: float  # ITU-R BS.1770-4 integrated loudness of the mono mix
    snr_db: float  # WADA-SNR
    syllables: int
    speaking_seconds: float
    decays: list[float]  # RT60-like times of the free decays, seconds
    values: int  # sample values over all channels
    clipped: int
    dnsmos_ovrl: float
    dnsmos_bak: float
    no_speech: str | None = None  # DIGITAL_SILENCE, NOISE_ONLY, or None: the take holds speech


def no_speech(energies_max: float, syllables: int) -> str | None:
    """Why a take holds no speech, or None. Digital silence: no 10 ms frame has any energy (all
    samples equal, a constant DC offset included). Noise only: not one syllable nucleus (a voiced
    intensity peak, de Jong & Wempe 2009), which hiss, hum and 1-LSB dither never make."""
    if energies_max <= ENERGY_FLOOR:
        return DIGITAL_SILENCE
    if syllables == 0:
        return NOISE_ONLY
    return None


def measure(name: str, stream: ByteStream, max_seconds: float) -> FileStats:
    """Decode and measure one WAV; raises AssessmentFailed (see `wav`) naming `name`."""
    reader = WavReader(name, stream, max_seconds)
    frames = FrameEnergies(reader.sample_rate)
    voicing = FrameVoicing(reader.sample_rate)
    loudness = LoudnessStream(reader.sample_rate)
    snr = WadaSnr()
    dnsmos = DnsmosStream(reader.sample_rate)
    for mono in reader.chunks():
        frames.feed(mono)
        voicing.feed(mono)
        loudness.feed(mono)
        snr.feed(mono)
        dnsmos.feed(mono)
    energies = frames.energies()
    stats = analyse_frames(energies, voicing.flags(), frames.frame_seconds)
    scores = dnsmos.finish()
    return FileStats(
        name=name,
        seconds=reader.seconds,
        sample_rate=reader.sample_rate,
        loudness_lufs=loudness.finish(),
        snr_db=snr.finish(),
        syllables=stats.syllables,
        speaking_seconds=stats.speaking_seconds,
        decays=stats.decays,
        values=reader.values,
        clipped=reader.clipped,
        dnsmos_ovrl=scores.ovrl,
        dnsmos_bak=scores.bak,
        no_speech=no_speech(float(energies.max()) if energies.size else 0.0, stats.syllables),
    )
