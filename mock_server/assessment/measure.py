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
from mock_server.assessment.frames import FrameEnergies
from mock_server.assessment.loudness import LoudnessStream
from mock_server.assessment.voicing import FrameVoicing
from mock_server.assessment.wada import WadaSnr
from mock_server.assessment.wav import ByteStream, WavReader

__all__ = ["FileStats", "measure"]


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
    stats = analyse_frames(frames.energies(), voicing.flags(), frames.frame_seconds)
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
    )
