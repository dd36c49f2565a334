"""One recording, measured: the WAV decoded once, as a stream, into every analysis.

Memory per file: the decoder's chunk (~1 MiB of input, ~10 MiB of working arrays) plus about
100 bytes per 10 ms frame of the recording, which `ZipLimits.max_file_seconds` caps.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.assessment.analysis import analyse_frames
from mock_server.assessment.frames import FrameEnergies
from mock_server.assessment.wav import ByteStream, WavReader

__all__ = ["FileStats", "measure"]


@dataclass(frozen=True)
class FileStats:
    """Everything the job's result needs from one recording."""

    name: str
    seconds: float
    sample_rate: int
    level_db: float
    snr_db: float
    noise_db: float
    syllables: int
    speaking_seconds: float
    decays: list[float]
    values: int  # sample values over all channels
    clipped: int


def measure(name: str, stream: ByteStream, max_seconds: float) -> FileStats:
    """Decode and measure one WAV; raises AssessmentFailed (see `wav`) naming `name`."""
    reader = WavReader(name, stream, max_seconds)
    frames = FrameEnergies(reader.sample_rate)
    for mono in reader.chunks():
        frames.feed(mono)
    stats = analyse_frames(frames.energies(), frames.frame_seconds)
    return FileStats(
        name=name,
        seconds=reader.seconds,
        sample_rate=reader.sample_rate,
        level_db=stats.level_db,
        snr_db=stats.snr_db,
        noise_db=stats.noise_db,
        syllables=stats.syllables,
        speaking_seconds=stats.speaking_seconds,
        decays=stats.decays,
        values=reader.values,
        clipped=reader.clipped,
    )
